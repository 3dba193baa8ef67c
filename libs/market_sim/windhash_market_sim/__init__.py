"""A local server speaking a mempool.space-style explorer's and a CoinGecko-style price API's JSON, with
deterministic SYNTHETIC data from 2019 on and fault injection (`windhash market-sim`)."""
