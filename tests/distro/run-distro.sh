#!/usr/bin/env bash
# Runs the README's test command on a fresh Debian tree, as a new user would:
#
#   tests/distro/run-distro.sh debian13|debian12 [COMMAND]      (as root; ./run.sh distro)
#   tests/distro/run-distro.sh --tree debian13|debian12          (the pristine tree's path)
#
# COMMAND (default `./run.sh test`) runs as root in a copy of this checkout at
# /root/ns-process inside a minimal Debian tree that debootstrap builds once, from the mirror
# of this machine's apt configuration, and keeps in $NSP_DISTRO_CACHE (default
# ~/.cache/ns-process/distro). Every run starts from a copy of that pristine tree, so run.sh
# installs its packages there as on a fresh machine; their .deb files are kept in the cache.
#
# Not chroot: the kernel refuses a new user namespace to a chrooted process, and the steps
# need one. The tree becomes the root of a private mount namespace (pivot_root) in a PID
# namespace of its own, so its mounts and processes end with the run and the host's mount
# table never changes. It shares this machine's network only for apt: the test suites make
# every link in a network namespace of their own.
set -euo pipefail

usage() {
    echo "usage: $0 debian13|debian12 [COMMAND]   (as root; default COMMAND: ./run.sh test)" >&2
    exit 2
}

# --tree: make the pristine tree if it is missing, print its path and stop (./run.sh realroot).
tree_only=
if [[ ${1:-} == --tree ]]; then
    tree_only=yes
    shift
fi
case "${1:-}" in
debian12) suite=bookworm ;;
debian13) suite=trixie ;;
--inside) ;;
*) usage ;;
esac

# The tree's own PATH and a root login's environment, not this shell's.
tree_env=(env -i HOME=/root LANG=C.UTF-8
          PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)

# Second half, run by the first: PID 1 of a new PID namespace, in a private mount namespace.
# The mounts below exist only in that namespace and vanish with it.
if [[ $1 == --inside ]]; then
    [[ $$ == 1 ]] || usage  # only ever in the namespaces made below, never on the host
    root=$2 archives=$3 command=$4
    mount --bind "$root" "$root"  # pivot_root needs the new root to be a mount point
    mount -t proc proc "$root/proc"
    mount -t sysfs sysfs "$root/sys"
    mount --rbind /dev "$root/dev"
    mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
    mount --bind "$archives" "$root/var/cache/apt/archives"
    cp /etc/resolv.conf "$root/etc/resolv.conf"  # apt reaches the mirror as this machine does
    cd "$root"
    mkdir -p .old-root
    pivot_root . .old-root
    # From here on every program comes from the tree.
    umount -l /.old-root
    rmdir /.old-root
    # Not exec: bash as PID 1 reaps the processes orphaned in this namespace.
    "${tree_env[@]}" TERM="${TERM:-dumb}" bash -c "cd /root/ns-process && $command"
    exit
fi

if [[ $(id -u) != 0 ]]; then
    echo "$0: needs root (debootstrap, mounts, and the README's commands run as root)" >&2
    exit 2
fi
name=$1
command=${2:-./run.sh test}
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
cache=${NSP_DISTRO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ns-process/distro}
base=$cache/$name
archives=$cache/$name.archives
mkdir -p "$cache" "$archives/partial"

# The tree has iproute2, as any installed Debian has (the minbase variant leaves it out):
# the realroot test runs `ip` in it. A tree cached without it is made again.
if [[ -d $base && ! -x $base/usr/bin/ip ]]; then
    echo "$0: $base has no iproute2: making it again" >&2
    rm -rf "$base"
fi
if [[ ! -d $base ]]; then
    if ! command -v debootstrap >/dev/null; then
        echo "$0: installing debootstrap"
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap
    fi
    # This machine's Debian mirror; on a machine that has none, debootstrap's default.
    # shellcheck disable=SC2016 # $(REPO_URI) is apt's placeholder, not the shell's
    mirror=$(apt-get indextargets --format '$(REPO_URI)' 'Identifier: Packages' 'Label: Debian' |
             head -n 1)
    echo "$0: debootstrap $suite into $base ${mirror:+from $mirror}" >&2
    rm -rf "$base.new"
    debootstrap --variant=minbase --include=iproute2 "$suite" "$base.new" ${mirror:+"$mirror"} \
        >"$base.log" 2>&1 || {
        tail -n 20 "$base.log" >&2
        exit 1
    }
    mv "$base.new" "$base"  # only a complete tree is ever reused
fi
if [[ -n $tree_only ]]; then
    echo "$base"
    exit
fi

run=$(mktemp -d "$cache/run.XXXXXX")
trap 'rm -rf "$run"' EXIT
echo "$0: a fresh copy of $base in $run"
cp -a "$base" "$run/root"
# The checkout as a learner has it: the working tree, without builds or git's metadata.
mkdir "$run/root/root/ns-process"
tar -C "$source_dir" --exclude=./.git --exclude=./build --exclude='./build-*' -cf - . |
    tar -C "$run/root/root/ns-process" -xf -
echo "$0: $(sed -n 's/^PRETTY_NAME=//p' "$run/root/etc/os-release")"

echo "$0: running '$command' in it"
# --kill-child: if this script is killed, so is everything in the tree.
unshare --mount --propagation private --pid --fork --kill-child \
    "$(readlink -f "$0")" --inside "$run/root" "$archives" "$command"
