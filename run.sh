#!/bin/sh
# One entry point for learners and CI:
#   ./run.sh demo      install what is missing, build the programs, start the newest step's container
#                      (step05, inside a network namespace of its own)
#   ./run.sh test      install what is missing, build, run every test suite (with the
#                      mutation check of the safety tests, label `mutants`)
#   ./run.sh build     install what is missing and build
#   ./run.sh setup     only install the Debian packages the project needs
#   ./run.sh packages  print the package names setup would ask apt for on this machine
# Build it yourself (the chapters' "Build it yourself" sections):
#   ./run.sh learn N [DIR]
#                      write step N's skeleton, DIR/step0N.cpp (DIR: learn/, which git ignores)
#   ./run.sh check N FILE
#                      build FILE and run the core checks of stages 1..N against it
# Hardening (CI runs all of these after `test`):
#   ./run.sh sanitize  the test suites again, built with AddressSanitizer + UBSan (build-asan/)
#   ./run.sh tidy      clang-tidy over common/ and the steps; fails on any warning
#   ./run.sh fuzz [S]  libFuzzer on the argument parsers, S seconds per target (build-fuzz/)
#   ./run.sh soak      1,000 starts of each step and 50 rounds of 8 concurrent containers
#   ./run.sh bench [--against REF] [OPTIONS]
#                      start-up against the kernel floor, bwrap and crun (docs/performance.md);
#                      --against REF also builds git REF and times both builds side by side
#   ./run.sh clang     the test suites again, built with clang (build-clang/)
#   ./run.sh distro debian13|debian12
#                      `./run.sh test` on a fresh debootstrapped Debian tree (tests/distro/)
#   ./run.sh realroot  step05 runs that Debian 13 tree, handed over to its root (label realroot)
# Root filesystems:
#   ./run.sh own-rootfs PATH
#                      hand the tree at PATH to the containers root runs, so that their root
#                      owns it (build/rootfs is handed over when root builds it)
set -eu
# Where run.sh was started: learn's DIR and check's FILE are relative to it.
caller_dir=$(pwd)
cd "$(dirname "$0")"

# The version apt would install for package $1, or nothing when apt offers none.
candidate() {
    apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p' | grep -v '^(none)$' || true
}

# Boost's two packages, named with suffix $1: "" for the default Boost, "1.81" for 1.81.
boost_named() {
    echo "libboost$1-dev libboost-filesystem$1-dev"
}

# Boost >= 1.81 (Boost.Process v2), chosen by what is installed or else what apt offers, not
# by release name: the distribution's default Boost when it is new enough (Debian 13, Ubuntu
# 24.04: 1.83), else the newest versioned Boost (Debian 12: 1.81). With no package lists yet,
# the default names (not installed, so setup updates the lists and asks again).
boost_packages() {
    dpkg-query -W -f='${db:Status-Abbrev}${Package} ${Version}\n' 'libboost-filesystem*-dev' \
        2>/dev/null | sed -n 's/^ii *libboost-filesystem\([0-9.]*\)-dev /\1 /p' |
        while read -r suffix version; do
            dpkg --compare-versions "$version" ge 1.81 && boost_named "$suffix" && break
        done | grep . && return
    default=$(candidate libboost-dev)
    if [ -z "$default" ] || dpkg --compare-versions "$default" ge 1.81; then
        boost_named ""
        return
    fi
    for version in $(apt-cache pkgnames libboost1. | sed -n 's/^libboost\(1\.[0-9]*\)-dev$/\1/p' |
        sort -t . -k 2,2nr); do
        if dpkg --compare-versions "$version" ge 1.81 && [ -n "$(candidate "libboost$version-dev")" ]
        then
            boost_named "$version"
            return
        fi
    done
    echo "run.sh: apt offers no Boost >= 1.81 (Boost.Process v2 needs it)" >&2
    exit 1
}

# The project's packages: the toolchain, GoogleTest, Boost, libnl (netsetgo's rtnetlink),
# busybox-static (the rootfs), and the host tools the tests use (ip, ps, setpriv, unshare, and
# git, whose `git apply` patches the scratch trees of the mutants and exercises).
packages() {
    echo g++ cmake make pkg-config googletest libgtest-dev libnl-route-3-dev busybox-static \
        iproute2 procps util-linux git "$(boost_packages)"
}

# Only for the hardening checks: clang for clang-tidy, and libFuzzer's runtime for that clang
# (libclang-rt-N-dev: 14 on Debian 12, 19 on Debian 13), whether clang is installed or not yet.
hardening_packages() {
    version=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\)\..*/\1/p')
    [ -n "$version" ] ||
        version=$(apt-cache depends clang 2>/dev/null | sed -n 's/^ *Depends: clang-\([0-9]*\)$/\1/p')
    echo clang clang-tidy ${version:+"libclang-rt-$version-dev"}
}

