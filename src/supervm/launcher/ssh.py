"""ssh as the rank launcher: the run's own key pair and the ssh line hydra calls."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

#: Seconds an ssh connection may take to open (a login under TCG takes ~14 s here).
CONNECT_TIMEOUT_S = 30

_KEYGEN_TIMEOUT_S = 30.0


def make_key_pair(directory: Path, comment: str) -> tuple[Path, str]:
    """Make an ed25519 key pair in `directory` (private key 0600); return (key, public line)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = directory / "id_ed25519"
    try:
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment,
                        "-f", str(key)], check=True, capture_output=True,
                       timeout=_KEYGEN_TIMEOUT_S)
    except FileNotFoundError:
        raise RuntimeError("ssh-keygen missing (apt-get install openssh-client)") from None
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"ssh-keygen failed: {exc.stderr.decode().strip()}") from None
    os.chmod(key, 0o600)
    return key, (directory / "id_ed25519.pub").read_text().strip()


def ssh_argv(key: Path, connect_timeout_s: int = CONNECT_TIMEOUT_S) -> list[str]:
    """Return the ssh command (without host and command) every rank login uses."""
    # The guests are fresh each run: their host keys are new every time, so none is
    # recorded or checked; the cluster's bridge carries no other traffic.
    return ["ssh", "-i", str(key), "-l", "root",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "BatchMode=yes", "-o", f"ConnectTimeout={connect_timeout_s}",
            "-o", "LogLevel=ERROR"]


def write_launcher(run_dir: Path, key: Path) -> Path:
    """Write the script mpiexec's `-launcher-exec` runs in place of plain ssh."""
    # hydra takes one executable for -launcher-exec, so the options live in a script.
    script = run_dir / "ssh-launcher"
    script.write_text(f"#!/bin/sh\nexec {shlex.join(ssh_argv(key))} \"$@\"\n")
    script.chmod(0o755)
    return script
