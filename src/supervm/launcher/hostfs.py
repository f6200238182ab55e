"""The hostfs guest builder: the host's kernel, our initramfs, the host's root over 9p."""

from __future__ import annotations

from pathlib import Path

import libvirt

from supervm.launcher import guests
from supervm.launcher.initramfs import build_initramfs, find_kernel
from supervm.launcher.spec import ClusterSpec
from supervm.launcher.state import RunState
from supervm.launcher.undo import UndoStack


class HostfsBuilder:
    """Makes hostfs guests; nothing per guest but the domain."""

    def __init__(self, spec: ClusterSpec, state_dir: Path) -> None:
        kernel = find_kernel(spec.kernel)
        self.kernel = str(kernel.image)
        self.initrd = str(build_initramfs(state_dir / "cache", kernel))

    def prepare(self, run: RunState, run_dir: Path, stack: UndoStack) -> None:
        """Nothing to make once per run."""

    def resume(self, run: RunState, run_dir: Path) -> None:
        """Nothing to find again: adding guests to a run that is up needs only the domain."""

    def domain(self, plan: guests.GuestPlan, run: RunState, accel: str, stack: UndoStack,
               conn: libvirt.virConnect, uri: str) -> guests.GuestBuild:
        """Return the guest's domain (no files are made for it)."""
        return guests.GuestBuild(guests.domain_for(plan, run.run_id, accel, self.kernel,
                                                   self.initrd, run.bridge, run.work_dir))
