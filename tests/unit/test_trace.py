"""docs/TRACE.md stays true: every name it lists in backquotes (module.attribute, dotted) still exists."""

import importlib
import re
from pathlib import Path

import pytest
from windhash_stack.settings import find_repo_root

ROOT = find_repo_root(Path(__file__).resolve().parent) or Path(__file__).resolve().parents[2]
TRACE = ROOT / "docs" / "TRACE.md"
NAME = re.compile(r"`(windhash_[a-z_]+(?:\.[A-Za-z_][A-Za-z0-9_]*)+)`")


def listed_names() -> list[str]:
    return sorted(set(NAME.findall(TRACE.read_text())))


def resolve(dotted: str) -> object:
    """The longest importable module prefix, then attributes: `windhash_x.mod.func` or `windhash_x.mod`."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[split:]:
            found = getattr(found, attribute)
        return found
    raise ModuleNotFoundError(dotted)


def test_the_trace_lists_the_three_figures_hop_by_hop() -> None:
    text = TRACE.read_text()
    assert text.count("\n## ") == 3
    assert len(listed_names()) >= 25


@pytest.mark.parametrize("dotted", listed_names())
def test_every_name_the_trace_lists_exists(dotted: str) -> None:
    assert resolve(dotted) is not None
