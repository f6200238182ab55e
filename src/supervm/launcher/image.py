"""The image guest builder: a qcow2 overlay of a cloud image and a NoCloud seed per guest.

Guests boot a kernel directly (the host's by default, with its initrd, which mounts a
virtio-blk ext4 root); cloud-init in the image reads the seed. The dev-fleet arrangement
shares this Python, its venv and supervm's checkout read-only at the same paths, and the
run's work directory read-write, so ranks run the host's supervm; production images would
bake supervm in and set `image.shares = []`.

On a remote host (spec.is_local_uri) the disks are volumes of the run's pool there
(remote_store.py), nothing is shared unless `image.shares` names directories of that host,
and job files move over ssh (staging.py).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import libvirt

from supervm.launcher import cloudinit, guests, remote_store, ssh
from supervm.launcher.cloudinit import GuestSeed, Share
from supervm.launcher.domain_xml import (
    AgentChannel,
    BridgeInterface,
    Disk,
    Domain,
    FileSerial,
    Filesystem,
    KernelBoot,
    NoBalloon,
    RunTag,
    mac_address,
)
from supervm.launcher.initramfs import find_kernel
from supervm.launcher.spec import ClusterSpec, ImageSpec, is_local_uri
from supervm.launcher.state import RunState
from supervm.launcher.undo import UndoStack

_QEMU_IMG_TIMEOUT_S = 60.0

#: Kernel arguments every image guest gets (the spec's `cmdline` is appended). noresume:
#: the host's initrd would otherwise wait for the host's swap as its resume device;
#: net.ifnames=0 keeps the NIC eth0, as the seed's network-config names it.
BASE_CMDLINE = "root=/dev/vda rw noresume console=ttyS0 panic=-1 net.ifnames=0"


def dev_fleet_shares() -> list[str]:
    """Return this Python's prefix, its venv and supervm's checkout (outermost only)."""
    import supervm

    package = Path(supervm.__file__).resolve().parent
    # An editable install (src layout) runs from the checkout; share all of it.
    checkout = package.parents[1] if package.parent.name == "src" else package.parent
    found: list[str] = []
    for path in sorted({sys.base_prefix, sys.prefix, str(checkout)}, key=len):
        if path in ("/", "/usr", "/usr/local") or any(
                path == p or path.startswith(p.rstrip("/") + "/") for p in found):
            continue  # a system prefix is the guest's own; nested paths come with the outer
        found.append(path)
    return found


def image_domain(plan: guests.GuestPlan, run_id: str, accel: str, boot: KernelBoot,
                 overlay: Path, seed: Path, shares: list[Share], bridge: str) -> Domain:
    """Return the typed definition of an image guest."""
    return Domain(
        name=plan.name, memory_mib=plan.memory_mib, vcpus=plan.vcpus,
        accel="kvm" if accel == "kvm" else "tcg", boot=boot, tag=RunTag(run_id, plan.index),
        devices=[
            Disk(str(overlay), "vda", "qcow2"),
            Disk(str(seed), "vdb", "raw", readonly=True),
            *[Filesystem(s.path, s.tag, readonly=s.readonly) for s in shares],
            BridgeInterface(bridge, mac_address(run_id, plan.index)),
            FileSerial(str(plan.console)),
            AgentChannel(),
            NoBalloon(),
        ],
    )


def create_overlay(base: Path, base_format: str, overlay: Path, size_gib: int | None) -> None:
    """Create a qcow2 overlay of `base` (the base is only read, never written)."""
    argv = ["qemu-img", "create", "-q", "-f", "qcow2", "-F", base_format, "-b", str(base),
            str(overlay)]
    if size_gib is not None:
        argv.append(f"{size_gib}G")
    try:
        subprocess.run(argv, check=True, capture_output=True, text=True,
                       timeout=_QEMU_IMG_TIMEOUT_S)
    except FileNotFoundError:
        raise RuntimeError("qemu-img missing (apt-get install qemu-utils)") from None
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"qemu-img create {overlay.name}: {exc.stderr.strip()}") from None
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"qemu-img create {overlay.name}: no answer in "
                           f"{_QEMU_IMG_TIMEOUT_S:g} s") from None


def _existing(path: str, field: str) -> Path:
    resolved = Path(path).expanduser().resolve()
    if not resolved.is_file():
        raise FileNotFoundError(f"{field}: {path}: no such file")
    return resolved


def uses_volumes(uri: str) -> bool:
    """Return whether guests on host `uri` get their disks as volumes there (remote hosts)."""
    return not is_local_uri(uri)


def _log(line: str) -> None:
    print(f"supervm-launch: {line}", file=sys.stderr, flush=True)


class ImageBuilder:
    """Makes image guests: per guest an overlay and a seed (files here, volumes remotely)."""

    def __init__(self, spec: ClusterSpec, state_dir: Path) -> None:
        assert spec.image is not None  # the spec's validation guarantees it
        self.image: ImageSpec = spec.image
        self.state_dir = state_dir
        self.launcher = spec.rank_launcher()
        # The spec requires `base` unless every host is remote and has `remote_base`.
        self.base = _existing(self.image.base, "image.base") if self.image.base else None
        if self.image.kernel is not None:
            self.kernel = str(_existing(self.image.kernel, "image.kernel"))
        else:
            self.kernel = str(find_kernel(None).image)
        if self.image.initrd is not None:
            self.initrd = str(_existing(self.image.initrd, "image.initrd"))
        else:
            version = Path(self.kernel).name.removeprefix("vmlinuz-")
            self.initrd = str(_existing(f"/boot/initrd.img-{version}", "image.initrd"))
        self.user_key = (_existing(self.image.ssh_key, "image.ssh_key").read_text().strip()
                         if self.image.ssh_key else None)
        shares = self.image.shares if self.image.shares is not None else dev_fleet_shares()
        self.shares = [Share(path, f"ro{i}") for i, path in enumerate(shares)]
        # On a remote host the paths are that host's: only shares the spec names go there.
        self.remote_shares = [Share(path, f"ro{i}") for i, path in
                              enumerate(self.image.shares or [])]
        self.keys: list[str] = []
        self.disks = Path()
        self.stores: dict[str, remote_store.HostStore] = {}

    def prepare(self, run: RunState, run_dir: Path, stack: UndoStack) -> None:
        """Make the disks directory and, for the ssh launcher, the run's key pair."""
        self.disks = run_dir / "disks"
        self.disks.mkdir()
        self.keys = [self.user_key] if self.user_key else []
        if self.launcher == "ssh":
            key, public = ssh.make_key_pair(run_dir / "ssh", f"supervm-{run.run_id}")
            run.ssh_key = str(key)
            self.keys.insert(0, public)

    def resume(self, run: RunState, run_dir: Path) -> None:
        """Take up the disks directory and key pair `prepare` made, to add guests to a run."""
        self.disks = run_dir / "disks"
        self.keys = [self.user_key] if self.user_key else []
        if run.ssh_key:
            self.keys.insert(0, Path(f"{run.ssh_key}.pub").read_text().strip())

    def _seed(self, plan: guests.GuestPlan, run: RunState, shares: list[Share],
              stack: UndoStack) -> Path:
        """Write the guest's NoCloud seed in the disks directory (undone on failure)."""
        seed = GuestSeed(plan.name, plan.name, mac_address(run.run_id, plan.index),
                         plan.address, plan.prefix, list(self.keys), shares)
        seed_path = self.disks / f"{plan.name}-seed.iso"
        cloudinit.write_seed(seed_path, cloudinit.seed_files(seed))
        stack.push(f"remove {seed_path}", lambda: seed_path.unlink(missing_ok=True))
        return seed_path

    def _boot(self, kernel: str, initrd: str) -> KernelBoot:
        return KernelBoot(kernel, initrd, f"{BASE_CMDLINE} {self.image.cmdline}".strip())

    def domain(self, plan: guests.GuestPlan, run: RunState, accel: str, stack: UndoStack,
               conn: libvirt.virConnect, uri: str) -> guests.GuestBuild:
        """Create the guest's disks and seed (each undone on failure); return its domain."""
        if uses_volumes(uri):
            return self._remote(plan, run, accel, stack, conn, uri)
        assert self.base is not None
        overlay = self.disks / f"{plan.name}.qcow2"
        create_overlay(self.base, self.image.base_format, overlay, self.image.disk_gib)
        stack.push(f"remove {overlay}", lambda: overlay.unlink(missing_ok=True))
        shares = [*self.shares, Share(run.work_dir, "work", readonly=False)]
        seed_path = self._seed(plan, run, shares, stack)
        domain = image_domain(plan, run.run_id, accel, self._boot(self.kernel, self.initrd),
                              overlay, seed_path, shares, run.bridge)
        return guests.GuestBuild(domain, files=[str(overlay), str(seed_path)])

    def _remote(self, plan: guests.GuestPlan, run: RunState, accel: str, stack: UndoStack,
                conn: libvirt.virConnect, uri: str) -> guests.GuestBuild:
        """Make the guest's disks as volumes of the run's pool on its host."""
        if uri not in self.stores:
            local = remote_store.LocalFiles(self.base, Path(self.kernel), Path(self.initrd))
            self.stores[uri] = remote_store.open_store(conn, uri, run, self.state_dir,
                                                       self.image, local, stack, _log)
        store = self.stores[uri]
        # No work share: the run's work directory is on this machine; jobs stage over ssh.
        seed_path = self._seed(plan, run, self.remote_shares, stack)
        overlay, seed, console = store.guest_volumes(
            plan.name, self.image.disk_gib, seed_path, stack, self.image.remote_base, _log)
        domain = image_domain(replace(plan, console=Path(console)), run.run_id, accel,
                              self._boot(store.kernel, store.initrd), Path(overlay),
                              Path(seed), self.remote_shares, run.bridge)
        return guests.GuestBuild(domain, files=[str(seed_path)],
                                 volumes=[overlay, seed, console], console=console)
