"""The image kind on a remote host: the run's pool there, and the base, kernel and initrd in it.

Nothing of this machine's file system reaches a remote host: the base image (unless
`image.remote_base` names one already there), the kernel and the initrd are uploaded into
the run's pool once per host; each guest then gets an overlay, its seed and its console as
volumes of the same pool, so removing the pool removes everything the run put there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import libvirt

from supervm.launcher import volumes
from supervm.launcher.spec import ImageSpec
from supervm.launcher.state import RunState
from supervm.launcher.undo import UndoStack
from supervm.launcher.volumes import BackingStore, DirPool, Volume, VolumeError

#: Names of the volumes every guest on the host shares.
BASE, KERNEL, INITRD = "base", "vmlinuz", "initrd.img"


@dataclass(frozen=True)
class LocalFiles:
    """What a remote host gets from this machine: the base (None: remote_base), kernel, initrd."""

    base: Path | None
    kernel: Path
    initrd: Path


@dataclass(frozen=True)
class HostStore:
    """The run's pool on one host and the shared volumes in it."""

    uri: str
    pool: libvirt.virStoragePool
    base: BackingStore
    kernel: str
    initrd: str

    def guest_volumes(self, name: str, disk_gib: int | None, seed: Path,
                      stack: UndoStack, remote_base: str | None = None,
                      log: Callable[[str], None] = print) -> tuple[str, str, str]:
        """Create guest `name`'s overlay, seed and console volumes; return their paths."""
        capacity = None if disk_gib is None else disk_gib << 30  # None: the base's size
        try:
            overlay = volumes.create_volume(
                self.pool, Volume(f"{name}.qcow2", capacity, "qcow2", self.base), stack)
        except VolumeError as exc:
            if remote_base is None:
                raise
            raise VolumeError(f"image.remote_base: {remote_base}: {exc}") from None
        seed_vol = volumes.create_volume(
            self.pool, Volume(f"{name}-seed.iso", seed.stat().st_size), stack)
        volumes.upload(seed_vol, seed, log=log)
        # QEMU appends the serial console to this file; readiness reads it back over libvirt.
        console = volumes.create_volume(self.pool, Volume(f"{name}-console.log", 0), stack)
        return overlay.path(), seed_vol.path(), console.path()


def _uploaded(pool: libvirt.virStoragePool, name: str, source: Path, stack: UndoStack,
              run: RunState, log: Callable[[str], None]) -> str:
    """Upload `source` as raw volume `name` (its bytes as they are); return its path."""
    vol = volumes.create_volume(pool, Volume(name, source.stat().st_size), stack)
    host = volumes.host_of(pool.connect().getURI())
    log(f"upload {source} ({source.stat().st_size >> 20} MiB) to {vol.path()} on {host}")
    seconds = volumes.upload(vol, source, log=log)
    log(f"uploaded {source.name} to {host} in {seconds:.1f} s")
    run.timings[f"upload_s:{host}:{name}"] = round(seconds, 2)
    return vol.path()


def _remote_base(conn: libvirt.virConnect, path: str, fmt: str) -> BackingStore:
    """Return the host's own base image as a backing store (a volume of any pool, or a file)."""
    try:
        return BackingStore(conn.storageVolLookupByPath(path).path(), fmt)
    except libvirt.libvirtError:
        # Not in a pool: libvirt checks the file when it creates the first overlay on it.
        return BackingStore(path, fmt)


def open_store(conn: libvirt.virConnect, uri: str, run: RunState, state_dir: Path,
               image: ImageSpec, local: LocalFiles, stack: UndoStack,
               log: Callable[[str], None] = print) -> HostStore:
    """Make the run's pool on host `uri` with the shared volumes, or find it (added guests)."""
    name = volumes.pool_name(run.run_id)
    fmt = image.base_format
    if uri in run.pools:  # a guest added to a run that is up: the pool is there already
        pool = volumes.lookup_pool(conn, run.pools[uri])
        if pool is None:
            raise VolumeError(f"{uri}: the run's pool {run.pools[uri]} is gone")
        base = (_remote_base(conn, image.remote_base, fmt) if image.remote_base else
                BackingStore(pool.storageVolLookupByName(BASE).path(), fmt))
        return HostStore(uri, pool, base, pool.storageVolLookupByName(KERNEL).path(),
                         pool.storageVolLookupByName(INITRD).path())
    run.pools[uri] = name
    run.save(state_dir)  # named before it exists: a crash from here on leaves it findable
    pool = volumes.create_pool(conn, DirPool(name, f"{image.pool_dir.rstrip('/')}/{name}"),
                               stack)
    if image.remote_base is not None:
        base = _remote_base(conn, image.remote_base, fmt)
    else:
        assert local.base is not None  # the spec requires base where remote_base is not set
        base = BackingStore(_uploaded(pool, BASE, local.base, stack, run, log), fmt)
    kernel = _uploaded(pool, KERNEL, local.kernel, stack, run, log)
    initrd = _uploaded(pool, INITRD, local.initrd, stack, run, log)
    return HostStore(uri, pool, base, kernel, initrd)
