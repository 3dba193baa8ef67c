"""Finding Debian's Prometheus (and promtool), Alertmanager and exporters, installing their packages where
missing (`prometheus`, `prometheus-alertmanager`, `prometheus-postgres-exporter`).

`windhash stack up --monitoring` and the observability tests call `ensure_prometheus()`; a Makefile can call
`python -m windhash_stack.monitoring_setup install`, which prints one sentence and exits 1 when it cannot.
"""

import os
import shutil
import subprocess
from pathlib import Path

from windhash_stack.errors import MissingPrerequisite

DEFAULT_PROMETHEUS = Path("/usr/bin/prometheus")
APT_PACKAGE = "prometheus"
_APT_TIMEOUT_S = 900.0


def find_prometheus(binary: Path = DEFAULT_PROMETHEUS) -> Path | None:
    if binary.is_file() and os.access(binary, os.X_OK):
        return binary
    found = shutil.which("prometheus")
    return Path(found) if found else None


def promtool_for(prometheus: Path) -> Path:
    """promtool ships in the same package, next to the server binary."""
    promtool = prometheus.with_name("promtool")
    if not promtool.is_file():
        raise MissingPrerequisite(f"promtool is missing next to {prometheus}: apt-get install {APT_PACKAGE}")
    return promtool


def _apt_get(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(
        ["apt-get", *args], capture_output=True, text=True, env=env, check=False, timeout=_APT_TIMEOUT_S
    )


def _last_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = (result.stderr or result.stdout).strip().splitlines()
    return lines[-1] if lines else f"exit status {result.returncode}"


def install_prometheus(package: str = APT_PACKAGE, what: str = "Prometheus") -> None:
    """`apt-get update && apt-get install -y <package>`; raises MissingPrerequisite with the reason."""
    hint = f"install Debian's `{package}` package yourself (sudo apt-get install {package})"
    if shutil.which("apt-get") is None:
        raise MissingPrerequisite(f"{what} is not installed and this system has no apt-get: {hint}.")
    for args in (("update",), ("install", "-y", "--no-install-recommends", package)):
        try:
            result = _apt_get(*args)
        except subprocess.TimeoutExpired:
            raise MissingPrerequisite(
                f"{what} could not be installed (apt-get {args[0]} timed out): {hint}."
            ) from None
        if result.returncode != 0:
            raise MissingPrerequisite(
                f"{what} could not be installed (apt-get {args[0]}: {_last_line(result)}): {hint}."
            )


def ensure_prometheus(binary: Path = DEFAULT_PROMETHEUS) -> Path:
    """The Prometheus server binary, installing Debian's package first when it is missing."""
    found = find_prometheus(binary)
    if found is None:
        install_prometheus()
        found = find_prometheus(binary)
    if found is None:
        raise MissingPrerequisite(
            f"apt-get installed {APT_PACKAGE} but no prometheus binary is at {binary} or on PATH."
        )
    return found


def ensure_debian_binary(binary: Path, package: str, what: str) -> Path:
    """`binary` (Alertmanager, an exporter), installing its Debian package first when it is missing."""
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        install_prometheus(package, what)
    if not binary.is_file():
        raise MissingPrerequisite(f"apt-get installed {package} but {binary} is not there.")
    return binary
