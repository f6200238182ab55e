"""Domain XML from typed objects: each device formats its own element (no string templates)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Literal, Protocol

#: Namespace of the run tag in each domain's <metadata>.
METADATA_NS = "https://supervm.dev/launcher/1"
ET.register_namespace("supervm", METADATA_NS)


def sub_element(parent: ET.Element, tag: str, text: str | None = None,
                **attrs: str) -> ET.Element:
    """Append and return child `tag` of `parent` with `attrs` and optional `text`."""
    child = ET.SubElement(parent, tag, attrs)
    if text is not None:
        child.text = text
    return child


def xml_text(root: ET.Element) -> str:
    """Return `root` as indented XML text, as libvirt's XML calls take it."""
    ET.indent(root)
    return ET.tostring(root, encoding="unicode") + "\n"


class Device(Protocol):
    """Anything that formats itself as a child of <devices>."""

    def element(self) -> ET.Element:
        """Return this device's XML element."""
        ...


@dataclass(frozen=True)
class Filesystem:
    """A host directory shared over virtio-9p."""

    source: str
    tag: str
    readonly: bool = False

    def element(self) -> ET.Element:
        """Return the <filesystem> element."""
        fs = ET.Element("filesystem", type="mount", accessmode="passthrough")
        sub_element(fs, "driver", type="path")
        sub_element(fs, "source", dir=self.source)
        sub_element(fs, "target", dir=self.tag)
        if self.readonly:
            sub_element(fs, "readonly")
        return fs


@dataclass(frozen=True)
class Disk:
    """A file-backed virtio disk (the image kind's overlay, its read-only seed)."""

    source: str
    target: str
    format: Literal["qcow2", "raw"] = "qcow2"
    readonly: bool = False

    def element(self) -> ET.Element:
        """Return the <disk> element."""
        disk = ET.Element("disk", type="file", device="disk")
        sub_element(disk, "driver", name="qemu", type=self.format)
        sub_element(disk, "source", file=self.source)
        sub_element(disk, "target", dev=self.target, bus="virtio")
        if self.readonly:
            sub_element(disk, "readonly")
        return disk


@dataclass(frozen=True)
class BridgeInterface:
    """A virtio NIC on a host bridge (libvirt makes and removes the tap)."""

    bridge: str
    mac: str

    def element(self) -> ET.Element:
        """Return the <interface> element."""
        nic = ET.Element("interface", type="bridge")
        sub_element(nic, "source", bridge=self.bridge)
        sub_element(nic, "mac", address=self.mac)
        sub_element(nic, "model", type="virtio")
        return nic


@dataclass(frozen=True)
class FileSerial:
    """The serial console written to a file (readiness reads its marker and tail)."""

    path: str

    def element(self) -> ET.Element:
        """Return the <serial> element."""
        serial = ET.Element("serial", type="file")
        sub_element(serial, "source", path=self.path)
        sub_element(serial, "target", port="0")
        return serial


@dataclass(frozen=True)
class AgentChannel:
    """The virtio-serial port qemu-ga listens on; libvirt picks the host socket path."""

    name: str = "org.qemu.guest_agent.0"

    def element(self) -> ET.Element:
        """Return the <channel> element."""
        channel = ET.Element("channel", type="unix")
        sub_element(channel, "target", type="virtio", name=self.name)
        return channel


@dataclass(frozen=True)
class NoBalloon:
    """No memory balloon (the guests are short-lived and fixed in size)."""

    def element(self) -> ET.Element:
        """Return the <memballoon> element."""
        return ET.Element("memballoon", model="none")


@dataclass(frozen=True)
class KernelBoot:
    """Direct kernel boot: kernel, initramfs and command line from the host."""

    kernel: str
    initrd: str
    cmdline: str


@dataclass(frozen=True)
class RunTag:
    """Which run made the domain, for `status`, `down` and `gc`."""

    run_id: str
    index: int

    def element(self) -> ET.Element:
        """Return the <metadata> child that tags the domain."""
        return ET.Element(f"{{{METADATA_NS}}}run", id=self.run_id, guest=str(self.index))


@dataclass(frozen=True)
class Domain:
    """A whole guest definition."""

    name: str
    memory_mib: int
    vcpus: int
    accel: Literal["kvm", "tcg"]
    boot: KernelBoot
    tag: RunTag
    devices: list[Device] = field(default_factory=list)

    def element(self) -> ET.Element:
        """Return the <domain> element."""
        dom = ET.Element("domain", type="kvm" if self.accel == "kvm" else "qemu")
        sub_element(dom, "name", self.name)
        metadata = sub_element(dom, "metadata")
        metadata.append(self.tag.element())
        sub_element(dom, "memory", str(self.memory_mib), unit="MiB")
        sub_element(dom, "vcpu", str(self.vcpus))
        os_el = sub_element(dom, "os")
        sub_element(os_el, "type", "hvm", arch="x86_64")
        sub_element(os_el, "kernel", self.boot.kernel)
        sub_element(os_el, "initrd", self.boot.initrd)
        sub_element(os_el, "cmdline", self.boot.cmdline)
        # KVM passes the host CPU through; TCG emulates the richest model it has.
        if self.accel == "kvm":
            sub_element(dom, "cpu", mode="host-passthrough")
        else:
            sub_element(dom, "cpu", mode="maximum", migratable="off")
        for event in ("on_poweroff", "on_reboot", "on_crash"):
            sub_element(dom, event, "destroy")
        devices = sub_element(dom, "devices")
        for device in self.devices:
            devices.append(device.element())
        return dom

    def xml(self) -> str:
        """Return the domain XML as an indented string."""
        return xml_text(self.element())


def mac_address(run_id: str, index: int) -> str:
    """Return a stable locally administered MAC for guest `index` of a run."""
    raw = bytes.fromhex(run_id[:6].rjust(6, "0"))
    return "52:54:{:02x}:{:02x}:{:02x}:{:02x}".format(*raw, index & 0xFF)


def read_tag(xml: str) -> RunTag | None:
    """Return the run tag in a domain's XML, or None for domains no run made."""
    root = ET.fromstring(xml)
    node = root.find(f"metadata/{{{METADATA_NS}}}run")
    if node is None or "id" not in node.attrib:
        return None
    return RunTag(node.attrib["id"], int(node.attrib.get("guest", "0")))
