"""`windhash prices`: Daily BTC prices."""

import typer

app = typer.Typer(no_args_is_help=True, help="Daily BTC prices.")
