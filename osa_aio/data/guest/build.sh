#!/bin/sh
# build.sh - build osa-aio's test guest image (a cirros stand-in) from Debian packages.
#
#   build.sh OUTDIR
#
# Produces OUTDIR/vmlinuz, OUTDIR/initrd.gz and OUTDIR/manifest.txt.
# The guest is a busybox initramfs: virtio-net, DHCP (with option 121 routes), EC2-style
# metadata (hostname + ssh key), dropbear on 22, busybox httpd on 80 (big.bin, /cgi-bin/up).
#
# Needs on the build machine: apt-get (with a working Debian bookworm source), dpkg-deb,
# gzip, sha256sum, and GNU cpio (or busybox with the cpio applet). Nothing is installed:
# packages are fetched with `apt-get download` and unpacked with `dpkg-deb -x`.
# It must run on x86_64 (it executes the downloaded busybox and ld.so to list applets and
# shared-library dependencies). Root is not required; when run as root it also chroot-tests
# dropbear inside the assembled tree.
#
# Environment overrides:
#   KERNEL_META   kernel meta package        (default linux-image-cloud-amd64)
#   MODULES       modules wanted, deps added (default "virtio_pci virtio_net virtio_blk";
#                 virtio_pci is the transport: no module depends on it, so name it)
#   GUEST_SRC     dir holding init and udhcpc.script (default: this script's dir)
#   KEEP_WORK=1   keep the temp dir
set -eu

OUT=${1:?usage: build.sh OUTDIR}
KERNEL_META=${KERNEL_META:-linux-image-cloud-amd64}
MODULES=${MODULES:-"virtio_pci virtio_net virtio_blk"}
GUEST_SRC=${GUEST_SRC:-$(cd "$(dirname "$0")" && pwd)}
ARCH_TRIPLET=x86_64-linux-gnu

T0=$(date +%s.%N)
log() { echo "build: $*" >&2; }
die() { echo "build: ERROR: $*" >&2; exit 1; }

[ -r "$GUEST_SRC/init" ] || die "missing $GUEST_SRC/init"
[ -r "$GUEST_SRC/udhcpc.script" ] || die "missing $GUEST_SRC/udhcpc.script"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

