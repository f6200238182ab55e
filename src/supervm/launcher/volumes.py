"""Disks on a hypervisor host through libvirt: the run's dir pool, its volumes, uploads.

A remote host is reached only through its libvirt connection: image guests there get their
base, overlays, seeds, kernel and consoles as volumes of one storage pool per run, named
`supervm-RUNID` (tagged like the run's domains and bridges, so `gc` finds it after a crash).
Pool and volume XML are built from typed objects, as domain XML is.
"""

from __future__ import annotations

import contextlib
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import libvirt

from supervm.launcher.domain_xml import sub_element, xml_text
from supervm.launcher.undo import UndoStack

#: Prefix of every pool a run makes: `supervm-<run id>`.
POOL_PREFIX = "supervm-"
#: Where a run's pool directory goes on its host unless `image.pool_dir` says otherwise.
DEFAULT_POOL_DIR = "/var/lib/libvirt/images"
#: Seconds an upload may take unless the caller gives a deadline (a 0.7 GB base over a
#: slow link included); each chunk checks it.
UPLOAD_DEADLINE_S = 1800.0
#: Seconds between two progress lines of an upload.
_PROGRESS_EVERY_S = 5.0


class VolumeError(RuntimeError):
    """A pool or volume step failed; the message names the host, the volume and the step."""


def pool_name(run_id: str) -> str:
    """Return the tagged name of run `run_id`'s pool."""
    return f"{POOL_PREFIX}{run_id}"


def run_of_pool(name: str) -> str | None:
    """Return the run id a pool name carries, or None for pools no run made."""
    run_id = name.removeprefix(POOL_PREFIX)
    if name == run_id or len(run_id) != 8 or any(c not in "0123456789abcdef" for c in run_id):
        return None
    return run_id


def host_of(uri: str) -> str:
    """Return the host part of a libvirt URI for messages (no key file paths), else the URI."""
    return urlsplit(uri).netloc or uri


@dataclass(frozen=True)
class DirPool:
    """A directory storage pool: every volume is a file in `path` on the host."""

    name: str
    path: str

    def element(self) -> ET.Element:
        """Return the <pool> element."""
        pool = ET.Element("pool", type="dir")
        sub_element(pool, "name", self.name)
        target = sub_element(pool, "target")
        sub_element(target, "path", self.path)
        # Only root (QEMU runs as root here) reads the run's disks and seeds.
        permissions = sub_element(target, "permissions")
        sub_element(permissions, "mode", "0700")
        return pool

    def xml(self) -> str:
        """Return the pool XML as an indented string."""
        return xml_text(self.element())


@dataclass(frozen=True)
class BackingStore:
    """The read-only image an overlay volume is backed by (a path on the same host)."""

    path: str
    format: Literal["qcow2", "raw"] = "qcow2"


@dataclass(frozen=True)
class Volume:
    """A volume to create: its name in the pool, size, format and optional backing store."""

    name: str
    capacity: int | None  # bytes; None only with a backing store (then: the backing's size)
    format: Literal["qcow2", "raw"] = "raw"
    backing: BackingStore | None = None

    def element(self) -> ET.Element:
        """Return the <volume> element."""
        vol = ET.Element("volume")
        sub_element(vol, "name", self.name)
        if self.capacity is not None:
            sub_element(vol, "capacity", str(self.capacity), unit="bytes")
        # Sparse: an omitted allocation means "all of it", which for qcow2 means preallocation.
        sub_element(vol, "allocation", "0", unit="bytes")
        target = sub_element(vol, "target")
        sub_element(target, "format", type=self.format)
        if self.backing is not None:
            backing = sub_element(vol, "backingStore")
            sub_element(backing, "path", self.backing.path)
            sub_element(backing, "format", type=self.backing.format)
        return vol

    def xml(self) -> str:
        """Return the volume XML as an indented string."""
        return xml_text(self.element())


def _fail(uri: str, what: str, exc: libvirt.libvirtError) -> VolumeError:
    return VolumeError(f"{uri}: {what}: {exc.get_error_message() or exc}")


def create_pool(conn: libvirt.virConnect, pool: DirPool,
                stack: UndoStack) -> libvirt.virStoragePool:
    """Define, build and start `pool`; push the inverse of each step on `stack`."""
    uri = conn.getURI()
    try:
        made = conn.storagePoolDefineXML(pool.xml(), 0)
    except libvirt.libvirtError as exc:
        raise _fail(uri, f"define pool {pool.name}", exc) from None
    stack.push(f"undefine pool {pool.name} on {uri}", made.undefine)
    try:
        made.build(0)
    except libvirt.libvirtError as exc:
        raise _fail(uri, f"build pool {pool.name} (make {pool.path})", exc) from None
    stack.push(f"delete pool directory {pool.path} on {uri}", lambda: made.delete(0))
    try:
        made.create(0)
    except libvirt.libvirtError as exc:
        raise _fail(uri, f"start pool {pool.name}", exc) from None
    stack.push(f"stop pool {pool.name} on {uri}", made.destroy)
    return made