# The packages among $@ that are not installed yet.
missing_packages() {
    installed=$(dpkg-query -W -f='${db:Status-Abbrev}${Package}\n' "$@" 2>/dev/null |
        sed -n 's/^ii *//p')
    for package in "$@"; do
        echo "$installed" | grep -qx "$package" || printf '%s ' "$package"
    done
}

# Installs what $1 (packages or hardening_packages) names and is missing.
install_missing() {
    wanted=$($1)
    # shellcheck disable=SC2086 # one word per package
    missing=$(missing_packages $wanted)
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "run.sh: missing Debian packages: $missing" >&2
        echo "run.sh: install them as root: apt-get install $missing" >&2
        exit 1
    fi
    apt-get update -q
    # Asked again with fresh package lists, which may offer other names.
    wanted=$($1)
    # shellcheck disable=SC2086
    missing=$(missing_packages $wanted)
    [ -z "$missing" ] && return 0
    echo "run.sh: installing $missing"
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
}

setup() {
    install_missing packages
}

# The benchmark's peers: bubblewrap and crun, the field's references for steps 4 and 5.
bench_packages() {
    echo bubblewrap crun
}

# ./run.sh bench [--against REF] [nsp_bench options]: the start-up benchmark
# (docs/performance.md). With --against REF, git REF is built in a scratch tree too and both
# builds run in the same interleaved rounds, against the same floors, side by side.
bench() {
    build
    install_missing bench_packages
    cmake --build build --target bench
    if [ "${1:-}" = --against ]; then
        [ $# -ge 2 ] || { echo "usage: ./run.sh bench --against REF [OPTIONS]" >&2; exit 2; }
        ref=$2
        shift 2
        scratch=$(mktemp -d /tmp/ns-process-against.XXXXXX)
        trap 'rm -rf "$scratch"' EXIT
        git archive --format=tar "$ref" | tar -C "$scratch" -xf -
        echo "run.sh: building $ref ($(git rev-parse --short "$ref")) in $scratch"
        cmake -S "$scratch" -B "$scratch/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
        cmake --build "$scratch/build" -j"$(nproc)" --target \
            step01_uts step02_user step03_mount step04_rootfs step05_network netsetgo >/dev/null
        # Fresh copies of both: a binary as the linker wrote it starts slower than a copy
        # (docs/performance.md, "A trap in measuring"), so both are timed as copies.
        cp -r build/bin "$scratch/this"
        cp -r "$scratch/build/bin" "$scratch/ref"
        set -- --bin "$scratch/this" --also-bin "$ref=$scratch/ref" "$@"
    fi
    build/tests/bench/nsp_bench "$@"
}

# ./run.sh learn N [DIR]: step N's plain listing (step0N_*/plain.cpp) with the regions marked
# "// [N] what (chapter N §S)" ... "// [/N]" replaced by "// TODO: what (chapter N §S)"; the
# other steps' markers become plain comments. Generated each time, never kept as a copy.
learn() {
    case ${1:-} in [1-5]) ;; *) echo "usage: ./run.sh learn N [DIR]   (N: 1-5)" >&2; exit 2 ;; esac
    # $shown: the file as the caller would name it.
    if [ $# -ge 2 ]; then
        shown=$2/step0$1.cpp
        case $2 in /*) dir=$2 ;; *) dir=$caller_dir/$2 ;; esac
    else
        dir=learn
        shown=learn/step0$1.cpp
        [ "$caller_dir" -ef . ] || shown=$(pwd)/$shown
    fi
    file=$dir/step0$1.cpp
    if [ -e "$file" ]; then
        echo "run.sh: $shown exists, not overwritten (move it away to start again)" >&2
        exit 1
    fi
    mkdir -p "$dir"
    awk -v n="$1" '
        match($0, /^ *\/\/ \[[1-5]\] /) {
            indent = substr($0, 1, index($0, "/") - 1)
            step = substr($0, RLENGTH - 2, 1)
            what = substr($0, RLENGTH + 1)
            if (step == n) { print indent "// TODO: " what; todo = 1; said = 0 }
            else print indent "// " what
            next
        }
        /^ *\/\/ \[\/[1-5]\]$/ { todo = 0; next }
        todo && !said && /^ *\/\// { print; next }
        todo { said = 1; next }
        { print }' step0"$1"_*/plain.cpp >"$file"
    echo "run.sh: wrote $shown: step $1 with $(grep -c 'TODO:' "$file") TODOs;" \
        "check it with ./run.sh check $1 $shown"
}

