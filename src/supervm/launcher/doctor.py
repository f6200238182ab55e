"""`supervm-launch doctor`: can this machine run guests, and does KVM really boot one?"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import libvirt

from supervm.launcher import accel, cluster, network
from supervm.launcher.initramfs import build_initramfs, find_kernel, have_tools


def run(uri: str, state_dir: Path, probe_kvm: bool = True) -> int:
    """Print one line per check; cache the accel verdict; return 1 if a check failed."""
    failed = 0

    def report(ok: bool, what: str) -> None:
        nonlocal failed
        failed += not ok
        print(f"[{'ok' if ok else 'FAIL'}] {what}", flush=True)

    try:
        kernel = find_kernel()
        initrd = build_initramfs(state_dir / "cache", kernel)
        report(True, f"guest kernel {kernel.image}, initramfs {initrd}")
    except (OSError, FileNotFoundError) as exc:
        report(False, f"guest kernel/initramfs: {exc}")
        kernel = None
    missing = have_tools()
    report(not missing, "host tools for hostfs guests" + (f": missing {missing}" if missing
                                                          else " (qemu-ga, ip)"))
    probe = f"svbdoc{os.getpid() % 100000}"
    try:
        network.create_bridge(probe, "10.254.254.1", 30)
        network.delete_bridge(probe)
        report(True, "may create and delete bridges")
    except (network.NetworkError, OSError) as exc:
        report(False, f"bridges: {exc}")
    try:
        started = time.monotonic()
        conn = cluster.connect(uri)
        report(True, f"libvirt {uri} answers ({time.monotonic() - started:.1f} s)")
    except libvirt.libvirtError as exc:
        report(False, f"libvirt {uri}: {exc.get_error_message()} "
                      "(no systemd? `supervm-launch daemon` starts libvirtd)")
        return 1
    try:
        kvm_dev = os.access("/dev/kvm", os.R_OK | os.W_OK)
        if probe_kvm and kernel is not None:
            verdict = accel.probe(conn, state_dir, str(kernel.image), str(initrd))
            report(True, f"KVM {'boots a guest' if verdict == 'kvm' else 'does not boot a guest'}"
                         f" (/dev/kvm {'present' if kvm_dev else 'absent'}); accel auto = "
                         f"{verdict}")
            tcg = accel.boots(conn, str(kernel.image), str(initrd), 60.0, accel="tcg")
            report(tcg, "a TCG guest reaches init" if tcg else "a TCG guest did not boot in 60 s")
    finally:
        conn.close()
    if shutil.which("mpiexec", path=str(Path(sys.executable).parent)) is None:
        report(False, "mpiexec not next to Python (make setup installs the mpich wheel)")
    return 1 if failed else 0
