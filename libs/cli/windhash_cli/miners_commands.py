"""`windhash miners`: Miner models."""

import typer

app = typer.Typer(no_args_is_help=True, help="Miner models.")
