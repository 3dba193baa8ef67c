"""The `windhash` command line: one entry point for the stack, the services, the data tools and the demo."""

import typer

from windhash_cli import (
    bench_commands,
    bmunits_commands,
    db_commands,
    demo_commands,
    difficulty_commands,
    elexon_commands,
    ingest_commands,
    miners_commands,
    prices_commands,
    reconcile_commands,
    services_commands,
    stack_commands,
    summaries_commands,
)

app = typer.Typer(
    no_args_is_help=True,
    help="windhash: the Bitcoin that Great Britain's curtailed wind energy could have mined.",
)
app.add_typer(stack_commands.app, name="stack")
app.add_typer(db_commands.app, name="db")
app.add_typer(ingest_commands.app, name="ingest")
app.add_typer(bmunits_commands.app, name="bmunits")
app.add_typer(miners_commands.app, name="miners")
app.add_typer(difficulty_commands.app, name="difficulty")
app.add_typer(prices_commands.app, name="prices")
app.add_typer(summaries_commands.app, name="summaries")
app.add_typer(reconcile_commands.app, name="reconcile")
app.command("demo")(demo_commands.demo)
app.command("elexon-sim")(elexon_commands.elexon_sim)
app.command("ingestor")(services_commands.ingestor)
app.command("calculator")(services_commands.calculator)
app.command("aggregator")(services_commands.aggregator)
app.command("api")(services_commands.api)
app.command("bench")(bench_commands.bench)
