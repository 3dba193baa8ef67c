"""`windhash summaries`: Check and repair the summary tables."""

import typer

app = typer.Typer(no_args_is_help=True, help="Check and repair the summary tables.")
