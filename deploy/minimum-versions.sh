#!/usr/bin/env bash
# Proves the minimum versions in pyproject.toml: resolves the lowest version of every direct dependency that
# the constraints allow (uv's --resolution lowest-direct) into a scratch venv, imports every windhash module
# and runs the unit tests there. `make minimum-versions`; uv comes from PyPI into the scratch folder.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="${TMPDIR:-/tmp}/windhash-minimum-versions"
rm -rf "$scratch"
python3 -m venv "$scratch/tools"
"$scratch/tools/bin/pip" install --quiet uv
uv="$scratch/tools/bin/uv"
"$uv" venv --quiet -p python3.11 "$scratch/venv"
VIRTUAL_ENV="$scratch/venv" "$uv" pip install --quiet --resolution lowest-direct .
# The test runner afterwards, resolved normally: "lowest" applies to windhash's own dependencies only.
VIRTUAL_ENV="$scratch/venv" "$uv" pip install --quiet pytest pytest-asyncio pytest-timeout hypothesis pyyaml pypdf
VIRTUAL_ENV="$scratch/venv" "$uv" pip list --quiet 2>/dev/null | head -80
(cd "$scratch" && "$scratch/venv/bin/python" - <<'PY'
import importlib
import pkgutil
import sys

PACKAGES = [
    "windhash_common", "windhash_stack", "windhash_elexon_sim", "windhash_market_sim", "windhash_fleet_sim",
    "windhash_ingestor", "windhash_calculator", "windhash_aggregator", "windhash_reconciler", "windhash_api",
    "windhash_cli", "windhash_market", "windhash_fleet", "windhash_sim_support",
]
failed, imported = [], 0
for top in PACKAGES:
    package = importlib.import_module(top)
    for found in pkgutil.walk_packages(package.__path__, f"{top}."):
        if found.name.endswith("__main__"):
            continue
        try:
            importlib.import_module(found.name)
            imported += 1
        except Exception as error:
            failed.append(f"{found.name}: {type(error).__name__}: {error}")
print(f"{imported} modules imported at the minimum versions")
print("\n".join(failed))
sys.exit(1 if failed else 0)
PY
)
# The unit tests that need the checkout itself (the stack's files) or a dev-only library (TA-Lib) are left out:
# the package is installed, not editable, here.
"$scratch/venv/bin/python" -m pytest -q -p no:cacheprovider tests/unit \
  --ignore tests/unit/test_market_indicators.py --ignore tests/unit/test_stack_config.py \
  --ignore tests/unit/test_stack_prerequisites.py --ignore tests/unit/test_stack_processes.py \
  --deselect tests/unit/test_monitoring_config.py::test_every_windhash_metric_is_on_a_dashboard
