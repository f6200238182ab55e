"""Cluster specs: the TOML files under launch/, validated by pydantic models."""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path
from typing import Literal

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
    kind: Literal["hostfs"] = Field(
        "hostfs", description="guest kind: hostfs (the host's kernel and root, read-only)")
    hosts: list[HostSpec] = Field(default_factory=lambda: [HostSpec()], min_length=1,
                                  description="hypervisor hosts")
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    kernel: str | None = Field(None, description="guest kernel (default: newest /boot/vmlinuz-*"
                                                 " with modules)")

    @model_validator(mode="after")
    def _consistent(self) -> ClusterSpec:
        if len(self.hosts) != 1:
            raise ValueError("hosts: only one hypervisor host per cluster is supported so far")
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

    def guest_count(self) -> int:
        """Return the number of guests over all hosts."""
        return sum(host.guests for host in self.hosts)


def _problems(exc: ValidationError) -> list[str]:
    out = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "spec"
        message = error["msg"].removeprefix("Value error, ")
        out.append(f"{where}: {message}")
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
