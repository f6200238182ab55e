"""Job files for guests on remote hosts: copied in over ssh before mpiexec, back after.

A remote guest cannot mount the run's work directory (it is on this machine), so each job's
directory is made at the same path inside the guest and filled with the job file and its
staged input; afterwards whatever the ranks wrote there comes back. Both ways are a tar
stream through ssh with the run's own key, under one deadline.
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from supervm.launcher.ssh import ssh_argv
from supervm.launcher.state import GuestState

#: Seconds all copies of one direction may take together (a login under TCG takes ~15 s).
STAGE_DEADLINE_S = 600.0


class StagingError(RuntimeError):
    """A copy to or from a guest failed or stalled; the message names the guest."""


def _pipe(producer: list[str], consumer: list[str], end: float, what: str) -> None:
    """Run `producer | consumer` until monotonic time `end`; raise StagingError if it fails."""
    with tempfile.TemporaryFile() as err1, tempfile.TemporaryFile() as err2:
        first = subprocess.Popen(producer, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=err1)
        assert first.stdout is not None
        second = subprocess.Popen(consumer, stdin=first.stdout, stdout=subprocess.DEVNULL,
                                  stderr=err2)
        first.stdout.close()  # the consumer holds the pipe now: it sees EOF when tar ends
        try:
            second.wait(timeout=max(0.1, end - time.monotonic()))
            first.wait(timeout=max(0.1, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            for process in (first, second):
                process.kill()
                process.wait()
            raise StagingError(f"{what}: not done by its deadline") from None
        if first.returncode or second.returncode:
            messages = []
            for process, err in ((first, err1), (second, err2)):
                err.seek(0)
                text = err.read().decode(errors="replace").strip()
                # A writer whose reader died gets SIGPIPE: the reader's error is the story.
                if process.returncode and process.returncode != -signal.SIGPIPE:
                    messages.append(f"{process.args[0]} exit {process.returncode}"
                                    + (f": {text}" if text else ""))
            raise StagingError(f"{what}: " + ("; ".join(messages) or "broken pipe"))


def push(guests: list[GuestState], key: Path, directory: Path,
         deadline_s: float = STAGE_DEADLINE_S) -> None:
    """Copy `directory` into each guest at the same path (made there if missing)."""
    end = time.monotonic() + deadline_s
    path = shlex.quote(str(directory))
    for guest in guests:
        _pipe(["tar", "-C", str(directory), "-cf", "-", "."],
              [*ssh_argv(key), guest.address,
               f"mkdir -p {path} && tar --no-overwrite-dir -xf - -C {path}"],
              end, f"stage job inputs into guest {guest.name} ({guest.address})")


def pull(guests: list[GuestState], key: Path, directory: Path,
         deadline_s: float = STAGE_DEADLINE_S) -> None:
    """Copy what each guest has in `directory` back into it here (each rank's outputs)."""
    end = time.monotonic() + deadline_s
    path = shlex.quote(str(directory))
    for guest in guests:
        _pipe([*ssh_argv(key), guest.address, f"tar -C {path} -cf - ."],
              ["tar", "--no-overwrite-dir", "-xf", "-", "-C", str(directory)],
              end, f"copy job outputs back from guest {guest.name} ({guest.address})")
