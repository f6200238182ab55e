"""`accel = "auto"`: use KVM only where a KVM guest was seen to boot (here it does not)."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import libvirt

from supervm.launcher import guests
from supervm.launcher.domain_xml import Domain, FileSerial, KernelBoot, NoBalloon, RunTag
from supervm.launcher.state import new_run_id

#: What the kernel prints when it hands over to our init: boot got through early start-up.
BOOT_SIGN = "Run /init as init process"

#: Where the verdict is cached, under the state directory.
VERDICT = "accel-verdict"


def boots(conn: libvirt.virConnect, kernel: str, initrd: str, deadline_s: float = 20.0,
          accel: str = "kvm") -> bool:
    """Boot a throwaway guest with `accel`; return whether it reached init by the deadline."""
    run_id = new_run_id()
    with tempfile.TemporaryDirectory(prefix="supervm-probe-") as tmp:
        console = Path(tmp) / "console.log"
        domain = Domain(name=f"svm-{run_id}-probe", memory_mib=256, vcpus=1,
                        accel="kvm" if accel == "kvm" else "tcg",
                        boot=KernelBoot(kernel, initrd, "console=ttyS0 panic=-1 rdinit=/init"),
                        tag=RunTag(run_id, 0), devices=[FileSerial(str(console)), NoBalloon()])
        dom = guests.define(conn, domain)
        try:
            try:
                dom.create()
            except libvirt.libvirtError:
                return False  # seen here: QEMU aborts setting MSRs under broken nested KVM
            end = time.monotonic() + deadline_s
            while time.monotonic() < end:
                if console.exists() and BOOT_SIGN in console.read_text(errors="replace"):
                    return True
                time.sleep(0.2)
            return False
        finally:
            guests.remove_domain(conn, domain.name)
            guests.remove_qemu_log(domain.name)


def probe(conn: libvirt.virConnect, state_dir: Path, kernel: str, initrd: str) -> str:
    """Try a KVM boot with a short deadline; cache and return "kvm" or "tcg"."""
    usable = os.access("/dev/kvm", os.R_OK | os.W_OK) and boots(conn, kernel, initrd)
    verdict = "kvm" if usable else "tcg"
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / VERDICT).write_text(verdict + "\n")
    return verdict


def resolve(accel: str, state_dir: Path, uri: str, kernel: str, initrd: str) -> str:
    """Return kvm or tcg for a spec's accel; `auto` probes once, then reads the cache."""
    if accel != "auto":
        return accel
    cached = state_dir / VERDICT
    if cached.is_file() and cached.read_text().strip() in ("kvm", "tcg"):
        return cached.read_text().strip()
    conn = libvirt.open(uri)
    try:
        return probe(conn, state_dir, kernel, initrd)
    finally:
        conn.close()
