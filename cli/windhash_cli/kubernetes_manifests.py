"""deploy/kubernetes: the same system as docker-compose.yml for a Kubernetes cluster, rendered from one table.

    python -m windhash_cli.kubernetes_manifests --write     # rewrite deploy/kubernetes/*.yaml

Kafka, PostgreSQL and DynamoDB are the cluster's (managed services, or operators such as Strimzi and
CloudNativePG): windhash's manifests run its own services, an init Job (database roles, migrations as the
owner, reference data) and the Services, PodDisruptionBudgets and configuration around them. Every Deployment
runs the one image as an unprivileged user on a read-only filesystem, connects to PostgreSQL as its own role
(the Secret `windhash-database`, one DSN per role: deploy/kubernetes/README.md), and is probed on /health
(liveness) and /ready (readiness). tests/integration/test_deploy_manifests.py validates the files with
kubeconform against the Kubernetes schemas and checks them against this table.
"""

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from windhash_common.db_roles import COMMAND_ROLES, DatabaseRole
from windhash_stack.settings import find_repo_root

IMAGE = "windhash:0.1.0"
NAMESPACE = "windhash"
USER_ID = 10001
LABEL = "app.kubernetes.io/name"


@dataclass(frozen=True)
class Workload:
    name: str
    command: tuple[str, ...]
    replicas: int
    port: int
    role: DatabaseRole
    cpu: str = "250m"
    memory: str = "384Mi"
    # An HTTP service's settings prefix (WINDHASH_API_HOST/_PORT, WINDHASH_CRM_...): it answers /health,
    # /ready and /metrics on that port; a worker on WINDHASH_METRICS_PORT.
    http: str | None = None
    extra_env: tuple[tuple[str, str], ...] = ()
    # A Service in front (the API's forwarding reaches the market's routes on its metrics port).
    exposed: bool = False

    @property
    def probe_port(self) -> str:
        return "http" if self.http else "metrics"


# How many of each run: the consumers scale by partitions (6 by default), the API is stateless, the others
# hold job leases or follow one source (docs/ARCHITECTURE.md, "Scaling out").
WORKLOADS = (
    Workload("ingestor", ("ingestor",), 1, 9101, COMMAND_ROLES["ingestor"]),
    Workload("calculator", ("calculator",), 3, 9102, COMMAND_ROLES["calculator"], "500m", "512Mi"),
    Workload("aggregator", ("aggregator",), 2, 9103, COMMAND_ROLES["aggregator"]),
    Workload("reconciler", ("reconciler",), 1, 9104, COMMAND_ROLES["reconciler"]),
    Workload("market", ("market",), 1, 9105, COMMAND_ROLES["market"], exposed=True),
    Workload("fleet-collector", ("fleet", "collector"), 2, 9106, COMMAND_ROLES["fleet"]),
    Workload(
        "fleet-writer",
        ("fleet", "writer"),
        2,
        9107,
        COMMAND_ROLES["fleet"],
        "500m",
        "512Mi",
        extra_env=(("WINDHASH_FLEET_WRITER_METRICS_PORT", "9107"),),
    ),
    Workload("plans", ("plans",), 2, 9108, COMMAND_ROLES["plans"]),
    Workload(
        "api",
        ("api",),
        2,
        8080,
        COMMAND_ROLES["api"],
        "500m",
        "512Mi",
        http="API",
        # The single origin: /api/v1/<context>/... forwarded to each context service's Service.
        extra_env=(
            (
                "WINDHASH_API_UPSTREAMS",
                '{"market": "http://market.windhash.svc", "crm": "http://crm.windhash.svc", '
                '"fleet": "http://fleet-api.windhash.svc", "plans": "http://plans-api.windhash.svc"}',
            ),
        ),
    ),
    Workload(
        "crm",
        ("crm",),
        2,
        8084,
        COMMAND_ROLES["crm"],
        http="CRM",
        # Reached only through the api, whose X-Forwarded-For it believes: the cluster's pod network.
        extra_env=(("WINDHASH_API_TRUSTED_PROXIES", "10.0.0.0/8"),),
    ),
    Workload(
        "fleet-api",
        ("fleet-api",),
        2,
        8086,
        COMMAND_ROLES["fleet-api"],
        http="FLEET_API",
        extra_env=(("WINDHASH_API_TRUSTED_PROXIES", "10.0.0.0/8"),),
    ),
    Workload(
        "plans-api",
        ("plans-api",),
        2,
        8087,
        COMMAND_ROLES["plans-api"],
        http="PLANS_API",
        extra_env=(("WINDHASH_API_TRUSTED_PROXIES", "10.0.0.0/8"),),
    ),
)
CONFIG = {
    "WINDHASH_KAFKA_BOOTSTRAP": "kafka-bootstrap.kafka.svc:9092",
    "WINDHASH_TOPIC_PARTITIONS": "6",
    "WINDHASH_TOPIC_REPLICATION_FACTOR": "3",
    "WINDHASH_TOPIC_MIN_INSYNC_REPLICAS": "2",
    # AWS's DynamoDB through the pod's role (IRSA, pod identity): no endpoint, no keys.
    "WINDHASH_DYNAMODB_ENDPOINT": "",
    "WINDHASH_AWS_REGION": "eu-west-2",
    "WINDHASH_ELEXON_BASE_URL": "https://data.elexon.co.uk/bmrs/api/v1",
    "WINDHASH_EXPLORER_URL": "https://mempool.space",
    "WINDHASH_PRICE_API_URL": "https://api.coingecko.com",
    "WINDHASH_LOG_JSON": "true",
    "WINDHASH_METRICS_HOST": "0.0.0.0",
}


