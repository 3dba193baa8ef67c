"""`windhash difficulty`: Bitcoin network difficulty history (DynamoDB)."""

import typer

app = typer.Typer(no_args_is_help=True, help="Bitcoin network difficulty history (DynamoDB).")
