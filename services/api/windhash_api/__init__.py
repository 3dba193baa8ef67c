"""windhash query API and dashboard: reads the summary and fact tables, serves JSON, CSV and a static page."""
