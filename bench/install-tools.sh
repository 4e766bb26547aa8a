#!/usr/bin/env bash
# Install the benchmark's outside tools when missing: nginx (the fast upstream), h2load (the
# gRPC load generator, from nghttp2-client) and valgrind (callgrind counts the instructions of the
# unary sides). Debian/Ubuntu, as root (or with sudo). Idempotent: a second run installs nothing
# and says so.
set -euo pipefail

declare -A PACKAGE_OF=([nginx]=nginx-light [h2load]=nghttp2-client [valgrind]=valgrind)
missing=()
for tool in nginx h2load valgrind; do
    if command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ]; then
        echo "bench/install-tools: $tool present ($(command -v "$tool" || echo "/usr/sbin/$tool"))"
    else
        missing+=("${PACKAGE_OF[$tool]}")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "bench/install-tools: nothing to install"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "bench/install-tools: no apt-get here; install ${missing[*]} by hand" >&2
    exit 1
fi
as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "bench/install-tools: need root (or sudo) to install ${missing[*]}" >&2
        exit 1
    fi
    as_root=(sudo)
fi
echo "bench/install-tools: apt-get update, then install ${missing[*]}"
"${as_root[@]}" apt-get update -qq
# Where services may start (no policy-rc.d), nginx-light's postinst also starts the system nginx
# on port 80; the benchmark never uses it: it runs its own nginx, on a free loopback port.
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "bench/install-tools: installed ${missing[*]}"