# ./run.sh check N FILE: FILE built with this build's compiler and warnings, then the core
# checks of stages 1..N (tests/core_test.cpp) against it, stopping at the first failure.
check() {
    case ${1:-} in [1-5]) ;; *) echo "usage: ./run.sh check N FILE   (N: 1-5)" >&2; exit 2 ;; esac
    [ $# -eq 2 ] || { echo "usage: ./run.sh check N FILE   (N: 1-5)" >&2; exit 2; }
    configured_here build
    if [ -f build/CMakeCache.txt ]; then
        cmake --build build -j"$(nproc)" --target core_test >/dev/null
    elif [ ! -x build/tests/core_test ]; then
        build core_test >/dev/null
    fi
    checks=$(pwd)/build/tests/core_test
    cd "$caller_dir"
    exec "$checks" --check "$1" "$2"
}

# A checkout copied (cp -a) or moved brings along a build directory whose CMake cache names
# the old place: CMake refuses it ("The current CMakeCache.txt directory ... is different"),
# and its objects were built from the old sources. So when build dir $1 was configured for
# another checkout, it is emptied but for its rootfs (which the build makes again) and the
# fuzzers' findings, and configured afresh, and one line says so.
configured_here() {
    cache=$1/CMakeCache.txt
    [ -f "$cache" ] || return 0
    was=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$cache")
    if [ "$was" = "$PWD" ] || [ "$was" = "$(pwd -P)" ]; then return 0; fi
    echo "run.sh: $1/ was configured in $was (a copied or moved checkout): configuring and building it again here" >&2
    find "$1" -mindepth 1 -maxdepth 1 ! -name rootfs ! -name fuzz-artifacts -exec rm -rf {} +
}

# What a learner runs from build/bin: the demo and own-rootfs build these (and the demo the
# rootfs), not the tests.
runtimes="step01_uts step02_user step03_mount step04_rootfs step05_network netsetgo own-rootfs enter"

# Installs what is missing, configures build/ and builds the targets $@ (every one without).
build() {
    setup
    configured_here build
    cmake --preset default >/dev/null
    [ $# -eq 0 ] || set -- --target "$@"
    cmake --build build -j"$(nproc)" "$@"
}

# The comment at the top of this file: what --help prints.
usage() {
    sed -n '2,/^set -eu$/{/^set -eu$/d;s/^# \{0,1\}//;p}' run.sh
}

case "${1:-}" in
-h | --help | help) usage ;;
setup) setup ;;
packages)
    packages | tr ' ' '\n'
    hardening_packages | tr ' ' '\n'
    bench_packages | tr ' ' '\n'
    ;;
build) build ;;
learn)
    shift
    learn "$@"
    ;;
check)
    shift
    check "$@"
    ;;
demo)
    # shellcheck disable=SC2086 # one word per target
    build $runtimes rootfs
    # In a network namespace of its own, so the demo's bridge never touches this machine's
    # network and disappears when the demo ends.
    echo "run.sh: starting build/bin/step05_network in a fresh network namespace;"
    echo "run.sh: try 'ip addr; ping -c 1 10.10.10.1', then 'exit' to leave"
    exec unshare --net build/bin/step05_network
    ;;
test)
    build
    ctest --test-dir build --output-on-failure -j"$(nproc)" -LE 'soak|realroot'
    ;;
sanitize)
    setup
    configured_here build-asan
    cmake --preset asan >/dev/null
    cmake --build build-asan -j"$(nproc)"
    # Not the mutants nor the exercises: they rebuild a scratch tree without sanitizers, as
    # `test` already did.
    ctest --test-dir build-asan --output-on-failure -j"$(nproc)" -LE 'soak|mutants|exercises|realroot'
    ;;
tidy)
    build
    install_missing hardening_packages
    run-clang-tidy -quiet -p build 'common/.*\.cpp$' 'step0[1-5]_[a-z]+/.*\.cpp$'
    ;;
fuzz)
    setup
    install_missing hardening_packages
    configured_here build-fuzz
    tests/fuzz/run-fuzz.sh "${2:-20}"
    ;;
soak)
    build
    ctest --test-dir build --output-on-failure -L soak
    ;;
bench)
    shift
    bench "$@"
    ;;
clang)
    setup
    install_missing hardening_packages
    configured_here build-clang
    cmake --preset clang >/dev/null
    cmake --build build-clang -j"$(nproc)"
    ctest --test-dir build-clang --output-on-failure -j"$(nproc)" -LE 'soak|mutants|exercises|realroot'
    ;;
distro)
    tests/distro/run-distro.sh "${2:-debian13}"
    ;;
realroot)
    build
    tree=$(tests/distro/run-distro.sh --tree debian13)
    NSP_REALROOT_TREE=$tree ctest --test-dir build --output-on-failure -L realroot
    ;;
own-rootfs)
    [ $# -eq 2 ] || { echo "usage: ./run.sh own-rootfs PATH" >&2; exit 2; }
    # shellcheck disable=SC2086
    build $runtimes >/dev/null
    build/bin/own-rootfs "$2"
    ;;
*)
    if [ -n "${1:-}" ]; then echo "run.sh: no command '$1'" >&2; fi
    usage >&2
    exit 2
    ;;
esac
