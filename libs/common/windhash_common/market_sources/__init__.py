"""Clients of the public market-data sources (a mempool.space-style explorer, a CoinGecko-style price API),
shared by the market service and the CLI: one implementation of each request and of its retry rules."""
