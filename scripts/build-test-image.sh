#!/usr/bin/env bash
# Build the `image` kind's test cloud image: a minimal Debian bookworm with systemd,
# cloud-init, qemu-guest-agent and openssh-server, packed as a qcow2. Idempotent: a cached
# image is reused; prints the image's path on stdout. Needs root (debootstrap, chroot).
#
#   scripts/build-test-image.sh [CACHE_DIR]     (default: $SUPERVM_IMAGE_CACHE or
#                                                /var/cache/supervm/images)
#
# The image has no kernel of its own: guests boot the host's kernel directly (with the host's
# initrd, which mounts a virtio-blk ext4 root), so the host kernel's modules are copied in.
# No loop mounts: `mkfs.ext4 -d` fills the file system from a directory, `qemu-img convert`
# packs it. Debian packages come from the apt mirror this machine already uses.
set -euo pipefail

cache="${1:-${SUPERVM_IMAGE_CACHE:-/var/cache/supervm/images}}"
kver="${SUPERVM_GUEST_KERNEL_VERSION:-$(ls /boot/vmlinuz-* | sort -V | tail -1 | sed 's|/boot/vmlinuz-||')}"
image="$cache/debian-bookworm-supervm-$kver.qcow2"
if [ -f "$image" ]; then
    echo "$image"
    exit 0
fi
for tool in debootstrap mkfs.ext4 qemu-img; do
    command -v "$tool" >/dev/null || { echo "$tool missing: run scripts/system-packages.sh" >&2; exit 1; }
done
[ -d "/lib/modules/$kver" ] || { echo "/lib/modules/$kver missing" >&2; exit 1; }

# The mirror apt already uses (deb822 sources first, then a one-line sources.list).
mirror="$(awk '/^URIs:/ && /debian\/?$/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
if [ -z "$mirror" ]; then
    mirror="$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)"
fi
mirror="${mirror:-http://deb.debian.org/debian}"

# python3-cffi-backend: debootstrap does not resolve the virtual package cloud-init's
# python3-cryptography needs. The lib* packages: runtime libraries the host's Python, numpy
# and the MPICH wheel load (they are shared into the guest over 9p, not installed; see the
# README's dev-fleet arrangement).
packages=(systemd systemd-sysv udev kmod e2fsprogs iproute2 procps cloud-init
          qemu-guest-agent openssh-server python3-cffi-backend
          libssl3 libffi8 libsqlite3-0 libgdbm6 libuuid1 libstdc++6 libgomp1 libexpat1
          libbz2-1.0 liblzma5 zlib1g libreadline8 libncursesw6 libnl-3-200 libnl-route-3-200
          libtirpc3 libaudit1 libcap-ng0)

mkdir -p "$cache/debs"
work="$(mktemp -d "$cache/build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/root"
started=$(date +%s)
echo "build-test-image: debootstrap bookworm from $mirror" >&2
debootstrap --variant=minbase --cache-dir="$cache/debs" \
    --include="$(IFS=,; echo "${packages[*]}")" bookworm "$root" "$mirror" >&2

echo "build-test-image: configuring" >&2
mkdir -p "$root/lib/modules"
cp -a "/lib/modules/$kver" "$root/lib/modules/"
echo "/dev/vda / ext4 rw,errors=remount-ro 0 0" > "$root/etc/fstab"
: > "$root/etc/machine-id"                         # each guest makes its own at first boot
rm -f "$root"/etc/ssh/ssh_host_*                    # cloud-init makes per-guest host keys
rm -f "$root/etc/hostname"
cat > "$root/etc/cloud/cloud.cfg.d/90-supervm.cfg" <<'EOF'
# supervm test image: the seed comes from a NoCloud volume (label cidata); the network
# config (v2) is rendered for systemd-networkd.
datasource_list: [NoCloud, None]
system_info:
  network:
    renderers: [networkd]
# Under emulation every module and every host key costs seconds: keep what a fleet guest
# uses (identity, network, root's keys, bootcmd/runcmd) and one host key type; no default
# user is made (ranks log in as root).
ssh_genkeytypes: [ed25519]
cloud_init_modules: [seed_random, bootcmd, write_files, set_hostname, update_hostname,
                     update_etc_hosts, ssh]
cloud_config_modules: [runcmd]
cloud_final_modules: [scripts_user, final_message]
EOF
# Units that only cost boot time under emulation.
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
            fstrim.timer systemd-networkd-wait-online.service; do
    chroot "$root" systemctl mask "$unit" >/dev/null 2>&1 || true
done
chroot "$root" systemctl enable systemd-networkd.service >/dev/null 2>&1
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/log/*.log

echo "build-test-image: packing" >&2
mkdir -p "$cache"
mkfs.ext4 -q -L supervm-root -d "$root" "$work/root.raw" 3G
qemu-img convert -O qcow2 "$work/root.raw" "$work/image.qcow2"
mv "$work/image.qcow2" "$image"
echo "build-test-image: $image in $(( $(date +%s) - started )) s" >&2
echo "$image"
