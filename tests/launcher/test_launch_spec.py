"""Cluster spec validation: good specs load, bad ones name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from supervm.launcher.spec import SpecError, load_spec, parse_spec

REPO = Path(__file__).parents[2]


def test_shipped_spec_loads() -> None:
    spec = load_spec(REPO / "launch" / "two-tcg.toml")
    assert spec.guest_count() == 2
    assert spec.hosts[0].accel == "tcg"
    assert spec.network.host_ip() == "10.77.0.1"
    assert spec.network.guest_ips(2) == ["10.77.0.10", "10.77.0.11"]


def test_defaults() -> None:
    spec = parse_spec({})
    assert spec.hosts[0].uri == "qemu:///system"
    assert spec.hosts[0].accel == "auto"
    assert spec.kind == "hostfs"


@pytest.mark.parametrize(("data", "field"), [
    ({"hosts": [{"accel": "xen"}]}, "hosts.0.accel"),
    ({"hosts": [{"guests": 0}]}, "hosts.0.guests"),
    ({"hosts": [{"memory_mib": 16}]}, "hosts.0.memory_mib"),
    ({"hosts": [{"uri": "xen:///"}]}, "hosts.0.uri"),
    ({"network": {"subnet": "10.0.0.1/24"}}, "network.subnet"),
    ({"network": {"bridge": "a-very-long-bridge-name"}}, "network.bridge"),
    ({"kind": "lxc"}, "kind"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_field_is_named(data: dict[str, object], field: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(data, "x.toml")
    assert any(p.startswith(field + ":") for p in caught.value.problems), caught.value.problems


def test_addresses_must_fit_the_subnet() -> None:
    with pytest.raises(SpecError, match="not a host address"):
        parse_spec({"network": {"subnet": "10.1.0.0/24", "addresses": ["10.2.0.5", "10.1.0.6"]}})
    with pytest.raises(SpecError, match="2 guests need 2 addresses"):
        parse_spec({"network": {"addresses": ["10.77.0.5"]}})
    with pytest.raises(SpecError, match="repeat"):
        parse_spec({"network": {"addresses": ["10.77.0.5", "10.77.0.5"]}})


def test_several_local_hosts() -> None:
    spec = parse_spec({"hosts": [{"guests": 1}, {"uri": "qemu+unix:///system", "guests": 1}]})
    assert spec.guest_count() == 2 and all(h.is_local() for h in spec.hosts)


def test_unreadable_and_non_toml(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read"):
        load_spec(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [")
    with pytest.raises(SpecError, match="not TOML"):
        load_spec(bad)
