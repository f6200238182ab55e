"""cloud-init NoCloud seeds: meta-data, user-data and network-config on a `cidata` volume.

The seed is an ISO 9660 image (Joliet and Rock Ridge names, volume label `cidata`) written
with pycdlib, the layout `cloud-localds` makes; the image kind attaches it read-only.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pycdlib

from supervm.launcher.initramfs import READY_MARKER

#: The volume label NoCloud looks for.
LABEL = "cidata"

#: 9p mount options: the same as the hostfs guests' shares.
NINEP = "trans=virtio,version=9p2000.L,msize=512000"

#: The seed's files in the order written, with their ISO 9660 level-1 names.
_ISO_NAMES = {"meta-data": "/METADATA.;1", "user-data": "/USERDATA.;1",
              "network-config": "/NETWORKC.;1"}


@dataclass(frozen=True)
class Share:
    """A host directory shared over 9p, mounted at the same path in the guest."""

    path: str
    tag: str
    readonly: bool = True


@dataclass(frozen=True)
class GuestSeed:
    """What one guest's seed says: identity, address, keys, shares."""

    instance_id: str
    hostname: str
    mac: str
    address: str
    prefix: int
    ssh_keys: list[str] = field(default_factory=list)
    shares: list[Share] = field(default_factory=list)


def meta_data(seed: GuestSeed) -> dict[str, object]:
    """Return the meta-data: instance id and hostname."""
    return {"instance-id": seed.instance_id, "local-hostname": seed.hostname}


def network_config(seed: GuestSeed) -> dict[str, object]:
    """Return network-config v2: the static address on the NIC with the guest's MAC."""
    return {"version": 2, "ethernets": {"eth0": {
        "match": {"macaddress": seed.mac}, "set-name": "eth0",
        "addresses": [f"{seed.address}/{seed.prefix}"], "dhcp4": False, "dhcp6": False}}}


def user_data(seed: GuestSeed) -> dict[str, object]:
    """Return the #cloud-config: root's keys, the 9p shares, the agent, the ready marker."""
    # bootcmd runs early on every boot, before sshd lets a rank in: the shares are there
    # by then. (cloud-init's `mounts:` would rewrite a 9p tag as a /dev path.)
    mounts = [f"mkdir -p {s.path} && mount -t 9p -o {NINEP}{',ro' if s.readonly else ''} "
              f"{s.tag} {s.path}" for s in seed.shares]
    return {
        "hostname": seed.hostname,
        "manage_etc_hosts": True,
        # Ranks log in as root. Naming root as the only user means no default user: where
        # that user is not made (the test image skips users_groups), cloud-init would fail
        # on it before it installs root's keys.
        "users": [{"name": "root", "ssh_authorized_keys": list(seed.ssh_keys)}],
        "disable_root": False,
        "ssh_authorized_keys": list(seed.ssh_keys),
        "ssh_pwauth": False,
        "bootcmd": mounts,
        "runcmd": ["systemctl start qemu-guest-agent",
                   f"echo '{READY_MARKER} {seed.hostname}' > /dev/ttyS0"],
    }


def seed_files(seed: GuestSeed) -> dict[str, bytes]:
    """Return the seed's files; JSON is YAML, so no YAML writer is needed."""
    return {
        "meta-data": json.dumps(meta_data(seed), indent=2).encode(),
        "user-data": ("#cloud-config\n" + json.dumps(user_data(seed), indent=2)).encode(),
        "network-config": json.dumps(network_config(seed), indent=2).encode(),
    }


def write_seed(path: Path, files: dict[str, bytes]) -> Path:
    """Write `files` as a NoCloud seed ISO at `path`."""
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3, rock_ridge="1.09", vol_ident=LABEL)
    try:
        for name, data in files.items():
            iso.add_fp(io.BytesIO(data), len(data), _ISO_NAMES[name], rr_name=name,
                       joliet_path=f"/{name}")
        iso.write(str(path))
    finally:
        iso.close()
    return path


def read_seed(path: Path) -> tuple[str, dict[str, bytes]]:
    """Return the volume label and the files (by Rock Ridge name) of a seed ISO."""
    iso = pycdlib.PyCdlib()
    iso.open(str(path))
    try:
        label = iso.pvd.volume_identifier.decode().strip()
        files = {}
        for name in _ISO_NAMES:
            out = io.BytesIO()
            iso.get_file_from_iso_fp(out, rr_path=f"/{name}")
            files[name] = out.getvalue()
        return label, files
    finally:
        iso.close()
