"""Cluster specs: the TOML files under launch/, validated by pydantic models."""

from __future__ import annotations

import ipaddress
import re
import sys
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


class SpecError(ValueError):
    """A cluster spec that cannot be used; `problems` name each field."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(problems))
        self.source = source
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HostSpec(_Strict):
    """One hypervisor host and the guests it runs."""

    uri: str = Field("qemu:///system", description="libvirt URI of the hypervisor")
    guests: int = Field(2, ge=1, le=64, description="number of guests on this host")
    vcpus: int = Field(1, ge=1, le=64, description="virtual CPUs per guest")
    memory_mib: int = Field(1024, ge=256, le=1 << 20, description="memory per guest in MiB")
    accel: Literal["kvm", "tcg", "auto"] = Field(
        "auto", description="kvm, tcg (software emulation) or auto (kvm only if it boots)")

    @field_validator("uri")
    @classmethod
    def _known_scheme(cls, uri: str) -> str:
        if not (uri.startswith("qemu") or uri.startswith("test:")):
            raise ValueError("must be a qemu URI (qemu:///system, qemu+ssh://host/system)")
        return uri

    def is_local(self) -> bool:
        """Return whether the URI reaches this machine (no host name, or localhost)."""
        return is_local_uri(self.uri)


#: libvirt transports that reach a hypervisor over the network (`qemu+ssh://...`).
NETWORK_TRANSPORTS = ("ssh", "libssh", "libssh2", "tcp", "tls")


def is_local_uri(uri: str) -> bool:
    """Return whether libvirt URI `uri` names this machine's hypervisor, sharing its files.

    A network transport counts as remote even to a loopback address: the launcher then
    reaches that host only through libvirt and ssh, never through a shared file system.
    """
    parts = urlsplit(uri)
    transport = parts.scheme.partition("+")[2]
    if transport in NETWORK_TRANSPORTS:
        return False
    return parts.hostname in (None, "", "localhost", "127.0.0.1", "::1")


class ImageSpec(_Strict):
    """The `image` kind: a cloud image booted through per-guest overlays and a NoCloud seed."""

    base: str | None = Field(
        None, description="base cloud image on this machine (never modified: each guest gets "
                          "an overlay; uploaded into the run's pool on remote hosts)")
    remote_base: str | None = Field(
        None, description="base image already on every remote host (a path there): used "
                          "instead of uploading `base` to them")
    pool_dir: str = Field(
        "/var/lib/libvirt/images", description="directory on a remote host under which each "
                                               "run's storage pool directory supervm-RUNID goes")
    base_format: Literal["qcow2", "raw"] = Field("qcow2", description="format of the base image")
    disk_gib: int | None = Field(
        None, ge=1, le=4096, description="virtual size of each overlay (default: the base's)")
    ssh_key: str | None = Field(
        None, description="a public key file to authorize for root too (the run makes its own)")
    kernel: str | None = Field(
        None, description="kernel for direct boot (default: the host's newest /boot/vmlinuz-*)")
    initrd: str | None = Field(
        None, description="initrd for direct boot (default: /boot/initrd.img-VERSION of it)")
    cmdline: str = Field(
        "", description="extra kernel arguments (root=/dev/vda and the console are set)")
    shares: list[str] | None = Field(
        None, description="host directories shared read-only at the same paths (default: the "
                          "dev-fleet set: this Python, its venv and supervm's checkout; none "
                          "on remote hosts, where the paths are that host's)")

    @field_validator("base", "remote_base", "ssh_key", "kernel", "initrd")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or "\0" in value):
            raise ValueError("must be a file path")
        return value

    @field_validator("remote_base", "pool_dir")
    @classmethod
    def _remote_path(cls, value: str | None) -> str | None:
        # A path on another machine: neither `~` nor a relative path can be resolved here.
        if value is not None and not value.startswith("/"):
            raise ValueError("must be an absolute path on the remote host")
        return value

    @field_validator("shares")
    @classmethod
    def _absolute(cls, value: list[str] | None) -> list[str] | None:
        for path in value or []:
            if not path.startswith("/") or path.rstrip("/") in ("", "/usr", "/etc", "/lib",
                                                                 "/bin", "/sbin", "/var"):
                raise ValueError(f"{path!r}: must be an absolute path that is not a system "
                                 "directory of the guest")
        return value


class NetworkSpec(_Strict):
    """The cluster's bridge and static addresses."""

    bridge: str | None = Field(
        None, description="existing bridge to use; by default the run makes its own")
    subnet: str = Field("10.77.0.0/24", description="IPv4 subnet of the cluster")
    host_address: str | None = Field(
        None, description="the host's address on the bridge (default: the subnet's first)")
    addresses: list[str] = Field(
        default_factory=list, description="static guest addresses (default: .10, .11, ...)")

    @field_validator("subnet")
    @classmethod
    def _subnet(cls, value: str) -> str:
        net = ipaddress.IPv4Network(value, strict=True)
        if net.num_addresses < 8:
            raise ValueError("needs room for the host and guests (at most /29)")
        return str(net)

    @field_validator("bridge")
    @classmethod
    def _ifname(cls, value: str | None) -> str | None:
        if value is not None and not (0 < len(value) <= 15 and value.isascii()
                                      and "/" not in value and " " not in value):
            raise ValueError("must be a Linux interface name (1-15 characters)")
        return value

    def host_ip(self) -> str:
        """Return the host's address on the bridge."""
        net = ipaddress.IPv4Network(self.subnet)
        return self.host_address or str(net.network_address + 1)

    def guest_ips(self, count: int) -> list[str]:
        """Return `count` guest addresses: the static ones, else .10 onwards."""
        if self.addresses:
            return list(self.addresses[:count])
        net = ipaddress.IPv4Network(self.subnet)
        return [str(net.network_address + 10 + i) for i in range(count)]

    def prefix(self) -> int:
        """Return the subnet's prefix length."""
        return ipaddress.IPv4Network(self.subnet).prefixlen


