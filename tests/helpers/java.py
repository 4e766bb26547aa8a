"""Helpers that compile and run the Java clients (tests/interop/java/, the README's example)
with Debian's JDK and jars (no tests here). A missing JDK, protoc or jar is a broken set-up, not
a reason to skip: `make test` installs them (`make polyglot-tools`), so the test fails."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import REPO
from tests.helpers.processes import run_program

JARS_DIR = Path("/usr/share/java")
# What the clients need from Debian's jars (libgrpc-java, libprotobuf-java, libnetty-java,
# libguava-java with its libjsr305-java, libperfmark-java, libgoogle-gson-java), plus the
# javax.annotation.Generated that grpc-java's generated stub carries
# (libgeronimo-annotation-1.3-spec-java). Debian has no proto-google-common-protos jar:
# google/rpc/*.proto are compiled here (compile_generated).
JARS = (
    "protobuf",
    "grpc-api",
    "grpc-context",
    "grpc-core",
    "grpc-stub",
    "grpc-protobuf",
    "grpc-protobuf-lite",
    "grpc-netty",
    "netty-buffer",
    "netty-codec",
    "netty-codec-http",
    "netty-codec-http2",
    "netty-codec-socks",
    "netty-common",
    "netty-handler",
    "netty-handler-proxy",
    "netty-resolver",
    "netty-transport",
    "netty-transport-native-unix-common",
    "guava",
    "perfmark-api",
    "gson",
    "jsr305",
    "geronimo-annotation-1.3-spec",
)
GOOGLE_RPC_PROTOS = ("google/rpc/status.proto", "google/rpc/error_details.proto")
COMPILE_GUARD = 240.0
CLIENT_GUARD = 90.0
# javac and the clients are short-lived JVMs: C1 alone and the serial collector about halve
# javac's CPU time on the generated code; and there are no annotation processors to look for.
JVM_FLAGS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
JAVAC_FLAGS = (*(f"-J{flag}" for flag in JVM_FLAGS), "-proc:none", "-encoding", "UTF-8")
SETUP = "run make polyglot-tools (make test installs it)"


@dataclass(frozen=True)
class JavaBuild:
    """The generated code (generated/java/) and google.rpc compiled once: `classes` holds the
    .class files, `classpath` is them with every jar."""

    classes: Path
    classpath: str


def tool(name: str) -> str:
    """The path of `name` (javac, java, protoc), else fail the test saying how to install it."""
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not on PATH: {SETUP}")
    return found


def jars() -> list[Path]:
    """Every jar of JARS, else fail the test naming the missing ones."""
    paths = [JARS_DIR / f"{name}.jar" for name in JARS]
    missing = [path.name for path in paths if not path.is_file()]
    if missing:
        pytest.fail(f"{JARS_DIR} lacks {', '.join(missing)}: {SETUP}")
    return paths


def google_rpc_include() -> Path:
    """The directory holding google/rpc/*.proto: the google-proto-files npm package."""
    include = REPO / "node_modules" / "google-proto-files"
    if not all((include / name).is_file() for name in GOOGLE_RPC_PROTOS):
        pytest.fail(f"{include} lacks {', '.join(GOOGLE_RPC_PROTOS)}: run make node-deps")
    return include


async def run_tool(*argv: str, guard: float = COMPILE_GUARD) -> None:
    """Run a build step (protoc, javac) to its end; fail the test with its output unless it
    exits 0 within `guard` seconds."""
    code, out, err = await run_program(*argv, guard=guard)
    if code != 0:
        pytest.fail(f"{Path(argv[0]).name} exited {code}:\n{out}{err}")


async def compile_generated(out: Path) -> JavaBuild:
    """Compile generated/java/ and google/rpc/{status,error_details}.proto (to Java by protoc)
    into `out/classes`: what a Maven user gets from the generated package and
    com.google.api.grpc:proto-google-common-protos."""
    javac, protoc = tool("javac"), tool("protoc")
    classpath = os.pathsep.join(str(jar) for jar in jars())
    sources, classes = out / "src", out / "classes"
    sources.mkdir(parents=True)
    await run_tool(protoc, f"-I{google_rpc_include()}", f"--java_out={sources}", *GOOGLE_RPC_PROTOS)
    generated = (REPO / "generated" / "java").rglob("*.java")
    files = sorted(str(f) for f in [*sources.rglob("*.java"), *generated])
    await run_tool(javac, *JAVAC_FLAGS, "-nowarn", "-d", str(classes), "-cp", classpath, *files)
    return JavaBuild(classes, os.pathsep.join([str(classes), classpath]))


async def compile_client(build: JavaBuild, source: Path, out: Path) -> str:
    """Compile `source` against `build` into `out` (lint warnings are errors); the classpath to
    run it with."""
    argv = (tool("javac"), *JAVAC_FLAGS, "-Xlint:all", "-Werror", "-d", str(out))
    await run_tool(*argv, "-cp", build.classpath, str(source))
    return os.pathsep.join([str(out), build.classpath])


async def run_java(
    classpath: str, *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> tuple[int, str, str]:
    """`java -cp CLASSPATH ARGS` (a main class or a single source file, then its arguments) to
    its end, killed after CLIENT_GUARD seconds: its exit status, stdout and stderr."""
    return await run_program(
        tool("java"), *JVM_FLAGS, "-cp", classpath, *args, env=env, cwd=cwd, guard=CLIENT_GUARD
    )


class JavaBuilder:
    """Compiles the generated code at most once per session (per pytest-xdist worker): the first
    test that asks pays for it, inside its own body, so a missing JDK fails that test."""

    def __init__(self, out: Path) -> None:
        self._out = out
        self._build: JavaBuild | None = None

    async def build(self) -> JavaBuild:
        """The compiled generated code, compiled now if no test of this session did yet."""
        if self._build is None:
            self._build = await compile_generated(self._out / "generated")
        return self._build


@pytest.fixture(scope="session")
def java_builder(tmp_path_factory: pytest.TempPathFactory) -> JavaBuilder:
    """The session's JavaBuilder, building into a temporary directory."""
    return JavaBuilder(tmp_path_factory.mktemp("java"))
