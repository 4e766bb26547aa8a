"""What the deployment examples let through: the metrics port (no authentication, any path)
reachable by the scraper only, and no secret on a command line, where the process list of the
node shows it. Offline, on the manifests as tests/deploy/test_deploy.py reads them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import REPO

Doc = dict[str, Any]
DIRECTORIES = [REPO / "deploy" / "kubernetes", REPO / "deploy" / "kubernetes-replicas"]
COMPOSE = REPO / "deploy" / "compose" / "compose.yaml"
PASSWORD_FLAGS = {"--requirepass", "--masterauth", "-a", "--pass", "--password"}


def _docs(directory: Path) -> list[Doc]:
    return [
        doc
        for path in sorted(directory.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]


def _gateway_pod(docs: list[Doc]) -> Doc:
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    pod: Doc = deployment["spec"]["template"]
    return pod


def _pods(docs: list[Doc]) -> list[Doc]:
    return [d["spec"]["template"] for d in docs if d["kind"] in {"Deployment", "StatefulSet"}]


def _matches(selector: Doc, labels: dict[str, str]) -> bool:
    wanted: dict[str, str] = selector.get("matchLabels", {})
    return bool(wanted) and wanted.items() <= labels.items()


def _port_names(rule: Doc, container_ports: list[Doc]) -> set[str]:
    """The container ports (by name) a rule's `ports` admit."""
    names = set()
    for port in rule.get("ports", []):
        for known in container_ports:
            if port["port"] in (known["name"], known["containerPort"]):
                names.add(known["name"])
    return names


@pytest.mark.parametrize("directory", DIRECTORIES, ids=lambda d: d.name)
def test_the_metrics_port_admits_the_scraper_only(directory: Path) -> None:
    """A NetworkPolicy selects the gateway's pods for ingress and names the metrics port in a
    rule whose every peer is a pod or namespace selector that matches something specific (no
    `{}`, no IP block); no rule admits the metrics port from everyone, and the gRPC port stays
    open (a policy that forgot it would shut every caller out)."""
    docs = _docs(directory)
    pod = _gateway_pod(docs)
    labels = pod["metadata"]["labels"]
    (container,) = pod["spec"]["containers"]
    ports = container["ports"]
    assert {p["name"] for p in ports} == {"grpc", "metrics"}
    policies = [
        d
        for d in docs
        if d["kind"] == "NetworkPolicy" and _matches(d["spec"]["podSelector"], labels)
    ]
    (policy,) = policies
    assert "Ingress" in policy["spec"]["policyTypes"]
    rules = policy["spec"]["ingress"]
    metrics = [r for r in rules if "metrics" in _port_names(r, ports)]
    assert metrics, "no rule names the metrics port"
    for rule in metrics:
        peers = rule.get("from", [])
        assert peers, "the metrics port is open to everyone"
        for peer in peers:
            assert "ipBlock" not in peer
            selectors = [peer[k] for k in ("namespaceSelector", "podSelector") if k in peer]
            assert selectors
            assert all(s.get("matchLabels") or s.get("matchExpressions") for s in selectors)
    assert any("grpc" in _port_names(r, ports) for r in rules)


def _secret_variables(container: Doc) -> set[str]:
    return {e["name"] for e in container.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})}


def _command_line(container: Doc) -> list[str]:
    return [str(a) for a in (*container.get("command", []), *container.get("args", []))]


@pytest.mark.parametrize("directory", DIRECTORIES, ids=lambda d: d.name)
def test_no_container_command_line_carries_a_secret(directory: Path) -> None:
    """No container's command or args holds a $(VAR) reference to a variable from a Secret
    (the kubelet would expand it into the process's command line), nor a password flag such
    as Redis's --requirepass."""
    for pod in _pods(_docs(directory)):
        spec = pod["spec"]
        for container in (*spec.get("initContainers", []), *spec["containers"]):
            line = _command_line(container)
            referenced = set(re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", " ".join(line)))
            assert not referenced & _secret_variables(container), (container["name"], line)
            assert not PASSWORD_FLAGS & set(line), (container["name"], line)


def test_no_compose_command_line_carries_a_secret() -> None:
    """The compose services' commands hold no ${VAR} reference and no password flag."""
    services: dict[str, Doc] = yaml.safe_load(COMPOSE.read_text())["services"]
    for name, service in services.items():
        command = service.get("command", [])
        line = command if isinstance(command, list) else str(command).split()
        assert not [a for a in map(str, line) if "${" in a], name
        assert not PASSWORD_FLAGS & set(map(str, line)), name
