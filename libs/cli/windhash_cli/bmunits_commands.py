"""`windhash bmunits`: The wind BM unit registry."""

import typer

app = typer.Typer(no_args_is_help=True, help="The wind BM unit registry.")
