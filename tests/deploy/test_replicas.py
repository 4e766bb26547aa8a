"""The multi-replica examples: deploy/kubernetes-replicas/ (three replicas sharing Redis) and
deploy/compose/ (two replicas, Redis and Envoy in front of the sandbox).

No cluster, no Docker daemon: the files are checked for what `kubectl apply`, `docker compose`
or Envoy would reject (the Kubernetes schemas through kubernetes-validate, the compose spec
through check-jsonschema's vendored schema, Envoy's own API through envoy-data-plane, all
strict and offline), and for what would go wrong only when running: every gateway flag and
variable is parsed by the gateway's own parser and start-up checks, and every name one file
gives another (the Redis URL, the upstream URL, Envoy's endpoints) is checked to exist there.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import re
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic.warnings import PydanticDeprecationWarning
from sofer.batch.v1 import batch_service_pb2

from gateway.access.credentials import CallerAuth, check_exposure
from gateway.cli.commands import TARGET_ENV
from gateway.config import CALLER_TOKENS_ENV, ENV_PREFIX, GatewayConfig, env_name, from_args
from gateway.server.process import SERVICE_NAME
from gateway.state.redis_client import KEY_SECRET_ENV, redis_settings
from tests.deploy.test_deploy import (
    GRPC_PORT,
    K8S_VERSIONS,
    SHUTDOWN_MARGIN,
    _one,
    _parse_gateway_command,
    assert_valid_kubernetes,
)
from tests.helpers import REPO

Doc = dict[str, Any]

REPLICAS_DIR = REPO / "deploy" / "kubernetes-replicas"
MANIFESTS = sorted(REPLICAS_DIR.glob("*.yaml"))
COMPOSE_DIR = REPO / "deploy" / "compose"
COMPOSE = COMPOSE_DIR / "compose.yaml"
ENVOY = COMPOSE_DIR / "envoy.yaml"
REPLICAS = 3
SECRET_NAME = "sofer-gateway"
# Variables the gateway's process reads besides one per `serve` flag: the caller tokens, the
# Redis key secret, the log level (gateway/main.py) and the health command's target (the image's
# HEALTHCHECK runs in the same container).
OTHER_GATEWAY_VARIABLES = {CALLER_TOKENS_ENV, KEY_SECRET_ENV, "SOFER_GATEWAY_LOG_LEVEL", TARGET_ENV}
# Variables that hold secrets: they must come from a Secret (Kubernetes) or the shell (compose).
SECRET_VARIABLES = {"SOFER_API_KEY", CALLER_TOKENS_ENV, KEY_SECRET_ENV, "REDIS_PASSWORD"}
# Envoy retry conditions under which the gateway never saw the call (RFC 9113 8.7: a refused
# stream was not processed), the only ones safe for a create without a request_id.
UNPROCESSED_RETRY_ON = {"connect-failure", "refused-stream", "reset-before-request"}
# What a Secret's value stands in as: URL-safe, as deploy/README.md says to make them, and a
# caller token of the form the gateway requires.
STAND_IN = "s" * 40
STAND_INS = {CALLER_TOKENS_ENV: "sgw_" + "c" * 24}


def _known_gateway_variables() -> set[str]:
    flagged = {env_name(f.name) for f in dataclasses.fields(GatewayConfig) if "help" in f.metadata}
    return flagged | OTHER_GATEWAY_VARIABLES


def _seconds(duration: str) -> float:
    """A Compose or Envoy duration ("30s", "1m30s", "0s", "2.5s") in seconds."""
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+(?:\.\d+)?)s)?", duration)
    assert duration, "an empty duration"
    assert parts, f"not a duration: {duration!r}"
    hours, minutes, seconds = (float(p) if p else 0.0 for p in parts.groups())
    return hours * 3600 + minutes * 60 + seconds


def _expand(value: str, defined: dict[str, str]) -> str:
    """A Kubernetes env value with its $(VAR) references expanded as the kubelet does: only
    variables defined earlier in the list; any other reference stays as it is, literally."""
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: defined.get(m[1], m[0]), value)


# -- deploy/kubernetes-replicas/ --------------------------------------------------------------


@cache
def _k8s() -> list[tuple[str, Doc]]:
    docs = []
    for path in MANIFESTS:
        docs += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return docs


def _k8s_all(kind: str) -> list[Doc]:
    return [doc for _, doc in _k8s() if doc["kind"] == kind]


def _k8s_one(kind: str, name: str = "sofer-gateway") -> Doc:
    (found,) = [doc for doc in _k8s_all(kind) if doc["metadata"]["name"] == name]
    return found


def _gateway_container() -> Doc:
    (container,) = _k8s_one("Deployment")["spec"]["template"]["spec"]["containers"]
    assert isinstance(container, dict)
    return container


def _redis_pod() -> Doc:
    (statefulset,) = _k8s_all("StatefulSet")
    pod: Doc = statefulset["spec"]["template"]
    return pod


def _gateway_environment(container: Doc) -> dict[str, str]:
    """The container's environment as the gateway would see it, with a stand-in value for each
    variable from a Secret."""
    env: dict[str, str] = {}
    for entry in container.get("env", []):
        if "valueFrom" in entry:
            env[entry["name"]] = STAND_INS.get(entry["name"], STAND_IN)
        else:
            env[entry["name"]] = _expand(str(entry["value"]), env)
    return env


def _labels_match(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and selector.items() <= labels.items()


def test_the_replicas_manifests_are_there() -> None:
    """deploy/kubernetes-replicas/ holds the gateway's Deployment, Services and budget, and
    Redis: its StatefulSet, Services, configuration and network policy."""
    kinds = {doc["kind"] for _, doc in _k8s()}
    assert kinds == {
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "StatefulSet",
        "ConfigMap",
        "NetworkPolicy",
    }


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize(
    ("name", "doc"), _k8s(), ids=[f"{n}:{d['kind']}:{d['metadata']['name']}" for n, d in _k8s()]
)
def test_every_replicas_manifest_is_valid_kubernetes(name: str, doc: Doc, version: str) -> None:
    """Each manifest validates strictly against the Kubernetes schemas (the same versions as
    deploy/kubernetes/): a misspelt or misplaced key fails here, not in the cluster."""
    assert_valid_kubernetes(name, doc, version)


def test_the_gateway_runs_three_replicas_and_drains_one_at_a_time() -> None:
    """The Deployment asks for 3 replicas; node drains take at most one (2 keep serving)."""
    assert _k8s_one("Deployment")["spec"]["replicas"] == REPLICAS
    budget = _k8s_one("PodDisruptionBudget")["spec"]
    assert budget.get("maxUnavailable") == 1 or budget.get("minAvailable", 0) >= REPLICAS - 1


def test_the_deployment_is_the_single_replica_one_plus_redis() -> None:
    """Apart from `replicas`, the Redis variables and the spread over nodes, the Deployment is
    deploy/kubernetes/deployment.yaml: same image, args (drain, --max-connection-age), probes,
    ports, grace period, security and resources, so a fix to one that misses the other fails."""
    base, replicas = _one("Deployment"), _k8s_one("Deployment")
    assert replicas["metadata"] == base["metadata"]
    assert {k: v for k, v in replicas["spec"].items() if k not in {"replicas", "template"}} == {
        k: v for k, v in base["spec"].items() if k not in {"replicas", "template"}
    }
    assert replicas["spec"]["template"]["metadata"] == base["spec"]["template"]["metadata"]
    base_pod, pod = base["spec"]["template"]["spec"], replicas["spec"]["template"]["spec"]
    extra = {"containers", "topologySpreadConstraints"}
    assert {k: v for k, v in pod.items() if k not in extra} == {
        k: v for k, v in base_pod.items() if k not in extra
    }
    (base_container,) = base_pod["containers"]
    container = _gateway_container()
    assert {k: v for k, v in container.items() if k != "env"} == {
        k: v for k, v in base_container.items() if k != "env"
    }
    added = [e for e in container["env"] if e not in base_container["env"]]
    assert [e for e in container["env"] if e not in added] == base_container["env"]
    assert {e["name"] for e in added} == {
        "REDIS_PASSWORD",
        env_name("redis_url"),
        KEY_SECRET_ENV,
    }
    assert "--max-connection-age" in container["args"], "connections must rebalance"


def test_the_gateway_variables_and_args_are_real_settings() -> None:
    """Every SOFER_GATEWAY_* variable of the Deployment is one the gateway reads, each value
    parses as its setting, and the args are a `serve` command line the gateway accepts."""
    container = _gateway_container()
    env = _gateway_environment(container)
    unknown = {n for n in env if n.startswith(ENV_PREFIX)} - _known_gateway_variables()
    assert unknown == set(), f"not gateway settings: {sorted(unknown)}"
    args = _parse_gateway_command([str(a) for a in container["args"]])
    assert args.command == "serve"
    from_args(args, env)


def test_the_deployment_would_start_and_use_redis() -> None:
    """With the Secret's values in place, the gateway's start-up checks pass (callers must
    authenticate to spend the key) and it would keep its state in Redis with the explicit key
    secret, not one derived from the API key."""
    container = _gateway_container()
    env = _gateway_environment(container)
    config = from_args(_parse_gateway_command([str(a) for a in container["args"]]), env)
    check_exposure(config, CallerAuth.from_config(config, mtls=False))
    settings = redis_settings(config, env)
    assert settings is not None, "SOFER_GATEWAY_REDIS_URL is set"
    assert settings.key_secret == env[KEY_SECRET_ENV].encode()
    assert not settings.fallback_local, "creates must never risk a duplicate"


def test_the_secrets_are_referenced_not_inlined() -> None:
    """The API key, the caller tokens, the Redis key secret and the Redis password come from the
    Secret, in the gateway and in Redis (its password in a file mounted from the Secret); the
    Redis URL carries the password only as a $(VAR) reference to a variable defined before it
    (a later one would reach the gateway literally)."""
    containers = [_gateway_container(), *_redis_pod()["spec"]["containers"]]
    for container in containers:
        for entry in container.get("env", []):
            if entry["name"] in SECRET_VARIABLES | {"REDISCLI_AUTH"}:
                assert "value" not in entry, entry["name"]
                assert entry["valueFrom"]["secretKeyRef"]["name"] == SECRET_NAME, entry["name"]
    env = _gateway_environment(_gateway_container())
    assert set(env) >= SECRET_VARIABLES
    url = urlsplit(env[env_name("redis_url")])
    assert url.password == env["REDIS_PASSWORD"], "the URL's password is $(REDIS_PASSWORD)"
    (include,) = [v for k, v in _redis_conf().items() if k == "include"]
    (redis,) = _redis_pod()["spec"]["containers"]
    (mount,) = [m for m in redis["volumeMounts"] if include.startswith(m["mountPath"] + "/")]
    (volume,) = [v for v in _redis_pod()["spec"]["volumes"] if v["name"] == mount["name"]]
    assert volume["secret"]["secretName"] == SECRET_NAME
    (item,) = volume["secret"]["items"]
    assert include == f"{mount['mountPath']}/{item['path']}"
    assert item["key"] == "redis-auth.conf"


def test_the_redis_url_points_at_the_redis_service() -> None:
    """SOFER_GATEWAY_REDIS_URL names a Service of these files and its port, and that Service
    sends it to the Redis pods' Redis port: a typo would leave every create with a request_id
    failing IDEMPOTENCY_STORE_UNAVAILABLE."""
    url = urlsplit(_gateway_environment(_gateway_container())[env_name("redis_url")])
    assert url.scheme in {"redis", "rediss"}
    host = url.hostname or ""
    name = host.removesuffix(".svc.cluster.local").split(".")[0]
    service = _k8s_one("Service", name)["spec"]
    (port,) = [p for p in service["ports"] if p["port"] == (url.port or 6379)]
    pod = _redis_pod()
    assert _labels_match(service["selector"], pod["metadata"]["labels"])
    (container,) = pod["spec"]["containers"]
    (redis_port,) = container["ports"]
    assert port["targetPort"] in {redis_port["name"], redis_port["containerPort"]}
    (statefulset,) = _k8s_all("StatefulSet")
    governing = _k8s_one("Service", statefulset["spec"]["serviceName"])["spec"]
    assert governing["clusterIP"] == "None", "a StatefulSet's serviceName is a headless Service"


def _redis_conf() -> dict[str, str]:
    (config_map,) = _k8s_all("ConfigMap")
    settings = {}
    for line in config_map["data"]["redis.conf"].splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.strip().partition(" ")
            settings[key] = value
    return settings


def _bytes(size: str) -> int:
    """A Redis (256mb, 1gb) or Kubernetes (512Mi, 1Gi) size in bytes."""
    number, unit = re.fullmatch(r"(\d+)([a-zA-Z]*)", size).groups()  # type: ignore[union-attr]
    scale = {"": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "ki": 1024, "mi": 1024**2}
    scale |= {"gi": 1024**3, "k": 1000, "m": 1000**2, "g": 1000**3}
    return int(number) * scale[unit.lower()]


def test_redis_keeps_every_record() -> None:
    """Redis appends to a file on its volume (records survive its restart), never evicts (an
    evicted record is a forgotten request_id), and its maxmemory fits under its memory limit,
    with room for the rewrite's fork."""
    conf = _redis_conf()
    assert conf["appendonly"] == "yes"
    assert conf["maxmemory-policy"] == "noeviction"
    (container,) = _redis_pod()["spec"]["containers"]
    assert conf["dir"] in {m["mountPath"] for m in container["volumeMounts"]}
    (statefulset,) = _k8s_all("StatefulSet")
    claims = {c["metadata"]["name"] for c in statefulset["spec"]["volumeClaimTemplates"]}
    data = [m for m in container["volumeMounts"] if m["mountPath"] == conf["dir"]]
    assert data[0]["name"] in claims, "the append-only file is on a persistent volume"
    limit = _bytes(container["resources"]["limits"]["memory"])
    assert 0 < _bytes(conf["maxmemory"]) <= limit * 0.75
    config_path = next(a for a in container["args"] if str(a).endswith(".conf"))
    mounts = {m["mountPath"] for m in container["volumeMounts"] if m["name"] == "config"}
    assert str(Path(config_path).parent) in mounts