def create_volume(pool: libvirt.virStoragePool, volume: Volume,
                  stack: UndoStack) -> libvirt.virStorageVol:
    """Create `volume` in `pool`; push its deletion on `stack`."""
    try:
        vol = pool.createXML(volume.xml(), 0)
    except libvirt.libvirtError as exc:
        raise _fail(pool.connect().getURI(), f"create volume {volume.name} in pool "
                    f"{pool.name()}", exc) from None
    stack.push(f"delete volume {volume.name} of pool {pool.name()}", lambda: vol.delete(0))
    return vol


def upload(vol: libvirt.virStorageVol, source: Path, deadline_s: float = UPLOAD_DEADLINE_S,
           log: Callable[[str], None] = print) -> float:
    """Send local file `source` into `vol` through a stream; return the seconds it took.

    Raises VolumeError when the deadline passes (checked before each chunk; a dead peer
    ends the stream through libvirt's keepalive) or libvirt refuses.
    """
    conn = vol.connect()
    size = source.stat().st_size
    started = time.monotonic()
    end = started + deadline_s
    sent = [0, started]  # bytes so far, time of the last progress line
    stream = conn.newStream(0)
    with open(source, "rb") as data:

        def chunk(_stream: libvirt.virStream, nbytes: int, _opaque: object) -> bytes:
            now = time.monotonic()
            if now > end:
                raise VolumeError(f"{conn.getURI()}: upload of {source} to {vol.path()}: "
                                  f"{sent[0]}/{size} bytes after the {deadline_s:g} s "
                                  "deadline")
            if now - sent[1] >= _PROGRESS_EVERY_S:
                sent[1] = now
                log(f"upload {source.name} to {host_of(conn.getURI())}: {sent[0] >> 20}/"
                    f"{size >> 20} MiB in {now - started:.0f} s")
            block = data.read(nbytes)
            sent[0] += len(block)
            return block

        try:
            vol.upload(stream, 0, size, 0)
            stream.sendAll(chunk, None)
            stream.finish()
        except libvirt.libvirtError as exc:
            _abort(stream)
            raise _fail(conn.getURI(), f"upload {source} to {vol.path()}", exc) from None
    return time.monotonic() - started


def _abort(stream: libvirt.virStream) -> None:
    with contextlib.suppress(libvirt.libvirtError):  # aborted by sendAll, or never started
        stream.abort()


def read_file(conn: libvirt.virConnect, path: str, limit: int = 1 << 20) -> bytes:
    """Return the last `limit` bytes of volume `path` on the host (a console log)."""
    vol = conn.storageVolLookupByPath(path)
    size = vol.info()[1]  # a dir pool's volume info re-reads the file's size
    offset = max(0, size - limit)
    stream = conn.newStream(0)
    chunks: list[bytes] = []
    try:
        vol.download(stream, offset, size - offset, 0)
        stream.recvAll(lambda _s, data, out: out.append(data), chunks)
        stream.finish()
    except libvirt.libvirtError:
        _abort(stream)
        raise
    return b"".join(chunks)


def empty(conn: libvirt.virConnect, path: str) -> None:
    """Replace volume `path` by an empty one of the same name (a console before a new boot)."""
    vol = conn.storageVolLookupByPath(path)
    pool, name = vol.storagePoolLookupByVolume(), vol.name()
    vol.delete(0)
    pool.createXML(Volume(name, 0).xml(), 0)


def lookup_pool(conn: libvirt.virConnect, name: str) -> libvirt.virStoragePool | None:
    """Return pool `name`, or None when the host has none of that name."""
    try:
        return conn.storagePoolLookupByName(name)
    except libvirt.libvirtError:
        return None


def remove_pool(conn: libvirt.virConnect, name: str) -> bool:
    """Delete every volume of pool `name`, stop, delete and undefine it; return if it existed.

    Works on a pool left at any step: defined only, built, started, with volumes.
    """
    pool = lookup_pool(conn, name)
    if pool is None:
        return False
    if not pool.isActive():
        try:
            pool.create(0)  # to see its volumes; fails when the directory was never built
        except libvirt.libvirtError:
            pool.undefine()
            return True
    pool.refresh(0)  # files QEMU or a crashed run made are volumes too
    for vol in pool.listAllVolumes(0):
        vol.delete(0)
    pool.destroy()
    pool.delete(0)
    pool.undefine()
    return True


def tagged_pools(conn: libvirt.virConnect) -> dict[str, str]:
    """Return every pool a run made, name to run id."""
    found = {}
    for pool in conn.listAllStoragePools(0):
        run_id = run_of_pool(pool.name())
        if run_id is not None:
            found[pool.name()] = run_id
    return found
