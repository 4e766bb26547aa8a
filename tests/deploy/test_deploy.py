"""The deployment files: deploy/kubernetes/ (the Dockerfile: test_dockerfile.py).

There is no cluster here, so the files are checked for what `kubectl apply` would reject, and
for what would go wrong only in production: every manifest is validated against the Kubernetes
schemas (kubernetes-validate, bundled, offline), and the numbers and flags the files share with
the gateway are checked against the gateway's own parser and defaults.
"""

from __future__ import annotations

import argparse
import shlex
from functools import cache
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from gateway.access.credentials import CallerAuth, check_exposure
from gateway.config import CALLER_TOKENS_ENV, from_args
from gateway.main import build_parser
from gateway.server.process import SERVICE_NAME
from tests.helpers import REPO

MANIFESTS = sorted((REPO / "deploy" / "kubernetes").glob("*.yaml"))
# The oldest Kubernetes the manifests promise to work on (native gRPC probes are GA in 1.27),
# and the newest whose schemas kubernetes-validate bundles.
K8S_VERSIONS = ["1.30", kubernetes_validate.latest_version()]
# Seconds the gateway may need beyond --drain-delay and --shutdown-grace to close the upstream
# client and exit, before the kubelet's SIGKILL.
SHUTDOWN_MARGIN = 5
GRPC_PORT = 50051


# -- the Kubernetes manifests -----------------------------------------------------------------


def _parse_gateway_command(argv: list[str]) -> argparse.Namespace:
    """`sofer-gateway ARGV` parsed by the gateway's own parser; an unknown flag fails the test."""
    assert argv, "no command"
    try:
        return build_parser().parse_args(argv)
    except SystemExit:
        pytest.fail(f"`sofer-gateway {shlex.join(argv)}` is not a valid command line")


@cache
def _documents() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in MANIFESTS:
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.append((path.name, doc))
    return docs