def test_the_gateway_services_balance_connections_or_calls() -> None:
    """Both gateway Services send port `grpc` (appProtocol grpc) to the pods' gRPC port: the
    ClusterIP one for L4 clients and meshes, the headless one (clusterIP None, Ready pods only)
    for clients that balance calls themselves with round_robin."""
    labels = _k8s_one("Deployment")["spec"]["template"]["metadata"]["labels"]
    ports = {p["name"]: p for p in _gateway_container()["ports"]}
    services = [s for s in _k8s_all("Service") if _labels_match(s["spec"]["selector"], labels)]
    assert {s["spec"].get("clusterIP", "") == "None" for s in services} == {True, False}
    for service in services:
        (port,) = service["spec"]["ports"]
        assert port["appProtocol"] == "grpc"
        assert port["port"] == GRPC_PORT
        assert port["targetPort"] in {"grpc", ports["grpc"]["containerPort"]}
        assert not service["spec"].get("publishNotReadyAddresses", False)
    budget = _k8s_one("PodDisruptionBudget")["spec"]
    assert _labels_match(budget["selector"]["matchLabels"], labels)


def test_only_the_gateways_may_reach_redis() -> None:
    """The NetworkPolicy applies to the Redis pods and lets in the gateway's pods only, on the
    Redis port (a selector that matches nothing would shut the gateways out)."""
    spec = _k8s_one("NetworkPolicy", "sofer-gateway-redis")["spec"]
    assert _labels_match(spec["podSelector"]["matchLabels"], _redis_pod()["metadata"]["labels"])
    gateway_labels = _k8s_one("Deployment")["spec"]["template"]["metadata"]["labels"]
    (rule,) = spec["ingress"]
    (source,) = rule["from"]
    assert _labels_match(source["podSelector"]["matchLabels"], gateway_labels)
    (container,) = _redis_pod()["spec"]["containers"]
    (redis_port,) = container["ports"]
    assert [p["port"] for p in rule["ports"]] in (
        [redis_port["name"]],
        [redis_port["containerPort"]],
    )


