"""`windhash reconcile`: Reconciliation: status, analysis, repair by replay."""

import typer

app = typer.Typer(no_args_is_help=True, help="Reconciliation: status, analysis, repair by replay.")