def _metadata(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": NAMESPACE,
        "labels": {LABEL: name, "app.kubernetes.io/part-of": "windhash"},
        **extra,
    }


def _secret_env(
    name: str, key: str, secret: str = "windhash-database", optional: bool = False
) -> dict[str, Any]:
    reference: dict[str, Any] = {"name": secret, "key": key}
    if optional:
        reference["optional"] = True
    return {"name": name, "valueFrom": {"secretKeyRef": reference}}


def _dsn_key(role: DatabaseRole) -> str:
    return f"{role.value.removeprefix('windhash_')}-dsn"


def _container(workload: Workload) -> dict[str, Any]:
    env = [_secret_env("WINDHASH_DATABASE_URL", _dsn_key(workload.role))]
    env += [
        _secret_env("WINDHASH_KAFKA_SASL_USERNAME", "username", "windhash-kafka", optional=True),
        _secret_env("WINDHASH_KAFKA_SASL_PASSWORD", "password", "windhash-kafka", optional=True),
    ]
    if workload.http:
        env += [
            {"name": f"WINDHASH_{workload.http}_HOST", "value": "0.0.0.0"},
            {"name": f"WINDHASH_{workload.http}_PORT", "value": str(workload.port)},
        ]
    else:
        env += [{"name": "WINDHASH_METRICS_PORT", "value": str(workload.port)}]
    env += [{"name": name, "value": value} for name, value in workload.extra_env]

    def probe(path: str, period: int) -> dict[str, Any]:
        return {
            "httpGet": {"path": path, "port": workload.probe_port},
            "periodSeconds": period,
            "timeoutSeconds": 5,
        }

    return {
        "name": workload.name,
        "image": IMAGE,
        "args": list(workload.command),
        "envFrom": [{"configMapRef": {"name": "windhash-config"}}],
        "env": env,
        "ports": [{"name": workload.probe_port, "containerPort": workload.port}],
        "livenessProbe": {**probe("/health", 15), "failureThreshold": 4},
        "readinessProbe": {**probe("/ready", 5), "failureThreshold": 2},
        "startupProbe": {**probe("/health", 5), "failureThreshold": 24},
        "resources": {
            "requests": {"cpu": workload.cpu, "memory": workload.memory},
            "limits": {"memory": workload.memory},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def _pod_spec(containers: list[dict[str, Any]], restart: str = "Always") -> dict[str, Any]:
    return {
        "serviceAccountName": "windhash",
        "automountServiceAccountToken": False,
        "restartPolicy": restart,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": USER_ID,
            "runAsGroup": USER_ID,
            "fsGroup": USER_ID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": containers,
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
    }


def deployment(workload: Workload) -> dict[str, Any]:
    selector = {LABEL: workload.name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(workload.name),
        "spec": {
            "replicas": workload.replicas,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {
                    "labels": {**selector, "app.kubernetes.io/part-of": "windhash"},
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(workload.port),
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": {**_pod_spec([_container(workload)]), "terminationGracePeriodSeconds": 45},
            },
        },
    }


def service(workload: Workload) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(workload.name),
        "spec": {
            "selector": {LABEL: workload.name},
            "ports": [{"name": "http", "port": 80, "targetPort": workload.probe_port}],
        },
    }


def disruption_budget(workload: Workload) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _metadata(workload.name),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {LABEL: workload.name}}},
    }