# -- deploy/compose/ --------------------------------------------------------------------------


@cache
def _compose() -> Doc:
    doc: Doc = yaml.safe_load(COMPOSE.read_text())  # resolves the `<<` merges, as Compose does
    return doc


def _services() -> dict[str, Doc]:
    services: dict[str, Doc] = _compose()["services"]
    return services


def _command(service: Doc) -> argparse.Namespace:
    """A service of the gateway's image: its command, parsed by the gateway's parser."""
    return _parse_gateway_command([str(a) for a in service["command"]])


def _gateways() -> dict[str, Doc]:
    return {
        name: service
        for name, service in _services().items()
        if service.get("command", [None])[0] == "serve"
    }


def _environment(service: Doc) -> dict[str, str]:
    environment = service.get("environment", {})
    assert isinstance(environment, dict), "environment as a mapping"
    return {k: str(v) for k, v in environment.items()}


def _interpolated(environment: dict[str, str]) -> dict[str, str]:
    """The values Compose would pass, with a stand-in for each ${VAR...} from the shell."""
    return {
        k: re.sub(r"\$\{[^}]*\}", STAND_INS.get(k, STAND_IN), v) for k, v in environment.items()
    }


def _listen_port(args: argparse.Namespace) -> int:
    return int(str(args.listen).rsplit(":", 1)[1])


