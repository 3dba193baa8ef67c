"""Exports of the fact and summary tables as files, streamed in bounded memory (`windhash export`, the API's
admin downloads): `export_tables` says what each holds, `export_stream` writes it as CSV or Parquet."""
