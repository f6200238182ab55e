#!/usr/bin/env bash
# Install the Debian packages supervm needs, only those missing; safe to run again.
set -euo pipefail

# g++/make build the core; the rest is the libvirt launcher (src/supervm/launcher): QEMU with
# software emulation, the libvirt daemon and headers (libvirt-python builds against them), a
# guest kernel, busybox and cpio for the hostfs initramfs, and the guest agent; chromium: the
# browser tests drive Debian's build through Playwright (never `playwright install`);
# debootstrap builds the image kind's test image (scripts/build-test-image.sh),
# openssh-client is the ssh rank launcher, and openssh-server lets the remote-host test
# reach this machine's libvirtd over ssh on loopback (it starts its own sshd; never the
# system's).
packages=(g++ make pkg-config libvirt-dev libvirt-daemon libvirt-daemon-driver-qemu
          libvirt-clients qemu-system-x86 qemu-utils linux-image-amd64 busybox-static cpio
          qemu-guest-agent iproute2 zstd xz-utils chromium fonts-dejavu-core
          debootstrap openssh-client openssh-server)

missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing system packages: ${missing[*]}"
sudo=()
[ "$(id -u)" -ne 0 ] && sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
