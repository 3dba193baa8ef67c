"""`windhash NAME` imports only NAME's module: `windhash ingest range` starts without the rest of the
project (boto, the stack's servers), and every command is still there."""

import subprocess
import sys

import typer
from typer.main import get_command
from windhash_cli.main import COMMANDS, GROUPS, build_app


def test_the_full_app_has_every_command_and_group() -> None:
    command = get_command(build_app())
    assert isinstance(command, typer.core.TyperGroup)
    assert set(command.commands) == set(GROUPS) | set(COMMANDS)


def test_an_app_built_for_one_command_is_still_a_group_of_that_command() -> None:
    for name in ("demo", "ingest"):
        command = get_command(build_app(name))
        assert isinstance(command, typer.core.TyperGroup)
        assert set(command.commands) == {name}


def test_ingest_starts_without_importing_the_other_commands() -> None:
    script = (
        "import sys\n"
        "sys.argv = ['windhash', 'ingest', '--help']\n"
        "from windhash_cli.main import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in ('aioboto3', 'windhash_stack', 'windhash_reconciler', 'fastapi')"
        " if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "Fetch Elexon settlement data" in result.stdout
    assert "HEAVY []" in result.stdout