WORK=$(mktemp -d /tmp/guest-build.XXXXXX)
# apt-get download as root fetches as user _apt, which must be able to WRITE the target dir,
# else: "W: Download is performed unsandboxed as root as file ... couldn't be accessed by
# user '_apt'. - pkgAcquire::Run (13: Permission denied)"  -> 0755 path + _apt-owned debs dir.
chmod 0755 "$WORK"
[ "${KEEP_WORK:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
DEBS=$WORK/debs; X=$WORK/x; R=$WORK/root
mkdir -p "$DEBS" "$X" "$R"
chmod 0755 "$DEBS"
[ "$(id -u)" = 0 ] && id _apt >/dev/null 2>&1 && chown _apt "$DEBS"

# ---------------------------------------------------------------- resolve + download
KPKG=$(apt-cache depends "$KERNEL_META" 2>/dev/null |
       awk '$1 ~ /Depends:/ && $2 ~ /^linux-image-[0-9]/ {print $2; exit}')
[ -n "$KPKG" ] || die "cannot resolve the kernel package behind $KERNEL_META (apt-get update?)"
KVER=${KPKG#linux-image-}
log "kernel package $KPKG"

# dropbear-bin and its run-time dependency closure (Depends/PreDepends only). Only the
# shared objects that dropbear really loads are copied into the image (see below).
DBDEPS=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
           --no-breaks --no-replaces --no-enhances dropbear-bin |
         grep -v '^ ' | grep -v '^<' | sort -u)
PKGS="$KPKG busybox-static $DBDEPS"
log "downloading: $(echo $PKGS)"
(cd "$DEBS" && apt-get download -q $PKGS >/dev/null) || die "apt-get download failed"

for d in "$DEBS"/*.deb; do dpkg-deb -x "$d" "$X"; done

# ---------------------------------------------------------------- skeleton
mkdir -p "$R/bin" "$R/sbin" "$R/usr/bin" "$R/usr/sbin" "$R/etc/dropbear" "$R/proc" "$R/sys" \
         "$R/dev" "$R/run" "$R/tmp" "$R/var/log" "$R/root" "$R/www/cgi-bin" \
         "$R/lib/modules" "$R/lib64" "$R/lib/$ARCH_TRIPLET" "$R/usr/lib/$ARCH_TRIPLET"
ln -s ../run "$R/var/run"
chmod 1777 "$R/tmp"; chmod 0700 "$R/root"

# busybox + applet links (made at build time; /init falls back to --install -s)
cp "$X/bin/busybox" "$R/bin/busybox"
"$R/bin/busybox" --list-full | while read -r a; do
    [ "$a" = bin/busybox ] && continue
    [ -e "$R/$a" ] || ln -s /bin/busybox "$R/$a"
done

# ---------------------------------------------------------------- dropbear + libraries
cp "$X/usr/sbin/dropbear" "$R/usr/sbin/dropbear"
[ -x "$X/usr/bin/dropbearkey" ] && cp "$X/usr/bin/dropbearkey" "$R/usr/bin/dropbearkey"
LDSO_LINK=lib64/ld-linux-x86-64.so.2          # dropbear's PT_INTERP on amd64
LDSO=$(readlink -f "$X/$LDSO_LINK" 2>/dev/null || true)
case "$LDSO" in "$X"/*) ;; *) LDSO=$X/lib/$ARCH_TRIPLET/ld-linux-x86-64.so.2 ;; esac
[ -x "$LDSO" ] || die "no dynamic loader in the extracted libc6"
LIBPATH=$X/lib/$ARCH_TRIPLET:$X/usr/lib/$ARCH_TRIPLET
# ask the *downloaded* loader which objects it maps, resolved inside the extracted tree
NEEDED=$("$LDSO" --library-path "$LIBPATH" --list "$X/usr/sbin/dropbear") ||
    die "ld.so --list failed for dropbear"
echo "$NEEDED" | grep -q 'not found' && die "unresolved libraries: $NEEDED"
LIBS=""
for f in $(echo "$NEEDED" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'); do
    rel=${f#$X/}
    case "$rel" in */ld-linux-*) continue ;; esac     # the loader is copied below
    mkdir -p "$R/$(dirname "$rel")"
    cp -L "$f" "$R/$rel"
    LIBS="$LIBS $rel"
done
cp -L "$LDSO" "$R/lib/$ARCH_TRIPLET/ld-linux-x86-64.so.2"
ln -sf /lib/$ARCH_TRIPLET/ld-linux-x86-64.so.2 "$R/$LDSO_LINK"
log "dropbear libraries:$LIBS"

# ---------------------------------------------------------------- kernel + modules
KDIR=$X/lib/modules/$KVER
[ -f "$X/boot/vmlinuz-$KVER" ] || die "no /boot/vmlinuz-$KVER in $KPKG"
[ -d "$KDIR" ] || die "no $KDIR"

modfile() {   # module name -> path of its .ko (name may use - or _)
    n1=$1; n2=$(echo "$1" | tr _ -); n3=$(echo "$1" | tr - _)
    find "$KDIR/kernel" \( -name "$n1.ko*" -o -name "$n2.ko*" -o -name "$n3.ko*" \) | head -n1
}
is_builtin() {
    [ -f "$KDIR/modules.builtin" ] || return 1
    grep -Eq "/($1|$(echo "$1" | tr _ -))\.ko$" "$KDIR/modules.builtin"
}
moddeps() {   # "depends=" of a .ko's .modinfo section (modules.dep is made by depmod, not shipped)
    case "$1" in
        *.ko) cat "$1" ;; *.ko.xz) xz -dc "$1" ;; *.ko.zst) zstd -dc "$1" ;; *.ko.gz) gzip -dc "$1" ;;
    esac | tr '\0' '\n' | sed -n 's/^depends=//p' | head -n1 | tr ',' ' '
}
ORDER=""
visit() {    # depth-first: dependencies before dependants
    case " $ORDER " in *" $1 "*) return 0 ;; esac
    if is_builtin "$1"; then log "module $1 is built in"; return 0; fi
    f=$(modfile "$1"); [ -n "$f" ] || die "module $1 not found in $KPKG"
    for d in $(moddeps "$f"); do visit "$d"; done
    ORDER="$ORDER $1"
}
for m in $MODULES; do visit "$m"; done
: > "$R/modules.list"
for m in $ORDER; do
    f=$(modfile "$m")
    case "$f" in
        *.ko) cp "$f" "$R/lib/modules/$m.ko" ;;
        *.ko.xz) xz -dc "$f" > "$R/lib/modules/$m.ko" ;;
        *.ko.zst) zstd -dc "$f" > "$R/lib/modules/$m.ko" ;;
        *.ko.gz) gzip -dc "$f" > "$R/lib/modules/$m.ko" ;;
    esac
    echo "$m" >> "$R/modules.list"
