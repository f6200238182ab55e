"""The image kind, ssh as the launcher, several hosts: specs, seeds, XML, `up` on test:///."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import libvirt
import pytest

from supervm.launcher import cli, cloudinit, cluster, fleet, guests, image, mpi, ssh
from supervm.launcher.cloudinit import GuestSeed, Share
from supervm.launcher.domain_xml import KernelBoot, read_tag
from supervm.launcher.spec import SpecError, is_local_uri, load_spec, parse_spec
from supervm.launcher.state import RunState, list_runs

GOLDEN = Path(__file__).parent / "golden"
REPO = Path(__file__).parents[2]
URI = "test:///default"

libvirt.registerErrorHandler(lambda *_: None, None)

needs_qemu_img = pytest.mark.skipif(
    shutil.which("qemu-img") is None,
    reason="qemu-img missing: scripts/system-packages.sh installs qemu-utils")


def _image(**extra: object) -> dict[str, object]:
    return {"kind": "image", "image": {"base": "/images/base.qcow2", **extra}}


# --- the spec -------------------------------------------------------------------------------

def test_shipped_image_spec_loads() -> None:
    spec = load_spec(REPO / "launch" / "image-tcg.toml")
    assert spec.kind == "image" and spec.image is not None
    assert spec.rank_launcher() == "ssh"
    assert spec.network.subnet == "10.78.0.0/24"


def test_shipped_remote_image_spec_loads() -> None:
    spec = load_spec(REPO / "launch" / "image-remote.toml")
    assert spec.kind == "image" and spec.image is not None and spec.image.base
    assert not spec.hosts[0].is_local() and spec.network.bridge == "br0"
    assert spec.rank_launcher() == "ssh" and spec.hosts[0].accel == "tcg"


def test_launcher_defaults_follow_the_kind() -> None:
    assert parse_spec({}).rank_launcher() == "agent"
    assert parse_spec(_image()).rank_launcher() == "ssh"
    assert parse_spec({**_image(), "launcher": "agent"}).rank_launcher() == "agent"


@pytest.mark.parametrize(("data", "field", "words"), [
    ({"kind": "image"}, "image", "needs an [image] table"),
    ({"image": {"base": "/b.qcow2"}}, "image", "only for kind"),
    ({**_image(), "kernel": "/boot/vmlinuz"}, "kernel", "image.kernel"),
    ({"launcher": "ssh"}, "launcher", "hostfs guests run no sshd"),
    ({"launcher": "rsh"}, "launcher", "agent"),
    ({"kind": "image", "image": {}}, "image.base", "is local and needs a base image"),
    (_image(base_format="vmdk"), "image.base_format", "qcow2"),
    (_image(disk_gib=0), "image.disk_gib", "greater than"),
    (_image(ssh_key=""), "image.ssh_key", "file path"),
    (_image(shares=["relative/dir"]), "image.shares", "absolute"),
    (_image(shares=["/usr"]), "image.shares", "system directory"),
    (_image(surprise=1), "image.surprise", "Extra inputs"),
    ({"hosts": [{}, {"uri": "qemu+ssh://far/system"}]}, "network.bridge", "remote"),
    ({**_image(), "launcher": "agent", "network": {"bridge": "br0"},
      "hosts": [{"uri": "qemu+ssh://far/system", "accel": "tcg"}]}, "launcher",
     "need launcher = \"ssh\""),
    ({**_image(), "network": {"bridge": "br0"},
      "hosts": [{"uri": "qemu+ssh://far/system"}]}, "hosts.0.accel", "say kvm or tcg"),
    (_image(remote_base="/srv/base.qcow2"), "image.remote_base", "only for remote hosts"),
    (_image(remote_base="base.qcow2"), "image.remote_base", "absolute path"),
    (_image(pool_dir="images"), "image.pool_dir", "absolute path"),
    ({"kind": "image", "image": {}, "network": {"bridge": "br0"},
      "hosts": [{"uri": "qemu+ssh://far/system", "accel": "tcg"}]}, "image.base",
     "or image.remote_base"),
    ({"kind": "image", "image": {"remote_base": "/srv/b.qcow2"}, "network": {"bridge": "br0"},
      "hosts": [{"guests": 1}, {"uri": "qemu+ssh://far/system", "accel": "tcg"}]},
     "image.base", "host 0 (qemu:///system) is local"),
])
def test_bad_new_field_is_named(data: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(data, "x.toml")
    named = [p for p in caught.value.problems if p.startswith(field + ":")]
    assert named and words in named[0], caught.value.problems


def test_remote_hostfs_host_with_a_named_bridge_is_accepted() -> None:
    spec = parse_spec({"network": {"bridge": "br0"},
                       "hosts": [{"guests": 1}, {"uri": "qemu+ssh://far/system", "guests": 2}]})
    assert [h.is_local() for h in spec.hosts] == [True, False]


def test_remote_image_host_is_accepted_with_ssh_a_bridge_and_an_accel() -> None:
    spec = parse_spec({"kind": "image", "image": {"remote_base": "/srv/base.qcow2"},
                       "network": {"bridge": "br0"},
                       "hosts": [{"uri": "qemu+ssh://root@far/system", "accel": "tcg"}]})
    assert spec.rank_launcher() == "ssh" and spec.image is not None
    assert spec.image.base is None and spec.image.pool_dir == "/var/lib/libvirt/images"


@pytest.mark.parametrize(("uri", "local"), [
    ("qemu:///system", True), ("qemu+unix:///system", True), ("test:///default", True),
    ("qemu://localhost/system", True), ("qemu+ssh://far/system", False),
    # A network transport is remote even on loopback: nothing is shared through files.
    ("qemu+ssh://root@127.0.0.1:2222/system?keyfile=/k", False),
    ("qemu+tcp://localhost/system", False)])
def test_which_uris_are_local(uri: str, local: bool) -> None:
    assert is_local_uri(uri) is local


def test_addresses_run_across_hosts_in_order() -> None:
    spec = parse_spec({"hosts": [{"guests": 2}, {"uri": "qemu+unix:///system", "guests": 3}]})
    assert spec.guest_count() == 5
    assert spec.host_of_guest() == [0, 0, 1, 1, 1]
    assert spec.network.guest_ips(5) == [f"10.77.0.{i}" for i in range(10, 15)]
    with pytest.raises(SpecError, match="5 guests need 5 addresses"):
        parse_spec({"hosts": [{"guests": 2}, {"guests": 3}],
                    "network": {"addresses": ["10.77.0.5", "10.77.0.6"]}})


# --- the seed -------------------------------------------------------------------------------

def _seed() -> GuestSeed:
    return GuestSeed("svm-0badcafe-g1", "svm-0badcafe-g1", "52:54:0b:ad:ca:01", "10.78.0.11",
                     24, ["ssh-ed25519 AAAA run", "ssh-rsa BBBB user"],
                     [Share("/opt/py", "ro0"), Share("/runs/x/work", "work", readonly=False)])


def test_seed_iso_round_trip(tmp_path: Path) -> None:
    path = cloudinit.write_seed(tmp_path / "seed.iso", cloudinit.seed_files(_seed()))
    label, files = cloudinit.read_seed(path)
    assert label == "cidata"
    meta = json.loads(files["meta-data"])
    assert meta == {"instance-id": "svm-0badcafe-g1", "local-hostname": "svm-0badcafe-g1"}
    net = json.loads(files["network-config"])
    eth = net["ethernets"]["eth0"]
    assert net["version"] == 2 and eth["addresses"] == ["10.78.0.11/24"]
    assert eth["match"] == {"macaddress": "52:54:0b:ad:ca:01"} and eth["dhcp4"] is False
    assert files["user-data"].startswith(b"#cloud-config\n")
    user = json.loads(files["user-data"].split(b"\n", 1)[1])
    assert user["ssh_authorized_keys"] == ["ssh-ed25519 AAAA run", "ssh-rsa BBBB user"]
    assert user["users"] == [{"name": "root", "ssh_authorized_keys": user["ssh_authorized_keys"]}]
    assert user["disable_root"] is False and user["hostname"] == "svm-0badcafe-g1"
    assert user["bootcmd"] == [
        f"mkdir -p /opt/py && mount -t 9p -o {cloudinit.NINEP},ro ro0 /opt/py",
        f"mkdir -p /runs/x/work && mount -t 9p -o {cloudinit.NINEP} work /runs/x/work"]
    assert "systemctl start qemu-guest-agent" in user["runcmd"][0]
    assert "SUPERVM-GUEST-READY svm-0badcafe-g1" in user["runcmd"][-1]


@pytest.mark.skipif(shutil.which("isoinfo") is None and shutil.which("blkid") is None,
                    reason="neither isoinfo nor blkid here to read the label independently")
def test_seed_label_as_blkid_sees_it(tmp_path: Path) -> None:
    path = cloudinit.write_seed(tmp_path / "seed.iso", cloudinit.seed_files(_seed()))
    if shutil.which("blkid"):
        out = subprocess.run(["blkid", "-o", "export", str(path)], capture_output=True,
                             text=True, timeout=30).stdout
        assert "LABEL=cidata" in out and "TYPE=iso9660" in out


# --- the domain XML --------------------------------------------------------------------------

def _image_domain(accel: str = "tcg") -> guests.Domain:
    run_dir = Path("/var/lib/supervm-launch/runs/0badcafe")
    plan = guests.GuestPlan(1, "svm-0badcafe-g1", "10.78.0.11", 24, 1, 1024,
                            run_dir / "console-g1.log")
    boot = KernelBoot("/boot/vmlinuz-6.1.0-57-amd64", "/boot/initrd.img-6.1.0-57-amd64",
                      image.BASE_CMDLINE)
    shares = [Share("/opt/py", "ro0"), Share(str(run_dir / "work"), "work", readonly=False)]
    return image.image_domain(plan, "0badcafe", accel, boot,
                              run_dir / "disks" / "svm-0badcafe-g1.qcow2",
                              run_dir / "disks" / "svm-0badcafe-g1-seed.iso", shares,
                              "svb0badcafe")


def test_image_golden() -> None:
    xml = _image_domain().xml()
    golden = GOLDEN / "image-tcg.xml"
    if os.environ.get("SUPERVM_UPDATE_GOLDEN"):
        golden.write_text(xml)
    assert xml == golden.read_text()


def test_libvirt_validates_the_image_domain() -> None:
    conn = libvirt.open(URI)
    try:
        dom = guests.define(conn, _image_domain())
        try:
            xml = dom.XMLDesc(0)
            assert "svm-0badcafe-g1-seed.iso" in xml and "<readonly/>" in xml
            tag = read_tag(xml)
            assert tag is not None and tag.index == 1
        finally:
            guests.remove_domain(conn, dom.name())
    finally:
        conn.close()


# --- ssh and mpiexec -----------------------------------------------------------------------

def test_key_pair_and_ssh_launcher(tmp_path: Path) -> None:
    key, public = ssh.make_key_pair(tmp_path / "ssh", "supervm-test")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert public.startswith("ssh-ed25519 ") and public.endswith("supervm-test")
    argv = ssh.ssh_argv(key, 7)
    assert argv[:3] == ["ssh", "-i", str(key)]
    for option in ("StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null", "BatchMode=yes",
                   "ConnectTimeout=7"):
        assert argv[argv.index(option) - 1] == "-o"
    script = ssh.write_launcher(tmp_path, key)
    assert os.access(script, os.X_OK)
    assert f"exec ssh -i {key} -l root" in script.read_text()
    assert script.read_text().rstrip().endswith('"$@"')


def test_mpiexec_line_with_ssh_launcher_and_wdir(tmp_path: Path) -> None:
    line = mpi.mpiexec_command("mpiexec", tmp_path / "ssh-launcher", tmp_path / "hosts",
                               "10.78.0.1", 4, 2, ["python", "x.py"], wdir="/runs/x/work")
    assert line[line.index("-launcher") + 1] == "ssh"
    assert line[line.index("-launcher-exec") + 1] == str(tmp_path / "ssh-launcher")
    assert line[line.index("-wdir") + 1] == "/runs/x/work"
    assert line[line.index("-ppn") + 1] == "2" and line[-2:] == ["python", "x.py"]
    assert mpi.write_hostfile(tmp_path / "h", ["10.78.0.10", "10.78.0.11"]).read_text() == \
        "10.78.0.10:1\n10.78.0.11:1\n"


def test_agent_map_records_each_guest_uri(tmp_path: Path) -> None:
    _, mapping = mpi.write_agent(tmp_path, "qemu:///system", {"10.0.0.10": "a", "10.0.0.11": "b"},
                                 {"10.0.0.11": "qemu+unix:///system"})
    data = json.loads(mapping.read_text())
    assert data["10.0.0.10"]["uri"] == "qemu:///system"
    assert data["10.0.0.11"] == {"domain": "b", "uri": "qemu+unix:///system"}


def test_dev_fleet_shares_are_outermost_and_not_system_dirs() -> None:
    shares = image.dev_fleet_shares()
    assert shares and all(s not in ("/", "/usr") for s in shares)
    for a in shares:
        assert not any(a != b and a.startswith(b.rstrip("/") + "/") for b in shares)
    import supervm
    assert any(str(Path(supervm.__file__).resolve()).startswith(s + "/") for s in shares)


# --- `up` on test:///default ------------------------------------------------------------------

def _image_spec(tmp_path: Path, hosts: list[dict[str, object]]) -> object:
    base = tmp_path / "base.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(base), "64M"], check=True,
                   timeout=60)
    for name in ("vmlinuz", "initrd.img"):
        (tmp_path / name).write_bytes(b"not booted on the test driver")
    return parse_spec({
        "kind": "image", "hosts": hosts,
        "network": {"bridge": "svbunit0", "subnet": "10.78.0.0/24"},
        "image": {"base": str(base), "kernel": str(tmp_path / "vmlinuz"),
                  "initrd": str(tmp_path / "initrd.img"), "shares": [str(tmp_path)],
                  "disk_gib": 1}})


@pytest.fixture
def held() -> object:
    """Hold a test:/// connection: the driver's domains live only while one is open."""
    conn = libvirt.open(URI)
    yield conn
    conn.close()


