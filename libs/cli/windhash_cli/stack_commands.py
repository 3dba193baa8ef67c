"""`windhash stack`: Start, stop and inspect the local stack (Kafka, PostgreSQL, DynamoDB Local)."""

import typer

app = typer.Typer(no_args_is_help=True, help="Start, stop and inspect the local stack (Kafka, PostgreSQL, DynamoDB Local).")