done
log "modules (load order):$ORDER"

# ---------------------------------------------------------------- guest scripts + etc
install -m 0755 "$GUEST_SRC/init" "$R/init"
install -m 0755 "$GUEST_SRC/udhcpc.script" "$R/udhcpc.script"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$R/etc/passwd"
printf 'root:*:19000:0:99999:7:::\n' > "$R/etc/shadow"; chmod 0600 "$R/etc/shadow"
printf 'root:x:0:\ntty:x:5:\n' > "$R/etc/group"
printf '/bin/sh\n/bin/ash\n' > "$R/etc/shells"
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n' > "$R/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n' > "$R/etc/hosts"
echo "osa-aio test guest, built $(date -u +%Y-%m-%dT%H:%M:%SZ) from Debian packages ($KPKG)" > "$R/etc/guest-release"

# optional self-test: does dropbear start inside the tree with the tree's own loader/libs?
if [ "$(id -u)" = 0 ]; then
    chroot "$R" /usr/sbin/dropbear -V 2>&1 | grep -qi dropbear ||
        die "dropbear does not run inside the assembled tree: $(chroot "$R" /usr/sbin/dropbear -V 2>&1)"
    log "self-test: $(chroot "$R" /usr/sbin/dropbear -V 2>&1 | head -n1)"
fi

# ---------------------------------------------------------------- pack
if cpio --version 2>/dev/null | grep -q GNU; then
    (cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 > "$OUT/initrd.gz.tmp"
else
    [ "$(id -u)" = 0 ] || die "without GNU cpio (-R 0:0) the build must run as root"
    (cd "$R" && find . | LC_ALL=C sort | "$R/bin/busybox" cpio -o -H newc) | gzip -1 > "$OUT/initrd.gz.tmp"
fi
mv "$OUT/initrd.gz.tmp" "$OUT/initrd.gz"
cp "$X/boot/vmlinuz-$KVER" "$OUT/vmlinuz"

# ---------------------------------------------------------------- manifest
T1=$(date +%s.%N)
SECS=$(awk -v a="$T0" -v b="$T1" 'BEGIN{printf "%.1f", b-a}')
{
    echo "# osa-aio test guest image"
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "kernel_meta=$KERNEL_META"
    echo "kernel_release=$KVER"
    echo "build_seconds=$SECS"
    for d in "$DEBS"/*.deb; do
        echo "package $(dpkg-deb -f "$d" Package) $(dpkg-deb -f "$d" Version) deb_bytes=$(stat -c %s "$d")"
    done
    for m in $ORDER; do echo "module $m"; done
    for l in $LIBS lib/$ARCH_TRIPLET/ld-linux-x86-64.so.2; do echo "lib /$l bytes=$(stat -c %s "$R/$l")"; done
    echo "tree_bytes=$(du -sb "$R" | cut -f1)"
    for f in vmlinuz initrd.gz; do
        echo "file $f bytes=$(stat -c %s "$OUT/$f") sha256=$(sha256sum "$OUT/$f" | cut -d' ' -f1)"
    done
} > "$OUT/manifest.txt"
log "vmlinuz $(stat -c %s "$OUT/vmlinuz") bytes, initrd.gz $(stat -c %s "$OUT/initrd.gz") bytes"
log "done in ${SECS}s -> $OUT"
