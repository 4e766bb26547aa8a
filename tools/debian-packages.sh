#!/usr/bin/env bash
# Install the named Debian packages that are not installed yet (apt-get, as root or with sudo);
# a second run installs nothing and says so. `make polyglot-tools` names the Go and Java
# toolchains and libraries the polyglot clients are generated and tested with (Makefile).
# Without apt-get, it names what is missing and fails: install the same by other means.
set -euo pipefail

missing=()
for package in "$@"; do
    if [ "$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null)" != installed ]; then
        missing+=("$package")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "debian-packages: all $# present"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "debian-packages: missing ${missing[*]}, and there is no apt-get here: install them (or" \
        "their equivalents: protoc, Go with grpc-go, a JDK with grpc-java) by hand" >&2
    exit 1
fi
as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "debian-packages: need root (or sudo) to install ${missing[*]}" >&2
        exit 1
    fi
    as_root=(sudo)
fi
echo "debian-packages: apt-get update, then install ${missing[*]}"
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "debian-packages: installed ${missing[*]}"
