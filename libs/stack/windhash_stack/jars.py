"""Jars from Maven Central through the checked-in Maven projects, fetched once and cached in the state dir."""

import hashlib
import shutil
import subprocess
import threading
from pathlib import Path

from windhash_stack.errors import StackError
from windhash_stack.prerequisites import find_maven

_STAMP = ".pom-sha256"
# Kafka and DynamoDB Local are prepared in parallel threads; two Mavens filling one empty ~/.m2 at once can
# corrupt the shared plugin downloads.
_MAVEN = threading.Lock()


def jars_current(pom: Path, target: Path) -> bool:
    """True when `target` already holds the jars of this exact pom (so Maven need not run at all)."""
    stamp = target / _STAMP
    return stamp.is_file() and stamp.read_text().strip() == _digest(pom)


def _digest(pom: Path) -> str:
    return hashlib.sha256(pom.read_bytes()).hexdigest()


def ensure_jars(pom: Path, target: Path) -> bool:
    """Copy the pom's runtime dependencies into `target` (reusing ~/.m2); True when it had to fetch them."""
    if not pom.is_file():
        raise StackError(
            f"The Maven project {pom} is missing: run from a checkout or set WINDHASH_STACK_DEPLOY_DIR."
        )
    with _MAVEN:
        if jars_current(pom, target):
            return False
        _fetch(pom, target)
        return True


def _fetch(pom: Path, target: Path) -> None:
    maven = find_maven()
    # Fetch beside the target and swap in at the end, so an interrupted fetch never looks complete.
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    command = [
        str(maven),
        "-B",
        "-q",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={partial}",
        "-DincludeScope=runtime",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last_lines = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise StackError(f"Maven could not fetch the jars of {pom} from Maven Central:\n{last_lines}")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    (target / _STAMP).write_text(_digest(pom) + "\n")
