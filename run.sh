#!/bin/sh
# One entry point for learners and CI:
#   ./run.sh demo    install what is missing, build, start the newest step's container
#                    (step05, inside a network namespace of its own)
#   ./run.sh test    install what is missing, build, run every test suite
#   ./run.sh build   install what is missing and build
#   ./run.sh setup   only install the Debian packages the project needs
set -eu
cd "$(dirname "$0")"

# Debian 12 packages: the toolchain, GoogleTest, Boost 1.81, libnl (netsetgo's rtnetlink),
# busybox-static (the rootfs), and the host tools the tests use (ip, ps, setpriv, unshare).
packages="g++ cmake make pkg-config googletest libgtest-dev libboost1.81-dev
  libboost-filesystem1.81-dev libboost-program-options1.81-dev libnl-route-3-dev
  busybox-static iproute2 procps util-linux"

setup() {
    missing=""
    for package in $packages; do
        dpkg-query -W -f='${Status}\n' "$package" 2>/dev/null | grep -q "ok installed" ||
            missing="$missing $package"
    done
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "run.sh: missing Debian packages:$missing" >&2
        echo "run.sh: install them as root: apt-get install$missing" >&2
        exit 1
    fi
    echo "run.sh: installing$missing"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
}

build() {
    setup
    cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build build -j"$(nproc)"
}

case "${1:-}" in
setup) setup ;;
build) build ;;
demo)
    build
    # In a network namespace of its own, so the demo's bridge never touches this machine's
    # network and disappears when the demo ends.
    echo "run.sh: starting build/bin/step05_network in a fresh network namespace;"
    echo "run.sh: try 'ip addr; ping -c 1 10.10.10.1', then 'exit' to leave"
    exec unshare --net build/bin/step05_network
    ;;
test)
    build
    ctest --test-dir build --output-on-failure -j"$(nproc)"
    ;;
*)
    echo "usage: ./run.sh demo|test|build|setup" >&2
    exit 2
    ;;
esac
