"""Command-line chores of the monitoring files (kept out of the package's imports, so `-m` runs it cleanly):

python -m windhash_stack.monitoring_setup install   # Debian's prometheus package where missing
python -m windhash_stack.monitoring_setup render    # rewrite the rendered files under deploy/prometheus
"""

import sys

from windhash_stack.errors import MissingPrerequisite
from windhash_stack.prometheus_config import write_checked_in_configs
from windhash_stack.prometheus_install import ensure_prometheus

USAGE = "usage: python -m windhash_stack.monitoring_setup install|render"


def main(args: list[str]) -> int:
    if args == ["install"]:
        try:
            print(f"Prometheus: {ensure_prometheus()}")
        except MissingPrerequisite as error:
            print(error, file=sys.stderr)
            return 1
        return 0
    if args == ["render"]:
        for written in write_checked_in_configs():
            print(f"wrote {written}")
        return 0
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
