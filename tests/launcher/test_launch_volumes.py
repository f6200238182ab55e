"""Image guests on remote hosts, on libvirt's test driver: pool and volume XML, undo, gc, up.

`test:///default` supports dir pools (define, build, start, stop, delete, undefine, refresh)
and volumes with a backing store, but not streams: `virStorageVolUpload` and
`virStorageVolDownload` answer "this function is not supported by the connection driver".
So uploads are replaced by a recorder here and the real upload, the console read back over
libvirt and the ssh staging of job files are covered by test_launch_remote_guests.py.
Its volumes also need a capacity (the real dir pool takes an overlay's from its backing).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import libvirt
import pytest

from supervm.launcher import cloudinit, cluster, fleet, guests, image, staging, volumes
from supervm.launcher import spec as spec_module
from supervm.launcher.spec import ClusterSpec, parse_spec
from supervm.launcher.state import GuestState, RunState, list_runs
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
    # Messages and timings name the host, never the key file in the URI's query.
    assert volumes.host_of("qemu+ssh://root@far:2222/system?keyfile=/k") == "root@far:2222"
    assert volumes.host_of("test:///default") == "test:///default"


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


class _Stream:
    """A blocking stream that keeps what is sent (libvirt's own sendAll drives it)."""

    sendAll = libvirt.virStream.sendAll  # noqa: N815 - libvirt's name

    def __init__(self) -> None:
        self.got, self.finished, self.aborted = bytearray(), False, False

    def send(self, data: bytes) -> int:
        self.got += data
        return len(data)

    def finish(self) -> None:
        self.finished = True

    def abort(self) -> None:
        self.aborted = True


class _Vol:
    """A volume on a host that takes uploads (the test driver's do not)."""

    def __init__(self) -> None:
        self.stream = _Stream()
        self.asked: tuple[int, int] | None = None

    def connect(self) -> object:
        vol = self

        class Conn:
            def getURI(self) -> str:  # noqa: N802 - libvirt's name
                return "qemu+ssh://root@far/system?keyfile=/secret/key"

            def newStream(self, flags: int) -> _Stream:  # noqa: N802 - libvirt's name
                return vol.stream

        return Conn()

    def path(self) -> str:
        return "/srv/pools/supervm-0badcafe/base"

    def upload(self, stream: _Stream, offset: int, length: int, flags: int) -> None:
        self.asked = (offset, length)


def test_upload_sends_the_whole_file_and_logs_progress(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "base.qcow2"
    source.write_bytes(os.urandom(300_000))  # several of sendAll's 256 KiB chunks
    monkeypatch.setattr(volumes, "_PROGRESS_EVERY_S", 0.0)
    vol, lines = _Vol(), []
    seconds = volumes.upload(vol, source, log=lines.append)  # type: ignore[arg-type]
    assert vol.asked == (0, 300_000) and bytes(vol.stream.got) == source.read_bytes()
    assert vol.stream.finished and not vol.stream.aborted and seconds >= 0
    assert lines and all(line.startswith("upload base.qcow2 to root@far: ") for line in lines)


def test_upload_stops_at_its_deadline(tmp_path: Path) -> None:
    source = tmp_path / "base.qcow2"
    source.write_bytes(b"x" * 1000)
    vol = _Vol()
    with pytest.raises(VolumeError, match=r"upload of .*base\.qcow2 .*0/1000 bytes after the "
                                          r"0 s deadline"):
        volumes.upload(vol, source, deadline_s=0)  # type: ignore[arg-type]
    assert vol.stream.aborted and not vol.stream.finished


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


# --- gc of a crashed run's pool ---------------------------------------------------------------

def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _pool_with_volumes(conn: libvirt.virConnect, run_id: str) -> None:
    stack = UndoStack()
    pool = volumes.create_pool(conn, DirPool(volumes.pool_name(run_id), f"/x/{run_id}"), stack)
    volumes.create_volume(pool, Volume("base", 1 << 20), stack)
    stack.discard()  # as a crash would: nothing undoes it


def test_gc_removes_the_pools_of_gone_runs_only(held: libvirt.virConnect,
                                                tmp_path: Path) -> None:
    crashed, orphan, live = "0000c0de", "0000abba", "0000a11e"
    for run_id in (crashed, orphan, live):
        _pool_with_volumes(held, run_id)
    # A run that crashed while making disks (its state names the pool), one whose state is
    # gone too, and one that is up.
    RunState(crashed, URI, {}, pid=_dead_pid(), pools={URI: "supervm-0000c0de"}).save(
        tmp_path, "network")
    RunState(live, URI, {}, pid=os.getpid(), pools={URI: "supervm-0000a11e"}).save(
        tmp_path, "ready")
    removed = cluster.gc(tmp_path, URI)
    assert f"run {crashed}" in removed and f"pool supervm-{orphan} on {URI}" in removed
    assert _pools(held) == ["supervm-0000a11e"]
    assert list_runs(tmp_path) == [live]
    assert cluster.down(RunState.load(tmp_path, live), tmp_path) == []
    assert _pools(held) == []


# --- `up` through the pool path ---------------------------------------------------------------

@pytest.fixture
def remote_here(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Path]]:
    """Treat test:/// as a remote host; record uploads (the test driver has no streams).

    Call `_spec` after this fixture: the spec's checks for remote hosts apply then.
    """
    uploads: list[tuple[str, Path]] = []

    def recorded(vol: libvirt.virStorageVol, source: Path, *args: object,
                 **kwargs: object) -> float:
        uploads.append((vol.path(), source))
        return 0.0

    monkeypatch.setattr(spec_module, "is_local_uri", lambda uri: False)  # for the spec
    monkeypatch.setattr(image, "uses_volumes", lambda uri: True)  # for the builder
    monkeypatch.setattr(volumes, "upload", recorded)
    monkeypatch.setattr(guests, "wait_ready", lambda *a, **k: {})  # no agent on test:///
    return uploads


def _spec(tmp_path: Path, guests_: int = 2, **image_extra: object) -> ClusterSpec:
    base = tmp_path / "base.qcow2"
    base.write_bytes(b"a qcow2 image, never read on the test driver")
    for name in ("vmlinuz", "initrd.img"):
        (tmp_path / name).write_bytes(b"not booted on the test driver")
    return parse_spec({
        "kind": "image", "hosts": [{"uri": URI, "guests": guests_, "accel": "tcg"}],
        "network": {"bridge": "svbunit0", "subnet": "10.80.0.0/24"},
        "image": {"base": str(base), "kernel": str(tmp_path / "vmlinuz"),
                  "initrd": str(tmp_path / "initrd.img"), "disk_gib": 1,
                  "pool_dir": "/srv/pools", **image_extra}})


def _disks(conn: libvirt.virConnect, name: str) -> list[str]:
    xml = conn.lookupByName(name).XMLDesc(0)
    return [line.split("'")[1] for line in xml.splitlines() if "<source file=" in line]


def test_up_puts_every_disk_in_the_runs_pool(tmp_path: Path, held: libvirt.virConnect,
                                             remote_here: list[tuple[str, Path]]) -> None:
    spec = _spec(tmp_path, shares=["/srv/supervm"])
    state = tmp_path / "state"
    run = cluster.up(spec, state, run_id="0000beef")
    pool = "/srv/pools/supervm-0000beef"
    try:
        again = RunState.load(state, "0000beef")
        assert again.pools == {URI: "supervm-0000beef"} and _pools(held) == ["supervm-0000beef"]
        # base, kernel and initrd once for the host, then each guest's seed
        assert remote_here[:3] == [(f"{pool}/base", tmp_path / "base.qcow2"),
                                   (f"{pool}/vmlinuz", tmp_path / "vmlinuz"),
                                   (f"{pool}/initrd.img", tmp_path / "initrd.img")]
        assert [p for p, _ in remote_here[3:]] == [f"{pool}/svm-0000beef-g{i}-seed.iso"
                                                   for i in range(2)]
        for i, guest in enumerate(again.guests):
            assert guest.remote and guest.console == f"{pool}/{guest.name}-console.log"
            assert guest.volumes == [f"{pool}/{guest.name}.qcow2",
                                     f"{pool}/{guest.name}-seed.iso", guest.console]
            assert _disks(held, guest.name) == guest.volumes[:2]
            xml = held.lookupByName(guest.name).XMLDesc(0)
            assert f"<kernel>{pool}/vmlinuz</kernel>" in xml
            assert f"<source path='{guest.console}'/>" in xml
            overlay = held.storageVolLookupByPath(guest.volumes[0]).XMLDesc(0)
            assert f"<path>{pool}/base</path>" in overlay
            # The seed mounts only the shares the spec names (paths on that host): no work dir.
            _, files = cloudinit.read_seed(Path(guest.files[0]))
            user = json.loads(files["user-data"].split(b"\n", 1)[1])
            assert user["bootcmd"] == [f"mkdir -p /srv/supervm && mount -t 9p -o "
                                       f"{cloudinit.NINEP},ro ro0 /srv/supervm"]
            assert "<filesystem" in xml and run.work_dir not in xml
            assert guest.address == f"10.80.0.{10 + i}"
    finally:
        assert cluster.down(run, state) == []
    assert _pools(held) == [] and list_runs(state) == []


def test_up_with_a_remote_base_uploads_no_base(tmp_path: Path, held: libvirt.virConnect,
                                               remote_here: list[tuple[str, Path]]) -> None:
    # The host's own base: here a volume of another pool there.
    stack = UndoStack()
    images = volumes.create_pool(held, DirPool("images", "/srv/images"), stack)
    volumes.create_volume(images, Volume("bookworm.qcow2", 1 << 20), stack)
    try:
        spec = _spec(tmp_path, 1, remote_base="/srv/images/bookworm.qcow2")
        run = cluster.up(spec, tmp_path / "state", run_id="0000b0b0")
        try:
            assert [p.rsplit("/", 1)[1] for p, _ in remote_here] == [
                "vmlinuz", "initrd.img", "svm-0000b0b0-g0-seed.iso"]
            overlay = held.storageVolLookupByPath(run.guests[0].volumes[0]).XMLDesc(0)
            assert "<path>/srv/images/bookworm.qcow2</path>" in overlay
        finally:
            assert cluster.down(run, tmp_path / "state") == []
    finally:
        assert stack.unwind() == []


def test_up_failing_midway_removes_the_pool_and_its_volumes(
        tmp_path: Path, held: libvirt.virConnect, remote_here: list[tuple[str, Path]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = volumes.create_volume
    made: list[str] = []

    def second_guests_console_fails(pool: libvirt.virStoragePool, volume: Volume,
                                    stack: UndoStack) -> libvirt.virStorageVol:
        if volume.name == "svm-0000f00d-g1-console.log":
            assert len(guests.tagged_domains(held)) == 1  # the first guest is defined
            raise VolumeError("disk full (injected)")
        made.append(volume.name)
        return real(pool, volume, stack)

    monkeypatch.setattr(volumes, "create_volume", second_guests_console_fails)
    with pytest.raises(VolumeError, match="injected"):
        cluster.up(_spec(tmp_path), tmp_path / "state", run_id="0000f00d")
    assert made[:3] == ["base", "vmlinuz", "initrd.img"] and len(made) == 8
    assert _pools(held) == [] and guests.tagged_domains(held) == {}
    assert not (tmp_path / "state" / "runs" / "0000f00d").exists()


def test_a_guest_added_to_a_remote_run_uses_the_same_pool(
        tmp_path: Path, held: libvirt.virConnect,
        remote_here: list[tuple[str, Path]]) -> None:
    state = tmp_path / "state"
    run = cluster.up(_spec(tmp_path, 1), state, run_id="0000cafe")
    try:
        uploads = len(remote_here)
        (added,) = fleet.add_guests(run, state, 1)
        pool = "/srv/pools/supervm-0000cafe"
        assert added.remote and added.volumes[0] == f"{pool}/svm-0000cafe-g1.qcow2"
        assert [p for p, _ in remote_here[uploads:]] == [f"{pool}/svm-0000cafe-g1-seed.iso"]
        assert f"<path>{pool}/base</path>" in held.storageVolLookupByPath(
            added.volumes[0]).XMLDesc(0)
        # A restart empties the console volume (the last boot's ready marker must go).
        assert fleet.stop_guest(run, state, added.name, deadline_s=0.1).startswith("destroyed")
        fleet.start_guest(run, state, added.name)
        assert held.storageVolLookupByPath(added.console).info()[1] == 0
        assert fleet.remove_guest(run, state, added.name) == []
        names = {v.name() for v in held.storagePoolLookupByName("supervm-0000cafe")
                 .listAllVolumes(0)}
        assert not any(n.startswith("svm-0000cafe-g1") for n in names)
        assert "svm-0000cafe-g0.qcow2" in names
    finally:
        assert cluster.down(run, state) == []
    assert _pools(held) == []


# --- staging errors name the guest ----------------------------------------------------------

def _guest() -> GuestState:
    return GuestState("svm-0000d00d-g0", "10.80.0.10", "/c", 1, 256, remote=True)


def test_staging_failure_names_the_guest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staging, "ssh_argv",
                        lambda key: ["sh", "-c", 'echo "no route to $1" >&2; exit 255',
                                     "ssh"])
    with pytest.raises(staging.StagingError,
                       match=r"stage job inputs into guest svm-0000d00d-g0 \(10\.80\.0\.10\): "
                             r"sh exit 255: no route to 10\.80\.0\.10"):
        staging.push([_guest()], tmp_path / "key", tmp_path)
    with pytest.raises(staging.StagingError, match="copy job outputs back from guest "
                                                   "svm-0000d00d-g0"):
        staging.pull([_guest()], tmp_path / "key", tmp_path)


def test_staging_has_a_deadline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staging, "ssh_argv", lambda key: ["sh", "-c", "sleep 30", "ssh"])
    with pytest.raises(staging.StagingError, match="not done by its deadline"):
        staging.pull([_guest()], tmp_path / "key", tmp_path, deadline_s=0.5)


def test_staging_round_trip_through_a_stand_in_for_ssh(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # The stand-in runs the remote command in a shell whose `/` is another directory: the
    # guest's file system (the command's paths are rewritten under it).
    guest_root = tmp_path / "guest"
    guest_root.mkdir()
    job = tmp_path / "work" / "job-1"
    job.mkdir(parents=True)
    (job / "job.json").write_text("{}")
    # sh -c SCRIPT ssh ADDRESS COMMAND: $1 is the address, $2 the command.
    rewrite = f'eval "$(printf %s "$2" | sed "s|{tmp_path}/|{guest_root}{tmp_path}/|g")"'
    monkeypatch.setattr(staging, "ssh_argv", lambda key: ["sh", "-c", rewrite, "ssh"])
    staging.push([_guest()], tmp_path / "key", job)
    inside = guest_root / str(job).lstrip("/")
    assert (inside / "job.json").read_text() == "{}"
    (inside / "rank-0.npy").write_bytes(b"out")
    staging.pull([_guest()], tmp_path / "key", job)
    assert (job / "rank-0.npy").read_bytes() == b"out"
