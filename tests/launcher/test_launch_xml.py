"""Domain XML: golden files, run tags, and libvirt's own validation on test:///default."""

from __future__ import annotations

import os
from pathlib import Path

import libvirt
import pytest

from supervm.launcher import guests
from supervm.launcher.domain_xml import mac_address, read_tag

GOLDEN = Path(__file__).parent / "golden"
RUN_DIR = Path("/var/lib/supervm-launch/runs/0badcafe")

libvirt.registerErrorHandler(lambda *_: None, None)


def _plan(index: int = 0) -> guests.GuestPlan:
    return guests.GuestPlan(index, f"svm-0badcafe-g{index}", f"10.77.0.{10 + index}", 24, 2,
                            1024, RUN_DIR / f"console-g{index}.log")


def _domain(accel: str) -> guests.Domain:
    return guests.domain_for(_plan(), "0badcafe", accel, "/boot/vmlinuz-6.1.0-57-amd64",
                             "/var/lib/supervm-launch/cache/initramfs.img", "svb0badcafe",
                             "/var/lib/supervm-launch/runs/0badcafe/work")


@pytest.mark.parametrize("accel", ["tcg", "kvm"])
def test_golden(accel: str) -> None:
    xml = _domain(accel).xml()
    golden = GOLDEN / f"hostfs-{accel}.xml"
    if os.environ.get("SUPERVM_UPDATE_GOLDEN"):
        golden.write_text(xml)
    assert xml == golden.read_text()


def test_tag_round_trip() -> None:
    tag = read_tag(_domain("tcg").xml())
    assert tag is not None and (tag.run_id, tag.index) == ("0badcafe", 0)
    assert read_tag("<domain type='qemu'><name>x</name></domain>") is None


def test_mac_is_stable_and_distinct() -> None:
    assert mac_address("0badcafe", 1) == "52:54:0b:ad:ca:01"
    assert mac_address("0badcafe", 1) != mac_address("0badcafe", 2)


def test_libvirt_validates_and_keeps_the_tag() -> None:
    conn = libvirt.open("test:///default")
    try:
        dom = guests.define(conn, _domain("tcg"))
        try:
            tag = read_tag(dom.XMLDesc(0))
            assert tag is not None and tag.run_id == "0badcafe"
            assert guests.tagged_domains(conn) == {dom.name(): tag}
        finally:
            assert guests.remove_domain(conn, dom.name())
        assert not guests.remove_domain(conn, dom.name())
    finally:
        conn.close()


def test_validation_rejects_unknown_elements() -> None:
    conn = libvirt.open("test:///default")
    try:
        bad = _domain("tcg").xml().replace("<vcpu>", "<vcpus>").replace("</vcpu>", "</vcpus>")
        with pytest.raises(libvirt.libvirtError):
            conn.defineXMLFlags(bad, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
    finally:
        conn.close()
