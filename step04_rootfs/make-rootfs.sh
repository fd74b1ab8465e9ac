#!/bin/sh
# Builds the BusyBox root filesystem the containers of step04 and step05 pivot into, from
# Debian's busybox-static: offline, reproducible (fixed timestamps), idempotent (built
# beside the target and renamed into place).
#   make-rootfs.sh OUTPUT_DIR [BUSYBOX]
set -eu
out=${1:?usage: make-rootfs.sh OUTPUT_DIR [BUSYBOX]}
busybox=${2:-/bin/busybox}
[ -x "$busybox" ] || { echo "make-rootfs.sh: $busybox not found: apt-get install busybox-static" >&2; exit 1; }

tmp="$out.new.$$"
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
mkdir -p "$tmp/bin" "$tmp/sbin" "$tmp/usr/bin" "$tmp/usr/sbin" "$tmp/etc" \
         "$tmp/proc" "$tmp/dev" "$tmp/sys" "$tmp/tmp" "$tmp/root"
cp "$busybox" "$tmp/bin/busybox"
for applet in $("$busybox" --list-full); do
    [ -e "$tmp/$applet" ] || ln -s /bin/busybox "$tmp/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$tmp/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' > "$tmp/etc/group"
echo ns-process > "$tmp/etc/hostname"
chmod 0755 "$tmp" "$tmp/bin/busybox"
chmod 1777 "$tmp/tmp"
chmod 0700 "$tmp/root"
find "$tmp" -exec touch -h -d @0 {} +

rm -rf "$out"
mv "$tmp" "$out"
