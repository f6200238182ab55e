"""Image guests on remote hosts, on libvirt's test driver: pool and volume XML, undo.

`test:///default` supports dir pools (define, build, start, stop, delete, undefine, refresh)
and volumes with a backing store, but not streams: `virStorageVolUpload` and
`virStorageVolDownload` answer "this function is not supported by the connection driver".
So uploads are replaced by a recorder here and the real upload, the console read back over
libvirt and the ssh staging of job files are covered by test_launch_remote_guests.py.
Its volumes also need a capacity (the real dir pool takes an overlay's from its backing).
"""

from __future__ import annotations

import os
from pathlib import Path

import libvirt
import pytest

from supervm.launcher import volumes
from supervm.launcher.undo import UndoStack
from supervm.launcher.volumes import BackingStore, DirPool, Volume, VolumeError

GOLDEN = Path(__file__).parent / "golden"
URI = "test:///default"
POOL_DIR = "/var/lib/libvirt/images/supervm-0badcafe"

libvirt.registerErrorHandler(lambda *_: None, None)


@pytest.fixture
def held() -> object:
    """Hold a test:/// connection: the driver's objects live only while one is open."""
    conn = libvirt.open(URI)
    yield conn
    conn.close()


def _pools(conn: libvirt.virConnect) -> list[str]:
    return sorted(p.name() for p in conn.listAllStoragePools(0)
                  if p.name().startswith(volumes.POOL_PREFIX))


# --- XML from typed objects ------------------------------------------------------------------

@pytest.mark.parametrize(("golden", "obj"), [
    ("pool-dir.xml", DirPool("supervm-0badcafe", POOL_DIR)),
    ("volume-overlay.xml", Volume("svm-0badcafe-g0.qcow2", None, "qcow2",
                                  BackingStore(f"{POOL_DIR}/base", "qcow2"))),
    ("volume-raw.xml", Volume("svm-0badcafe-g0-seed.iso", 376832)),
])
def test_storage_golden(golden: str, obj: DirPool | Volume) -> None:
    xml = obj.xml()
    path = GOLDEN / golden
    if os.environ.get("SUPERVM_UPDATE_GOLDEN"):
        path.write_text(xml)
    assert xml == path.read_text()


def test_pool_names_carry_the_run_id() -> None:
    assert volumes.pool_name("0badcafe") == "supervm-0badcafe"
    assert volumes.run_of_pool("supervm-0badcafe") == "0badcafe"
    for other in ("default", "supervm-", "supervm-images", "supervm-0BADCAFE", "svm-0badcafe"):
        assert volumes.run_of_pool(other) is None


def test_libvirt_takes_the_pool_and_an_overlay_on_a_base(held: libvirt.virConnect) -> None:
    stack = UndoStack()
    pool = volumes.create_pool(held, DirPool("supervm-0badcafe", POOL_DIR), stack)
    base = volumes.create_volume(pool, Volume("base", 1 << 20), stack)
    overlay = volumes.create_volume(pool, Volume("g0.qcow2", 1 << 30, "qcow2",
                                                 BackingStore(base.path())), stack)
    xml = overlay.XMLDesc(0)
    assert f"<path>{POOL_DIR}/base</path>" in xml and "<format type='qcow2'/>" in xml
    assert held.storageVolLookupByPath(f"{POOL_DIR}/g0.qcow2").name() == "g0.qcow2"
    assert volumes.tagged_pools(held) == {"supervm-0badcafe": "0badcafe"}
    assert stack.unwind() == []
    assert _pools(held) == []


def test_the_test_driver_cannot_upload(held: libvirt.virConnect, tmp_path: Path) -> None:
    stack = UndoStack()
    pool = volumes.create_pool(held, DirPool("supervm-0000feed", "/x/supervm-0000feed"), stack)
    vol = volumes.create_volume(pool, Volume("seed.iso", 4), stack)
    (tmp_path / "seed.iso").write_bytes(b"seed")
    try:
        with pytest.raises(VolumeError, match=r"test:///default: upload .*seed\.iso.*not "
                                              "supported"):
            volumes.upload(vol, tmp_path / "seed.iso")
    finally:
        assert stack.unwind() == []


# --- every step undone, with faults injected ------------------------------------------------

def _fail(*_: object, **__: object) -> None:
    raise libvirt.libvirtError("injected")


@pytest.mark.parametrize(("cls", "method", "step"), [
    (libvirt.virConnect, "storagePoolDefineXML", "define pool"),
    (libvirt.virStoragePool, "build", "build pool"),
    (libvirt.virStoragePool, "create", "start pool"),
    (libvirt.virStoragePool, "createXML", "create volume"),
])
def test_a_failing_step_names_itself_and_the_stack_undoes_the_rest(
        held: libvirt.virConnect, monkeypatch: pytest.MonkeyPatch, cls: type, method: str,
        step: str) -> None:
    stack = UndoStack()
    with pytest.raises(VolumeError, match=f"{step}.*injected") as caught:
        monkeypatch.setattr(cls, method, _fail)
        pool = volumes.create_pool(held, DirPool("supervm-0000fa11", "/x/supervm-0000fa11"),
                                   stack)
        volumes.create_volume(pool, Volume("base", 1 << 20), stack)
    monkeypatch.undo()
    assert caught.value.args[0].startswith(URI)
    assert stack.unwind() == []
    assert _pools(held) == []


@pytest.mark.parametrize("left_at", ["defined", "built", "started", "with volumes"])
def test_remove_pool_takes_a_pool_left_at_any_step(held: libvirt.virConnect,
                                                   left_at: str) -> None:
    pool = held.storagePoolDefineXML(DirPool("supervm-0000dead", "/x/d").xml(), 0)
    if left_at != "defined":
        pool.build(0)
    if left_at in ("started", "with volumes"):
        pool.create(0)
    if left_at == "with volumes":
        pool.createXML(Volume("base", 1 << 20).xml(), 0)
        pool.createXML(Volume("g0-console.log", 0).xml(), 0)
    assert volumes.remove_pool(held, "supervm-0000dead")
    assert _pools(held) == []
    assert not volumes.remove_pool(held, "supervm-0000dead")  # gone: nothing to do
