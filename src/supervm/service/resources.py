"""What this host offers: CPUs, memory (psutil) and GPUs (nvidia-smi, only if present)."""

from __future__ import annotations

import shutil
import socket
import subprocess
from typing import Any

import psutil

#: Seconds nvidia-smi may take before the GPU list is reported as unknown.
_NVIDIA_SMI_DEADLINE_S = 5.0


def gpus() -> list[dict[str, Any]]:
    """Return the NVIDIA GPUs nvidia-smi reports; none if it is absent or fails."""
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return []
    fields = "index,name,memory.total,memory.used,utilization.gpu"
    try:
        out = subprocess.run([tool, f"--query-gpu={fields}", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=_NVIDIA_SMI_DEADLINE_S,
                             check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in out.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 5:
            continue
        index, name, total, used, util = parts
        try:
            found.append({"index": int(index), "name": name,
                          "memory_total_bytes": int(float(total)) * 2**20,
                          "memory_used_bytes": int(float(used)) * 2**20,
                          "utilization_percent": float(util)})
        except ValueError:
            continue
    return found


def local_host() -> dict[str, Any]:
    """Return this host's CPUs, CPU use, memory and GPUs."""
    memory = psutil.virtual_memory()
    return {
        "host": socket.gethostname(),
        "cpu": {"count": psutil.cpu_count() or 1,
                "physical": psutil.cpu_count(logical=False),
                "percent": psutil.cpu_percent(interval=None),
                "load_average": list(psutil.getloadavg())},
        "memory": {"total_bytes": memory.total, "available_bytes": memory.available,
                   "used_percent": memory.percent},
        "gpus": gpus(),
    }
