#!/bin/sh
# One entry point for learners and CI:
#   ./run.sh demo      install what is missing, build, start the newest step's container
#                      (step05, inside a network namespace of its own)
#   ./run.sh test      install what is missing, build, run every test suite (with the
#                      mutation check of the safety tests, label `mutants`)
#   ./run.sh build     install what is missing and build
#   ./run.sh setup     only install the Debian packages the project needs
# Hardening (CI runs all of these after `test`):
#   ./run.sh sanitize  the test suites again, built with AddressSanitizer + UBSan (build-asan/)
#   ./run.sh tidy      clang-tidy over common/ and the steps; fails on any warning
#   ./run.sh fuzz [S]  libFuzzer on the argument parsers, S seconds per target (build-fuzz/)
#   ./run.sh soak      1,000 starts of each step and 50 rounds of 8 concurrent containers
#   ./run.sh bench     start-up benchmark against the kernel floor (docs/performance.md)
set -eu
cd "$(dirname "$0")"

# Debian 12 packages: the toolchain, GoogleTest, Boost 1.81, libnl (netsetgo's rtnetlink),
# busybox-static (the rootfs), and the host tools the tests use (ip, ps, setpriv, unshare).
packages="g++ cmake make pkg-config googletest libgtest-dev libboost1.81-dev
  libboost-filesystem1.81-dev libboost-program-options1.81-dev libnl-route-3-dev
  busybox-static iproute2 procps util-linux"
# Only for the hardening checks: clang for clang-tidy and libFuzzer.
hardening_packages="clang clang-tidy libclang-rt-14-dev"

install_missing() {
    missing=""
    for package in "$@"; do
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

setup() {
    # shellcheck disable=SC2086 # one word per package
    install_missing $packages
}

build() {
    setup
    cmake --preset default >/dev/null
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
    ctest --test-dir build --output-on-failure -j"$(nproc)" -LE soak
    ;;
sanitize)
    setup
    cmake --preset asan >/dev/null
    cmake --build build-asan -j"$(nproc)"
    # Not the mutants: they rebuild a scratch tree without sanitizers, as `test` already did.
    ctest --test-dir build-asan --output-on-failure -j"$(nproc)" -LE 'soak|mutants'
    ;;
tidy)
    build
    # shellcheck disable=SC2086
    install_missing $hardening_packages
    run-clang-tidy -quiet -p build 'common/.*\.cpp$' 'step0[1-5]_[a-z]+/.*\.cpp$'
    ;;
fuzz)
    setup
    # shellcheck disable=SC2086
    install_missing $hardening_packages
    tests/fuzz/run-fuzz.sh "${2:-20}"
    ;;
soak)
    build
    ctest --test-dir build --output-on-failure -L soak
    ;;
bench)
    build
    cmake --build build --target nsp_bench
    build/tests/bench/nsp_bench
    ;;
*)
    echo "usage: ./run.sh demo|test|build|setup|sanitize|tidy|fuzz [SECONDS]|soak|bench" >&2
    exit 2
    ;;
esac
