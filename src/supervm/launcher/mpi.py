"""MPI across guests: the hostfile, and the launcher agent mpiexec calls in place of ssh.

MPICH's hydra runs `LAUNCHER -x HOST PROXY-COMMAND...` for each host; our agent maps HOST
(a guest address) to its domain and runs the proxy command there through qemu-ga.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

#: Environment variable naming the JSON map {address: {"domain", "uri"}} the agent reads.
HOSTS_ENV = "SUPERVM_LAUNCH_HOSTS"


def write_hostfile(path: Path, addresses: list[str], slots: int = 1) -> Path:
    """Write an MPICH hostfile: one `address:slots` line per guest."""
    path.write_text("".join(f"{ip}:{slots}\n" for ip in addresses))
    return path


def write_agent(run_dir: Path, uri: str, hosts: dict[str, str],
                uris: dict[str, str] | None = None, *,
                local: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """Write the host map and the agent script; return (agent, map) paths.

    `hosts` maps guest addresses to domain names; `uris` maps addresses to their
    hypervisor's URI where it is not `uri` (clusters over several hosts); `local` names
    addresses of this host (rank 0 of the service's world runs here).
    """
    mapping = run_dir / "hosts.json"
    where = uris or {}
    entries: dict[str, dict[str, object]] = {ip: {"domain": name, "uri": where.get(ip, uri)}
                                             for ip, name in hosts.items()}
    entries.update({ip: {"local": True} for ip in local})
    mapping.write_text(json.dumps(entries, indent=2))
    script = run_dir / "mpi-agent"
    script.write_text(f"#!{sys.executable}\n"
                      "from supervm.launcher.mpi import agent_main\n"
                      "raise SystemExit(agent_main())\n")
    script.chmod(0o755)
    return script, mapping


def mpiexec_command(mpiexec: str, agent: Path, hostfile: Path, host_ip: str, ranks: int,
                    per_guest: int, program: list[str], wdir: str | None = None) -> list[str]:
    """Return the mpiexec line that starts `program` as ranks inside the guests.

    `agent` is what hydra runs in place of ssh: the guest-agent launcher or the ssh
    launcher script (ssh.write_launcher); `wdir` is the ranks' directory in the guests.
    """
    # -localhost: proxies in the guests call back to the host's bridge address, not to a
    # hostname they cannot resolve.
    line = [mpiexec, "-f", str(hostfile), "-n", str(ranks), "-ppn", str(per_guest),
            "-launcher", "ssh", "-launcher-exec", str(agent), "-localhost", host_ip]
    if wdir is not None:
        # hydra's default is mpiexec's own directory, which an image guest may not have.
        line += ["-wdir", wdir]
    return [*line, *program]


def parse_agent_args(argv: list[str]) -> tuple[str, str]:
    """Split hydra's `[-x ...] HOST COMMAND...` into (host, shell command)."""
    rest = list(argv)
    while rest and rest[0].startswith("-"):
        rest.pop(0)
    if len(rest) < 2:
        raise ValueError("usage: mpi-agent [-x] HOST COMMAND...")
    return rest[0], " ".join(rest[1:])


def agent_main(argv: list[str] | None = None) -> int:
    """Run hydra's proxy command inside the guest at HOST; relay its output and status."""
    import libvirt

    from supervm.launcher import agent

    args = sys.argv[1:] if argv is None else argv
    try:
        host, cmd = parse_agent_args(args)
        hosts = json.loads(Path(os.environ[HOSTS_ENV]).read_text())
        entry = hosts[host]
    except (ValueError, KeyError, OSError) as exc:
        print(f"supervm-launch agent: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 255
    if entry.get("local"):  # hydra asked us for this host itself: run the proxy here
        os.execv("/bin/sh", ["/bin/sh", "-c", cmd])
    name = entry["domain"]
    libvirt.registerErrorHandler(lambda *_: None, None)  # errors are reported below
    try:
        conn = libvirt.open(entry["uri"])
        dom = conn.lookupByName(name)
        pid = agent.start(dom, ["/bin/sh", "-c", cmd])
        while True:
            reply = agent.status(dom, pid)
            if reply is not None:
                break
            time.sleep(0.2)
    except (libvirt.libvirtError, agent.AgentError) as exc:
        message = exc.get_error_message() if isinstance(exc, libvirt.libvirtError) else exc
        print(f"supervm-launch: guest {name} ({host}) lost: {message}", file=sys.stderr,
              flush=True)
        return 255
    result = agent.result_of(reply)
    sys.stdout.buffer.write(result.stdout)
    sys.stderr.buffer.write(result.stderr)
    return result.exitcode
