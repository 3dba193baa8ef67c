"""deploy/kubernetes, validated by a real schema validator: kubeconform (built from the Go module proxy by
deploy/local/install-kubeconform.sh) against the Kubernetes 1.33 schemas, strict (no unknown field), offline
(the schemas come from the kubernetes-validate package). Also: the files are the rendering of
windhash_cli.kubernetes_manifests, and they keep the deployment's rules (own database role, probes on
/health and /ready, unprivileged, read-only, pinned image). Docker and a cluster are not available here:
nothing is applied."""

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from windhash_cli.kubernetes_manifests import IMAGE, WORKLOADS, manifests, manifests_dir, render
from windhash_stack.settings import find_repo_root
from windhash_testing.kubernetes_schemas import standalone_schemas

ROOT = find_repo_root(Path(__file__).resolve().parent) or Path(__file__).resolve().parents[2]
KUBECONFORM = ROOT / ".windhash" / "tools" / "kubeconform"
KINDS = {
    "namespace-v1",
    "serviceaccount-v1",
    "configmap-v1",
    "service-v1",
    "deployment-apps-v1",
    "job-batch-v1",
    "poddisruptionbudget-policy-v1",
}


@pytest.fixture(scope="module")
def kubeconform() -> Path:
    installed = subprocess.run(
        [str(ROOT / "deploy" / "local" / "install-kubeconform.sh")], capture_output=True, text=True
    )
    assert installed.returncode == 0, installed.stderr
    return KUBECONFORM


@pytest.fixture(scope="module")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return standalone_schemas(tmp_path_factory.mktemp("kubernetes-schemas"), KINDS)


def validate(kubeconform: Path, schemas: Path, *paths: Path) -> tuple[int, dict[str, Any]]:
    result = subprocess.run(
        [
            str(kubeconform),
            "-strict",
            "-summary",
            "-output",
            "json",
            "-schema-location",
            f"{schemas}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, json.loads(result.stdout)


def test_the_manifests_are_valid_kubernetes_resources(kubeconform: Path, schemas: Path) -> None:
    files = sorted(manifests_dir().glob("*.yaml"))
    code, report = validate(kubeconform, schemas, *files)
    summary = report["summary"]
    documents = sum(len(documents) for documents in manifests().values())
    assert (code, summary["valid"], summary["invalid"], summary["errors"], summary["skipped"]) == (
        0,
        documents,
        0,
        0,
        0,
    ), report


def test_the_validator_refuses_an_unknown_field_and_a_wrong_type(
    kubeconform: Path, schemas: Path, tmp_path: Path
) -> None:
    [calculator] = [d for d in manifests()["20-workers.yaml"] if d["metadata"]["name"] == "calculator"]
    calculator["spec"]["replicas"] = "three"
    calculator["spec"]["template"]["spec"]["containers"][0]["livenessprobe"] = {}
    broken = tmp_path / "broken.yaml"
    broken.write_text(render([calculator]))
    code, report = validate(kubeconform, schemas, broken)
    assert code != 0 and report["summary"]["invalid"] == 1
    message = report["resources"][0]["msg"]
    assert "livenessprobe" in message and "/spec/replicas" in message


def test_the_checked_in_manifests_are_the_rendering() -> None:
    for name, documents in manifests().items():
        assert (manifests_dir() / name).read_text() == render(documents), (
            "run `python -m windhash_cli.kubernetes_manifests --write`"
        )


def test_every_workload_runs_unprivileged_as_its_own_role_and_is_probed() -> None:
    loaded = [
        doc
        for path in sorted(manifests_dir().glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]
    deployments = {doc["metadata"]["name"]: doc for doc in loaded if doc["kind"] == "Deployment"}
    assert set(deployments) == {workload.name for workload in WORKLOADS}
    for workload in WORKLOADS:
        pod = deployments[workload.name]["spec"]["template"]["spec"]
        [container] = pod["containers"]
        assert container["image"] == IMAGE and pod["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        dsn = next(env for env in container["env"] if env["name"] == "WINDHASH_DATABASE_URL")
        assert (
            dsn["valueFrom"]["secretKeyRef"]["key"] == f"{workload.role.value.removeprefix('windhash_')}-dsn"
        )
        assert container["livenessProbe"]["httpGet"]["path"] == "/health"
        assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
        port = next(
            p for p in container["ports"] if p["name"] == container["readinessProbe"]["httpGet"]["port"]
        )
        assert port["containerPort"] == workload.port