def _one(kind: str) -> dict[str, Any]:
    found = [doc for _, doc in _documents() if doc["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def _pod_spec() -> dict[str, Any]:
    spec: dict[str, Any] = _one("Deployment")["spec"]["template"]["spec"]
    return spec


def _container() -> dict[str, Any]:
    (container,) = _pod_spec()["containers"]
    assert isinstance(container, dict)
    return container


def _serve_args() -> argparse.Namespace:
    """The container's args, run by the image's ENTRYPOINT, parsed by the gateway's parser."""
    container = _container()
    assert "command" not in container, "the image's ENTRYPOINT (sofer-gateway) runs the args"
    args = _parse_gateway_command([str(a) for a in container["args"]])
    assert args.command == "serve"
    return args


def _grpc_port() -> dict[str, Any]:
    (port,) = [p for p in _container()["ports"] if p["name"] == "grpc"]
    assert isinstance(port, dict)
    return port


def test_the_manifests_are_there() -> None:
    """deploy/kubernetes/ holds a Deployment, a Service, a PodDisruptionBudget and a
    NetworkPolicy."""
    assert {doc["kind"] for _, doc in _documents()} == {
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "NetworkPolicy",
    }


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize(("name", "doc"), _documents(), ids=[n for n, _ in _documents()])
def test_every_manifest_is_valid_kubernetes(name: str, doc: dict[str, Any], version: str) -> None:
    """Each manifest validates against the Kubernetes schemas (strict: no unknown fields, so a
    misspelt or misplaced key fails here, not silently in the cluster)."""
    assert_valid_kubernetes(name, doc, version)


def assert_valid_kubernetes(name: str, doc: dict[str, Any], version: str) -> None:
    """Fail the test, naming the file and the field, unless `doc` validates strictly against
    the schemas of Kubernetes `version` (also used by tests/deploy/test_replicas.py)."""
    try:
        kubernetes_validate.validate(doc, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        where = ".".join(str(p) for p in error.path)
        pytest.fail(f"{name}: {where}: {error.message}")


def test_the_args_are_flags_serve_knows() -> None:
    """The container's args are a `sofer-gateway serve` command line the gateway accepts,
    listening on all interfaces on the container's gRPC port."""
    args = _serve_args()
    host, port = args.listen.rsplit(":", 1)
    assert host == "0.0.0.0"
    assert int(port) == _grpc_port()["containerPort"] == GRPC_PORT


def test_the_probes_are_native_grpc_on_the_container_port() -> None:
    """Readiness and liveness are native gRPC probes (grpc.health.v1) on the port the gateway
    listens on, for services the gateway reports; no preStop hook (the drain is the
    gateway's own --drain-delay)."""
    container = _container()
    for kind in ("readinessProbe", "livenessProbe"):
        probe = container[kind]
        assert set(probe) & {"httpGet", "tcpSocket", "exec"} == set(), kind
        assert probe["grpc"]["port"] == _grpc_port()["containerPort"], kind
        assert probe["grpc"].get("service", "") in {"", SERVICE_NAME}, kind
    assert "preStop" not in container.get("lifecycle", {})


def test_the_grace_period_covers_the_gateways_shutdown() -> None:
    """terminationGracePeriodSeconds is at least --drain-delay + --shutdown-grace (the values
    in the args, or the gateway's defaults) + a 5 s margin: Kubernetes' SIGKILL never cuts the
    drain or the in-flight calls short."""
    args = _serve_args()
    assert args.drain_delay > 0, "the Deployment sets --drain-delay"
    needed = args.drain_delay + args.shutdown_grace + SHUTDOWN_MARGIN
    assert _pod_spec()["terminationGracePeriodSeconds"] >= needed


def test_the_probes_fit_the_drain() -> None:
    """The readiness probe notices a drain (NOT_SERVING) within --drain-delay, before the
    gateway stops taking calls; the liveness probe would take longer than the drain to fail,
    so a draining gateway is never restarted for saying NOT_SERVING."""
    args, container = _serve_args(), _container()

    def window(probe: dict[str, Any]) -> int:
        return int(probe.get("periodSeconds", 10)) * int(probe.get("failureThreshold", 3))

    assert window(container["readinessProbe"]) <= args.drain_delay
    assert window(container["livenessProbe"]) > args.drain_delay


def test_credentials_come_from_a_secret() -> None:
    """SOFER_API_KEY and SOFER_GATEWAY_CALLER_TOKENS come from a Secret, never a literal value
    in the manifest."""
    env = {e["name"]: e for e in _container()["env"]}
    for name in ("SOFER_API_KEY", CALLER_TOKENS_ENV):
        assert "value" not in env[name], name
        assert env[name]["valueFrom"]["secretKeyRef"]["name"], name


def test_the_gateway_would_start_with_these_settings() -> None:
    """With the args and a key and caller tokens as the Secret provides them, the gateway's
    start-up checks pass: the key is not exposed, because callers must authenticate."""
    environ = {"SOFER_API_KEY": "a-key", CALLER_TOKENS_ENV: "sgw_" + "c" * 24}
    config = from_args(_serve_args(), environ)
    check_exposure(config, CallerAuth.from_config(config, mtls=False))


def test_the_pod_runs_unprivileged_on_a_read_only_root() -> None:
    """The pod runs as non-root, the container with a read-only root filesystem, no privilege
    escalation and no capabilities."""
    assert _pod_spec()["securityContext"]["runAsNonRoot"] is True
    context = _container()["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"]["drop"] == ["ALL"]


def test_the_container_has_resource_requests_and_limits() -> None:
    """CPU and memory are requested (for scheduling) and limited (memory: OOM-kill rather than
    starve the node)."""
    resources = _container()["resources"]
    for bound in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(resources[bound]), bound


def test_the_service_and_the_budget_select_the_gateways_pods() -> None:
    """The Service sends its gRPC port (named and marked grpc) to the container's gRPC port,
    and the Service and the PodDisruptionBudget select the Deployment's pods."""
    labels = _one("Deployment")["spec"]["template"]["metadata"]["labels"]
    service = _one("Service")["spec"]
    assert service["selector"].items() <= labels.items()
    (port,) = service["ports"]
    assert port["name"] == "grpc" or port.get("appProtocol") == "grpc"
    assert port["targetPort"] in {_grpc_port()["name"], _grpc_port()["containerPort"]}
    budget = _one("PodDisruptionBudget")["spec"]
    assert budget["selector"]["matchLabels"].items() <= labels.items()


def test_the_deploy_readme_explains_every_file_and_flag() -> None:
    """deploy/README.md names each manifest and each flag the Deployment sets."""
    readme = (REPO / "deploy" / "README.md").read_text()
    for path in MANIFESTS:
        assert path.name in readme
    for arg in _container()["args"]:
        if str(arg).startswith("--"):
            assert f"`{arg}" in readme, arg