class ClusterSpec(_Strict):
    """A whole cluster: hosts, guests, network."""

    name: str = Field("cluster", pattern=r"^[a-z0-9][a-z0-9-]{0,30}$",
                      description="short name shown in status")
    kind: Literal["hostfs", "image"] = Field(
        "hostfs", description="guest kind: hostfs (the host's kernel and root, read-only) or "
                              "image (a cloud image overlay with a cloud-init seed)")
    image: ImageSpec | None = Field(None, description="the image kind's settings")
    launcher: Literal["agent", "ssh"] | None = Field(
        None, description="how mpiexec starts ranks in guests: agent (qemu-ga; the default "
                          "for hostfs) or ssh (the default for image)")
    hosts: list[HostSpec] = Field(default_factory=lambda: [HostSpec()], min_length=1,
                                  description="hypervisor hosts")
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    kernel: str | None = Field(None, description="guest kernel (default: newest /boot/vmlinuz-*"
                                                 " with modules)")

    @model_validator(mode="after")
    def _consistent(self) -> ClusterSpec:
        self._kind_fields()
        self._remote_hosts()
        net = ipaddress.IPv4Network(self.network.subnet)
        total = self.guest_count()
        if self.network.addresses and len(self.network.addresses) < total:
            raise ValueError(f"network.addresses: {total} guests need {total} addresses, "
                             f"got {len(self.network.addresses)}")
        for ip in [self.network.host_ip(), *self.network.guest_ips(total)]:
            addr = ipaddress.IPv4Address(ip)
            if addr not in net or addr in (net.network_address, net.broadcast_address):
                raise ValueError(f"network: address {ip} is not a host address in {net}")
        if len({self.network.host_ip(), *self.network.guest_ips(total)}) != total + 1:
            raise ValueError("network.addresses: addresses repeat or include the host's")
        return self

    def _kind_fields(self) -> None:
        if self.kind == "image" and self.image is None:
            raise ValueError("image: the image kind needs an [image] table with `base`")
        if self.kind == "hostfs" and self.image is not None:
            raise ValueError("image: only for kind = \"image\"")
        if self.kind == "image" and self.kernel is not None:
            raise ValueError("kernel: for the image kind set image.kernel")
        if self.kind == "hostfs" and self.launcher == "ssh":
            raise ValueError("launcher: ssh needs kind = \"image\" (hostfs guests run no sshd)")

    def _remote_hosts(self) -> None:
        remote = [index for index, host in enumerate(self.hosts) if not host.is_local()]
        for index in remote:
            if self.network.bridge is None:
                raise ValueError(f"network.bridge: host {index} ({self.hosts[index].uri}) is "
                                 "remote: name an existing bridge there (a run makes bridges "
                                 "only locally)")
        if self.image is None:
            return
        if remote and self.rank_launcher() != "ssh":
            # Job files reach a remote guest over ssh with the run's key (no shared work
            # directory there); the agent launcher makes no key.
            raise ValueError(f"launcher: image guests on remote host {remote[0]} "
                             f"({self.hosts[remote[0]].uri}) need launcher = \"ssh\" (job "
                             "inputs and outputs move over ssh)")
        for index in remote:
            if self.hosts[index].accel == "auto":
                # The probe boots this machine's files and caches one verdict per state dir.
                raise ValueError(f"hosts.{index}.accel: auto probes only this machine: say "
                                 f"kvm or tcg for remote host {index} ({self.hosts[index].uri})")
        if not remote and self.image.remote_base is not None:
            raise ValueError("image.remote_base: only for remote hosts (every host here is "
                             "local: use image.base)")
        if self.image.base is None and (self.image.remote_base is None
                                        or len(remote) < len(self.hosts)):
            local = next((i for i, h in enumerate(self.hosts) if h.is_local()), None)
            raise ValueError("image.base: needs a base image here (uploaded to the remote "
                             "hosts) or image.remote_base" if local is None else
                             f"image.base: host {local} ({self.hosts[local].uri}) is local "
                             "and needs a base image here")

    def rank_launcher(self) -> Literal["agent", "ssh"]:
        """Return the launcher mpiexec uses: the spec's, else the kind's default."""
        if self.launcher is not None:
            return self.launcher
        return "ssh" if self.kind == "image" else "agent"

    def host_of_guest(self) -> list[int]:
        """Return, for each guest in address order, the index of its host."""
        return [index for index, host in enumerate(self.hosts) for _ in range(host.guests)]

    def guest_count(self) -> int:
        """Return the number of guests over all hosts."""
        return sum(host.guests for host in self.hosts)


def _problems(exc: ValidationError) -> list[str]:
    out = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        # Whole-spec checks name their field at the start of the message already.
        if not where and re.match(r"^[a-z_][\w.]*: ", message):
            out.append(message)
        else:
            out.append(f"{where or 'spec'}: {message}")
    return out


def parse_spec(data: dict[str, object], source: str = "spec") -> ClusterSpec:
    """Validate a spec mapping; raise SpecError naming each bad field."""
    try:
        return ClusterSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(source, _problems(exc)) from None


def load_spec(path: str | Path) -> ClusterSpec:
    """Read and validate a TOML cluster spec."""
    try:
        data = tomllib.loads(Path(path).read_text())
    except OSError as exc:
        raise SpecError(str(path), [f"cannot read: {exc.strerror}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(str(path), [f"not TOML: {exc}"]) from None
    return parse_spec(data, str(path))
