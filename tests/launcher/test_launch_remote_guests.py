"""End to end: an image guest on a remote host, played by this machine reached over ssh.

The test starts its own sshd on 127.0.0.1 (temp host and client keys) and gives the launcher
`qemu+ssh://root@127.0.0.1:PORT/system?keyfile=...`: a network transport, so the launcher
treats the host as remote and reaches it only through libvirt and ssh. The base image, the
kernel and the initrd are uploaded into the run's pool `supervm-RUNID` on that host through
libvirt streams; the guest's overlay, seed and console are volumes there. One guest boots
under TCG on a bridge the test makes itself (remote hosts must name an existing one), on
subnet 10.80.0.0/24; a sort with 2 ranks started over ssh runs in it, its input staged into
the guest over ssh and its outputs copied back (the run's work directory is not shared), and
is checked against numpy. Then `down`, and nothing may be left: no domain, no pool, no
volume, no bridge, no sshd or QEMU process.

The guest runs supervm through `image.shares`, given explicitly: on a remote host they are
that host's paths, and since the "remote" host is this machine they are this Python, its
venv and the checkout (a production image would have supervm baked in and no shares).
Marker `guests`: `make test` runs it. Network traffic goes only to loopback and the guest.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import libvirt
import numpy as np
import pytest
from real_guests import (
    LoopbackHost,
    assert_sorted_by_ranks,
    build_test_image,
    launch,
    loopback_sshd,
    processes_of,
    why_image_guests_cannot_boot,
)

from supervm.launcher import image, network, volumes
from supervm.launcher.guests import QEMU_LOG_DIR, tagged_domains
from supervm.launcher.state import RunState

pytestmark = [pytest.mark.guests, pytest.mark.timeout(1800)]

BRIDGE = "svmrem80"  # the test's own, not the `svb` prefix runs use for theirs
SUBNET, HOST_IP = "10.80.0.0/24", "10.80.0.1"
RANKS = 2
POOL_PARENT = Path("/var/lib/libvirt/images")  # image.pool_dir's default

libvirt.registerErrorHandler(lambda *_: None, None)


_WHY_NOT = why_image_guests_cannot_boot((
    "/usr/sbin/libvirtd", "/usr/bin/qemu-system-x86_64", "/usr/sbin/debootstrap",
    "/usr/bin/ssh", "/usr/sbin/sshd", "/usr/bin/virt-ssh-helper"))
if _WHY_NOT:
    pytest.skip(_WHY_NOT, allow_module_level=True)


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[LoopbackHost]:
    """This machine as a remote host: our own sshd on loopback, stopped by pid after."""
    with loopback_sshd(tmp_path / "sshd") as host:
        yield host
    assert host.process.poll() is not None


@pytest.fixture
def bridge() -> Iterator[str]:
    """The existing bridge a remote host must name: made here, deleted after."""
    assert not network.bridge_exists(BRIDGE), f"{BRIDGE} exists already"
    network.create_bridge(BRIDGE, HOST_IP, 24)
    try:
        yield BRIDGE
    finally:
        network.delete_bridge(BRIDGE)


def _pools(uri: str) -> list[str]:
    conn = libvirt.open(uri)
    try:
        return sorted(p.name() for p in conn.listAllStoragePools(0)
                      if p.name().startswith(volumes.POOL_PREFIX))
    finally:
        conn.close()


def test_image_guest_on_a_remote_host_sorts_with_staged_files(
        libvirtd: None, remote: LoopbackHost, bridge: str, tmp_path: Path) -> None:
    base = build_test_image()
    state = tmp_path / "state"
    spec = tmp_path / "remote.toml"
    shares = json.dumps(image.dev_fleet_shares())
    spec.write_text(f"""name = "remote-test"
kind = "image"
launcher = "ssh"
[image]
base = "{base}"
shares = {shares}
[[hosts]]
uri = "{remote.uri}"
guests = 1
vcpus = 1
memory_mib = 1024
accel = "tcg"
[network]
bridge = "{bridge}"
subnet = "{SUBNET}"
""")
    data = np.random.default_rng(11).integers(-(2**62), 2**62, 200_000, dtype=np.int64)
    np.save(tmp_path / "data.npy", data)
    (tmp_path / "job.json").write_text(json.dumps(
        {"kind": "sort", "input": {"npy": str(tmp_path / "data.npy")}}))
    before = _pools("qemu:///system")
    # libvirt makes the pool's parent if missing; the test removes it then, once empty.
    images_made = not POOL_PARENT.exists()
    started = time.monotonic()
    up = launch(state, "up", str(spec), "--deadline", "900")
    assert up.returncode == 0, up.stderr
    run = RunState.load(state, up.stdout.strip())
    try:
        uploads = {k: v for k, v in run.timings.items() if k.startswith("upload_s:")}
        print(f"up to ready: {run.timings['up_to_ready_s']:.1f} s (wall "
              f"{time.monotonic() - started:.1f} s); uploads {uploads}; stages {run.timings}")
        (guest,) = run.guests
        pool = f"{POOL_PARENT}/supervm-{run.run_id}"
        assert run.pools == {remote.uri: f"supervm-{run.run_id}"}
        assert guest.remote and guest.uri == remote.uri
        assert guest.volumes == [f"{pool}/{guest.name}.qcow2", f"{pool}/{guest.name}-seed.iso",
                                 f"{pool}/{guest.name}-console.log"]
        assert any(k.endswith(":base") for k in uploads)
        conn = libvirt.open(remote.uri)
        try:
            xml = conn.lookupByName(guest.name).XMLDesc(0)
            assert f"<source file='{pool}/{guest.name}.qcow2'" in xml
            assert f"<kernel>{pool}/vmlinuz</kernel>" in xml
            assert run.work_dir not in xml  # no share of the run's work directory
            overlay = conn.storageVolLookupByPath(guest.volumes[0]).XMLDesc(0)
            assert f"<path>{pool}/base</path>" in overlay
        finally:
            conn.close()
        ran = time.monotonic()
        done = launch(state, "run", "--run", run.run_id, "--job", str(tmp_path / "job.json"),
                      "--np", str(RANKS), "--timeout", "900")
        assert done.returncode == 0, done.stderr
        assert "ssh-launcher" in done.stderr
        print(f"sort with staged files: {time.monotonic() - ran:.1f} s")
        assert_sorted_by_ranks(done, data, RANKS)
    finally:
        down = launch(state, "down", run.run_id)
    assert down.returncode == 0, down.stderr
    conn = libvirt.open("qemu:///system")
    try:
        assert [n for n, t in tagged_domains(conn).items() if t.run_id == run.run_id] == []
        for path in guest.volumes:
            with pytest.raises(libvirt.libvirtError):
                conn.storageVolLookupByPath(path)
    finally:
        conn.close()
    assert _pools("qemu:///system") == before == []
    assert not Path(pool).exists()
    if images_made:
        POOL_PARENT.rmdir()
    assert not run.run_dir(state).exists()
    assert not list(QEMU_LOG_DIR.glob(f"svm-{run.run_id}-*"))
    assert processes_of(run.run_id) == []
    print(f"whole test: {time.monotonic() - started:.1f} s")