_ROLE_NAMES = " ".join(role.value.removeprefix("windhash_") for role in DatabaseRole)
INIT_SCRIPT = f"""umask 077
: > /tmp/pgpass
for role in {_ROLE_NAMES}; do
  printf '*:*:*:windhash_%s:%s\\n' "$role" "$(printenv "PG_$(echo "$role" | tr a-z A-Z)")" >> /tmp/pgpass
done
WINDHASH_DATABASE_URL="$SUPERUSER_DSN" windhash db roles --passfile /tmp/pgpass
WINDHASH_DATABASE_URL="$OWNER_DSN" windhash db migrate
export WINDHASH_DATABASE_URL="$OPERATOR_DSN"
windhash bmunits sync && windhash difficulty sync && windhash prices sync
"""


def init_job() -> dict[str, Any]:
    """Roles (as the superuser), migrations (as the owner), reference data (as the operator): run it once
    per release before the Deployments roll (a Helm hook or an Argo CD sync wave does that)."""
    env = [
        _secret_env("SUPERUSER_DSN", "superuser-dsn"),
        _secret_env("OWNER_DSN", _dsn_key(DatabaseRole.OWNER)),
        _secret_env("OPERATOR_DSN", _dsn_key(DatabaseRole.OPERATOR)),
        *(
            _secret_env(
                f"PG_{role.value.removeprefix('windhash_').upper()}",
                f"{role.value.removeprefix('windhash_')}-password",
            )
            for role in DatabaseRole
        ),
    ]
    container = {
        "name": "init",
        "image": IMAGE,
        "command": ["sh", "-c", INIT_SCRIPT],
        "envFrom": [{"configMapRef": {"name": "windhash-config"}}],
        "env": env,
        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _metadata("windhash-init"),
        "spec": {"backoffLimit": 6, "template": {"spec": _pod_spec([container], restart="OnFailure")}},
    }


def manifests() -> dict[str, list[dict[str, Any]]]:
    """File name → the documents it holds."""
    http = [workload for workload in WORKLOADS if workload.http]
    return {
        "00-namespace.yaml": [
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": NAMESPACE,
                    "labels": {"pod-security.kubernetes.io/enforce": "restricted"},
                },
            },
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": _metadata("windhash"),
                "automountServiceAccountToken": False,
            },
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": _metadata("windhash-config"),
                "data": CONFIG,
            },
        ],
        "10-init-job.yaml": [init_job()],
        "20-workers.yaml": [
            document
            for workload in WORKLOADS
            if not workload.http
            for document in (deployment(workload), *([service(workload)] if workload.exposed else []))
        ],
        "30-http.yaml": [
            document for workload in http for document in (deployment(workload), service(workload))
        ],
        "40-disruption-budgets.yaml": [
            disruption_budget(workload) for workload in WORKLOADS if workload.replicas > 1
        ],
    }


HEADER = "# Rendered by windhash_cli.kubernetes_manifests; edit that module, not this file.\n"


def render(documents: list[dict[str, Any]]) -> str:
    import yaml  # a dev dependency: rendering the checked-in files is a developer's chore

    return HEADER + "".join(
        "---\n" + yaml.safe_dump(document, sort_keys=False, width=110) for document in documents
    )


def manifests_dir() -> Path:
    root = find_repo_root(Path(__file__).resolve().parent) or Path.cwd()
    return root / "deploy" / "kubernetes"


def write() -> list[Path]:
    written = []
    for name, documents in manifests().items():
        path = manifests_dir() / name
        path.write_text(render(documents))
        written.append(path)
    return written


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        for path in write():
            print(f"wrote {path}")
    else:
        for documents in manifests().values():
            sys.stdout.write(render(documents))