def _tagged(conn: libvirt.virConnect, run_id: str) -> list[str]:
    return [n for n, t in guests.tagged_domains(conn).items() if t.run_id == run_id]


@needs_qemu_img
def test_image_up_fails_midway_and_undoes_everything(tmp_path: Path, held: libvirt.virConnect,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _image_spec(tmp_path, [{"uri": URI, "guests": 3, "accel": "tcg"}])
    base_before = (tmp_path / "base.qcow2").read_bytes()
    made: list[Path] = []
    real = cloudinit.write_seed

    def third_seed_fails(path: Path, files: dict[str, bytes]) -> Path:
        if len(made) == 2:
            assert len(_tagged(held, "0000f00d")) == 2  # two guests defined when it breaks
            assert len(list(path.parent.glob("*.qcow2"))) == 3
            raise OSError("disk full (injected)")
        made.append(real(path, files))
        return made[-1]

    monkeypatch.setattr(cloudinit, "write_seed", third_seed_fails)
    with pytest.raises(OSError, match="injected"):
        cluster.up(spec, tmp_path / "state", run_id="0000f00d")  # type: ignore[arg-type]
    assert _tagged(held, "0000f00d") == []
    assert not (tmp_path / "state" / "runs" / "0000f00d").exists()
    assert all(not p.exists() for p in made)
    assert (tmp_path / "base.qcow2").read_bytes() == base_before


@needs_qemu_img
def test_image_up_over_two_hosts_records_each_uri(tmp_path: Path, held: libvirt.virConnect,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    spec = _image_spec(tmp_path, [{"uri": URI, "guests": 1, "accel": "tcg"},
                                  {"uri": URI, "guests": 2, "accel": "tcg", "vcpus": 2}])
    waited: dict[str, object] = {}

    def ready_now(conn: object, guests_: list[object], host_ip: str, deadline_s: float,
                  **kwargs: object) -> dict[str, float]:
        waited.update(kwargs)  # readiness needs a real guest; test:/// has no agent
        return {}

    monkeypatch.setattr(guests, "wait_ready", ready_now)
    state = tmp_path / "state"
    run = cluster.up(spec, state, run_id="0000beef")  # type: ignore[arg-type]
    try:
        again = RunState.load(state, "0000beef")
        assert again.kind == "image" and again.launcher == "ssh" and again.phase == "ready"
        assert [g.address for g in again.guests] == ["10.78.0.10", "10.78.0.11", "10.78.0.12"]
        assert [g.vcpus for g in again.guests] == [1, 2, 2]
        assert [g.uri for g in again.guests] == [URI] * 3 and again.uris() == [URI]
        key = Path(again.ssh_key)
        assert waited["ssh_key"] == key and stat.S_IMODE(key.stat().st_mode) == 0o600
        for guest in again.guests:
            overlay, seed = map(Path, guest.files)
            info = json.loads(subprocess.run(
                ["qemu-img", "info", "--output=json", str(overlay)], capture_output=True,
                text=True, check=True, timeout=60).stdout)
            assert info["backing-filename"] == str(tmp_path / "base.qcow2")
            assert info["virtual-size"] == 1 << 30
            _, files = cloudinit.read_seed(seed)
            user = json.loads(files["user-data"].split(b"\n", 1)[1])
            assert user["ssh_authorized_keys"][0] == (key.parent / "id_ed25519.pub") \
                .read_text().strip()
        assert sorted(_tagged(held, "0000beef")) == sorted(g.name for g in again.guests)
        capsys.readouterr()
        assert cli.main(["--state-dir", str(state), "status", "--json"]) == 0
        row = json.loads(capsys.readouterr().out)[0]
        assert (row["kind"], row["launcher"]) == ("image", "ssh")
        assert [(g["uri"], g["state"]) for g in row["guests"]] == [(URI, "running")] * 3
    finally:
        assert cluster.down(run, state) == []
    assert _tagged(held, "0000beef") == [] and list_runs(state) == []


@needs_qemu_img
def test_a_guest_added_to_an_image_run_gets_its_own_disks_and_the_run_key(
        tmp_path: Path, held: libvirt.virConnect, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _image_spec(tmp_path, [{"uri": URI, "guests": 1, "accel": "tcg"}])
    waited: list[object] = []
    monkeypatch.setattr(guests, "wait_ready", lambda *a, **k: waited.append(k) or {})
    state = tmp_path / "state"
    run = cluster.up(spec, state, run_id="0000cafe")  # type: ignore[arg-type]
    try:
        (added,) = fleet.add_guests(run, state, 1)
        assert (added.name, added.address) == ("svm-0000cafe-g1", "10.78.0.11")
        assert waited[-1]["ssh_key"] == Path(run.ssh_key)  # type: ignore[index]
        overlay, seed = map(Path, added.files)
        assert overlay.exists() and seed.exists() and overlay.parent.name == "disks"
        _, files = cloudinit.read_seed(seed)
        user = json.loads(files["user-data"].split(b"\n", 1)[1])
        assert user["ssh_authorized_keys"][0] == Path(f"{run.ssh_key}.pub").read_text().strip()
        assert b"10.78.0.11" in files["network-config"]
        assert sorted(_tagged(held, "0000cafe")) == ["svm-0000cafe-g0", "svm-0000cafe-g1"]
        # Removing it takes its domain and its disks; the run keeps its first guest.
        assert fleet.remove_guest(run, state, added.name) == []
        assert _tagged(held, "0000cafe") == ["svm-0000cafe-g0"]
        assert not overlay.exists() and not seed.exists()
        assert [g.name for g in RunState.load(state, "0000cafe").guests] == ["svm-0000cafe-g0"]
    finally:
        assert cluster.down(run, state) == []
    assert _tagged(held, "0000cafe") == [] and list_runs(state) == []


@needs_qemu_img
def test_missing_base_image_names_the_field(tmp_path: Path) -> None:
    spec = parse_spec({"kind": "image", "network": {"bridge": "svbunit0"},
                       "hosts": [{"uri": URI, "guests": 1, "accel": "tcg"}],
                       "image": {"base": str(tmp_path / "nope.qcow2")}})
    with pytest.raises(FileNotFoundError, match=r"image\.base: .*nope\.qcow2: no such file"):
        cluster.up(spec, tmp_path / "state", run_id="0000dead")
    assert not (tmp_path / "state" / "runs" / "0000dead").exists()
