"""The market service: 15-minute market snapshots, reference data kept current, hashprice, indicators."""
