"""`windhash ingest`: Fetch Elexon settlement data and publish settlement-period events."""

import typer

app = typer.Typer(no_args_is_help=True, help="Fetch Elexon settlement data and publish settlement-period events.")
