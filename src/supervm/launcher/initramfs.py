"""The hostfs guest's initramfs: busybox-static, the guest kernel's modules and an init script.

Stage 1 (busybox) loads the modules, mounts the host's root over 9p read-only under a tmpfs
overlay and switches into it; stage 2 (the host's own shell) sets hostname and address from
the kernel command line, mounts the run's read-write share, starts qemu-ga and prints the
ready marker on the serial console.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import lzma
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: Printed on the serial console once the guest agent runs; readiness waits for it.
READY_MARKER = "SUPERVM-GUEST-READY"

#: The modules a hostfs guest needs (their dependencies are added from modules.dep).
MODULES = ("virtio_pci", "virtio_net", "virtio_console", "9pnet_virtio", "9p", "overlay")

BUSYBOX = Path("/bin/busybox")

_STAGE1 = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules.order); do insmod "/modules/$m" || echo "insmod $m failed"; done
mkdir -p /lower /upper /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000 hostroot /lower || exec sh
mount -t tmpfs -o size=256m tmpfs /upper
mkdir -p /upper/data /upper/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work /newroot
cp /stage2 /newroot/supervm-stage2
chmod 755 /newroot/supervm-stage2
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /supervm-stage2
"""

# Stage 2 runs the host's /bin/sh inside the overlay; PID 1 stays a shell that sleeps.
_STAGE2 = r"""#!/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs tmpfs /run
# /tmp stays the overlay's (the host's /tmp, writes to the tmpfs upper): a checkout or a
# virtualenv under the host's /tmp must run in the guest too.
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o size=50% tmpfs /dev/shm
arg() { for w in $(cat /proc/cmdline); do case "$w" in "$1"=*) echo "${w#*=}";; esac; done; }
hostname "$(arg svm.hostname)"
ip link set lo up
ip addr add "$(arg svm.ip)" dev eth0
ip link set eth0 up
work="$(arg svm.work)"
if [ -n "$work" ]; then
    mkdir -p "$work"
    mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 work "$work"
fi
port=""
for p in /sys/class/virtio-ports/*; do
    [ "$(cat "$p/name" 2>/dev/null)" = org.qemu.guest_agent.0 ] && port="/dev/${p##*/}"
done
qemu-ga -m virtio-serial -p "$port" -d -t /run
echo "@READY@ $(hostname)" > /dev/ttyS0
while :; do sleep 3600; done
"""


@dataclass(frozen=True)
class GuestKernel:
    """A kernel image and its module tree."""

    version: str
    image: Path
    modules: Path


def find_kernel(kernel: str | None = None) -> GuestKernel:
    """Return the given kernel, else the newest /boot/vmlinuz-* that has /lib/modules."""
    candidates = [Path(kernel)] if kernel else sorted(Path("/boot").glob("vmlinuz-*"),
                                                      reverse=True)
    for image in candidates:
        version = image.name.removeprefix("vmlinuz-")
        modules = Path("/lib/modules") / version
        if image.is_file() and (modules / "modules.dep").is_file():
            return GuestKernel(version, image, modules)
    raise FileNotFoundError(
        "no guest kernel: need /boot/vmlinuz-VERSION and /lib/modules/VERSION "
        "(apt-get install linux-image-amd64; scripts/system-packages.sh does)")


def module_order(modules_dir: Path, wanted: tuple[str, ...] = MODULES) -> list[str]:
    """Return the module files to load, dependencies first, from modules.dep."""
    deps: dict[str, list[str]] = {}
    for line in (modules_dir / "modules.dep").read_text().splitlines():
        path, _, rest = line.partition(":")
        deps[path] = rest.split()
    by_name = {re.sub(r"\.ko(\.\w+)?$", "", Path(p).name).replace("-", "_"): p for p in deps}
    builtin_file = modules_dir / "modules.builtin"
    builtin = builtin_file.read_text() if builtin_file.is_file() else ""
    order: list[str] = []

    def visit(path: str) -> None:
        if path in order:
            return
        # modules.dep lists a module's dependencies deepest last: load them in reverse.
        for dep in reversed(deps.get(path, [])):
            visit(dep)
        order.append(path)

    for name in wanted:
        if name in by_name:
            visit(by_name[name])
        elif f"/{name}.ko" not in builtin:
            raise FileNotFoundError(f"kernel module {name} not in {modules_dir}")
    return order


def _module_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix == ".xz":
        return lzma.decompress(data)
    if path.suffix == ".zst":
        return subprocess.run(["zstd", "-dc", str(path)], capture_output=True, check=True,
                              timeout=60).stdout
    if path.suffix == ".gz":
        return gzip.decompress(data)
    return data


def _newc(entries: list[tuple[str, int, bytes]]) -> bytes:
    """Return a cpio (newc) archive of (name, mode, data) entries."""
    out = io.BytesIO()
    for ino, (name, mode, data) in enumerate([*entries, ("TRAILER!!!", 0, b"")], start=1):
        raw = name.encode() + b"\0"
        header = "070701" + "".join(f"{v:08x}" for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(raw), 0))
        out.write(header.encode() + raw)
        out.write(b"\0" * (-(110 + len(raw)) % 4))
        out.write(data)
        out.write(b"\0" * (-len(data) % 4))
    return out.getvalue()


def build_initramfs(cache_dir: Path, kernel: GuestKernel) -> Path:
    """Return the initramfs for `kernel`, building it unless the cache has it (content hash)."""
    if not BUSYBOX.is_file():
        raise FileNotFoundError("/bin/busybox missing (apt-get install busybox-static)")
    order = module_order(kernel.modules)
    dirs = ["dev", "proc", "sys", "bin", "modules", "lower", "upper", "newroot"]
    entries: list[tuple[str, int, bytes]] = [(d, 0o40755, b"") for d in dirs]
    entries.append(("bin/busybox", 0o100755, BUSYBOX.read_bytes()))
    entries.append(("init", 0o100755, _STAGE1.encode()))
    entries.append(("stage2", 0o100755, _STAGE2.replace("@READY@", READY_MARKER).encode()))
    names = []
    for rel in order:
        name = re.sub(r"\.(xz|zst|gz)$", "", Path(rel).name)
        names.append(name)
        entries.append((f"modules/{name}", 0o100644, _module_bytes(kernel.modules / rel)))
    entries.append(("modules.order", 0o100644, ("\n".join(names) + "\n").encode()))
    archive = gzip.compress(_newc(entries), compresslevel=6, mtime=0)
    digest = hashlib.sha256(archive).hexdigest()[:16]
    target = cache_dir / f"initramfs-{kernel.version}-{digest}.img"
    if not target.is_file():
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(archive)
        os.replace(tmp, target)
    return target


def have_tools() -> list[str]:
    """Return what the hostfs kind needs on the host but is missing."""
    return [tool for tool in ("qemu-ga", "ip") if shutil.which(tool, path="/usr/sbin:/usr/bin:"
                                                                    "/sbin:/bin") is None]