def _published(service: Doc) -> set[int]:
    """The container ports a service publishes ("127.0.0.1:8080:8080" and the like)."""
    return {int(str(p).split(":")[-1].split("/")[0]) for p in service.get("ports", [])}


def test_compose_file_is_valid_against_the_compose_spec() -> None:
    """compose.yaml validates against the Compose Specification's JSON schema (the copy
    check-jsonschema vendors), so `docker compose up` does not reject a misspelt key."""
    tool = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    assert tool, "check-jsonschema is not installed: pip install -e '.[dev]'"
    result = subprocess.run(  # noqa: S603 (the venv's check-jsonschema on our file, no shell)
        [tool, "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_two_gateway_replicas_built_from_the_dockerfile() -> None:
    """Two services run `sofer-gateway serve`, built from the repository's Dockerfile, on all
    interfaces, with the drain of the Kubernetes manifests and a stop grace period that covers
    it (Docker's default 10 s would SIGKILL a draining gateway)."""
    gateways = _gateways()
    assert len(gateways) == 2
    for name, service in gateways.items():
        build = service["build"]
        assert (COMPOSE_DIR / build["context"]).resolve() == REPO, name
        assert (REPO / build.get("dockerfile", "Dockerfile")).is_file(), name
        args = _command(service)
        assert str(args.listen).startswith("0.0.0.0:"), name
        assert args.drain_delay > 0, name
        needed = args.drain_delay + args.shutdown_grace + SHUTDOWN_MARGIN
        assert _seconds(service["stop_grace_period"]) >= needed, name


def test_compose_gateway_variables_are_real_settings() -> None:
    """Every SOFER_GATEWAY_* variable of the gateway services is one the gateway reads, and
    each value (with the shell's in place) parses as its setting."""
    for name, service in _gateways().items():
        env = _interpolated(_environment(service))
        unknown = {n for n in env if n.startswith(ENV_PREFIX)} - _known_gateway_variables()
        assert unknown == set(), f"{name}: not gateway settings: {sorted(unknown)}"
        from_args(_command(service), env)


def test_compose_gateways_would_start_and_share_redis_and_the_sandbox() -> None:
    """Both replicas would pass the gateway's start-up checks, use Redis with the key secret
    from the shell, and call the sandbox service (not the embedded one each would start
    without an upstream: two embedded sandboxes share no batches)."""
    for name, service in _gateways().items():
        env = _interpolated(_environment(service))
        config = from_args(_command(service), env)
        check_exposure(config, CallerAuth.from_config(config, mtls=False))
        assert not config.embedded_sandbox, name
        assert redis_settings(config, env) is not None, name
    environments = [_environment(s) for s in _gateways().values()]
    assert all(env == environments[0] for env in environments), "the replicas are configured alike"


def test_compose_urls_point_at_services_that_exist() -> None:
    """SOFER_API_URL names the sandbox service and the port its `sandbox --listen` serves on
    all interfaces; SOFER_GATEWAY_REDIS_URL names the Redis service and its port."""
    services = _services()
    for name, service in _gateways().items():
        env = _environment(service)
        upstream = urlsplit(env["SOFER_API_URL"])
        sandbox = services[upstream.hostname or ""]
        args = _command(sandbox)
        assert args.command == "sandbox", name
        assert args.listen == ("0.0.0.0", upstream.port), name
        redis_url = urlsplit(env[env_name("redis_url")])
        redis = services[redis_url.hostname or ""]
        assert str(redis["image"]).split(":")[0] in {"redis", "valkey/valkey"}, name
        command = [str(a) for a in redis.get("command", [])]
        port = int(command[command.index("--port") + 1]) if "--port" in command else 6379
        assert (redis_url.port or 6379) == port, name
        assert set(service["depends_on"]) >= {upstream.hostname, redis_url.hostname}, name


def test_compose_secret_comes_from_the_shell() -> None:
    """The Redis key secret is a required ${VAR} from the shell, not a value in the file, and
    no service is given an API key or caller tokens in the file."""
    for name, service in _services().items():
        env = _environment(service)
        for variable in SECRET_VARIABLES & set(env):
            assert re.fullmatch(rf"\$\{{{variable}:\?[^}}]+\}}", env[variable]), (name, variable)
    for service in _gateways().values():
        assert KEY_SECRET_ENV in _environment(service)


def test_compose_redis_keeps_every_record() -> None:
    """The compose Redis appends to a file on a named volume and never evicts, as in the
    Kubernetes example."""
    (redis,) = [s for s in _services().values() if str(s.get("image", "")).startswith("redis")]
    command = [str(a) for a in redis["command"]]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    (volume,) = redis["volumes"]
    assert str(volume).split(":")[0] in _compose()["volumes"]


# -- deploy/compose/envoy.yaml ----------------------------------------------------------------


@cache
def _envoy() -> Doc:
    doc: Doc = yaml.safe_load(ENVOY.read_text())
    return doc


def _type_urls(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "@type":
                yield str(value)
            else:
                yield from _type_urls(value)
    elif isinstance(node, list):
        for value in node:
            yield from _type_urls(value)


def _connection_manager() -> Doc:
    (listener,) = _envoy()["static_resources"]["listeners"]
    (chain,) = listener["filter_chains"]
    (manager,) = chain["filters"]
    config: Doc = manager["typed_config"]
    return config


def _routes() -> list[Doc]:
    (host,) = _connection_manager()["route_config"]["virtual_hosts"]
    routes: list[Doc] = host["routes"]
    return routes


def _route_for(path: str) -> Doc:
    """The route Envoy picks for a gRPC method's path: the first that matches."""
    for route in _routes():
        match = route["match"]
        assert set(match) <= {"path", "prefix", "grpc"}, f"a match this test cannot read: {match}"
        if match.get("path") == path or ("prefix" in match and path.startswith(match["prefix"])):
            return route
    pytest.fail(f"no route for {path}")


def _cluster() -> Doc:
    (cluster,) = _envoy()["static_resources"]["clusters"]
    assert isinstance(cluster, dict)
    return cluster


def test_envoy_config_is_valid_envoy() -> None:
    """envoy.yaml parses strictly as Envoy's Bootstrap message (envoy-data-plane: Envoy's own
    API protos), typed configs included: an unknown field, a wrong enum or duration fails
    here rather than when Envoy starts."""
    packages = ["envoy.config.bootstrap.v3"]
    packages += [url.rsplit("/", 1)[1].rsplit(".", 1)[0] for url in set(_type_urls(_envoy()))]
    with warnings.catch_warnings():
        # The generated modules use a pydantic idiom pydantic now deprecates: theirs to fix,
        # and nothing about our file. (Envoy's own deprecations, warned when the file sets a
        # deprecated field, stay errors.)
        warnings.simplefilter("ignore", PydanticDeprecationWarning)
        # Importing a package registers its messages, so that typed_config (Any) unpacks.
        modules = [importlib.import_module(f"envoy_data_plane.{p}") for p in packages]
    modules[0].Bootstrap.from_dict(_envoy())


def test_envoy_balances_every_call_over_http2() -> None:
    """Envoy takes HTTP/2 from clients and speaks HTTP/2 to the replicas, choosing one per call
    (round robin): gRPC calls, not connections, are spread."""
    assert _connection_manager()["codec_type"] in {"HTTP2", "AUTO"}
    cluster = _cluster()
    assert cluster.get("lb_policy", "ROUND_ROBIN") == "ROUND_ROBIN"
    options = cluster["typed_extension_protocol_options"][
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    ]
    assert "http2_protocol_options" in options["explicit_http_config"]
    for route in _routes():
        assert route["route"]["cluster"] == cluster["name"]


def test_envoy_endpoints_are_the_compose_gateways() -> None:
    """The cluster's endpoints are exactly the compose gateway services, on the port each one's
    --listen serves; Envoy's listener port is published and envoy.yaml is what it mounts."""
    addresses = [
        e["endpoint"]["address"]["socket_address"]
        for group in _cluster()["load_assignment"]["endpoints"]
        for e in group["lb_endpoints"]
    ]
    endpoints = {(a["address"], a["port_value"]) for a in addresses}
    gateways = {(name, _listen_port(_command(s))) for name, s in _gateways().items()}
    assert endpoints == gateways
    (envoy,) = [s for s in _services().values() if "envoy" in str(s.get("image", ""))]
    (listener,) = _envoy()["static_resources"]["listeners"]
    assert listener["address"]["socket_address"]["port_value"] in _published(envoy)
    mounts = {str(v).split(":")[0] for v in envoy["volumes"]}
    assert any((COMPOSE_DIR / m).resolve() == ENVOY for m in mounts)


def test_envoy_health_checks_the_batch_service_within_the_drain() -> None:
    """Envoy's health check is grpc.health.v1 for the gateway's batch service, and it marks a
    draining replica unhealthy (interval x threshold) before --drain-delay ends."""
    (check,) = _cluster()["health_checks"]
    assert check["grpc_health_check"]["service_name"] == SERVICE_NAME
    window = _seconds(check["interval"]) * int(check["unhealthy_threshold"])
    for name, service in _gateways().items():
        assert window <= _command(service).drain_delay, name


def test_envoy_never_cuts_a_watch_stream() -> None:
    """Every route has its timeout off (0s) and the stream idle timeout is off: a
    WatchBatchStatus stream stays open for as long as its batch runs, however quiet."""
    assert _seconds(_connection_manager()["stream_idle_timeout"]) == 0
    for route in _routes():
        assert _seconds(route["route"]["timeout"]) == 0, route["match"]
        assert "idle_timeout" not in route["route"], route["match"]
    watch = _route_for(f"/{SERVICE_NAME}/WatchBatchStatus")
    assert _seconds(watch["route"]["timeout"]) == 0


def _creates() -> list[str]:
    """The batch service's mutating RPCs: those whose request (or, for an upload, its first
    message's header) has a request_id."""
    service = batch_service_pb2.DESCRIPTOR.services_by_name["BatchTranscriptionService"]

    def keyed(message: Any) -> bool:
        fields = message.fields_by_name
        header = fields.get("header")
        return "request_id" in fields or (header is not None and keyed(header.message_type))

    creates = [m.name for m in service.methods if keyed(m.input_type)]
    assert creates, "the proto's creates carry request_id"
    return creates


def test_envoy_retries_a_create_only_when_the_gateway_never_saw_it() -> None:
    """Every RPC with a request_id (from the proto, so a new create is covered) is retried by
    Envoy only on a failed connect or a refused stream, never on UNAVAILABLE or a reset, which
    may come after the POST was made: without a request_id a retry would make a second batch."""
    for method in _creates():
        policy = _route_for(f"/{SERVICE_NAME}/{method}")["route"].get("retry_policy", {})
        conditions = set(str(policy.get("retry_on", "")).split(",")) - {""}
        assert conditions <= UNPROCESSED_RETRY_ON, (method, conditions)


def test_the_deploy_readme_names_the_new_files() -> None:
    """deploy/README.md names every file of both examples, and docs/deployment.md has the
    "Several replicas" section with the compose command."""
    readme = (REPO / "deploy" / "README.md").read_text()
    for path in [*MANIFESTS, COMPOSE, ENVOY]:
        assert path.name in readme, path.name
    guide = (REPO / "docs" / "deployment.md").read_text()
    assert "## Several replicas" in guide
    assert "docker compose -f deploy/compose/compose.yaml up" in guide
