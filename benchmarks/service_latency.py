"""Submit-to-done latency and throughput of tiny jobs through the service's persistent world.

Starts `supervm serve --ranks 2` on a free loopback port with a fresh state directory, then:
1. latency: N tiny sort jobs one after another; each is timed from just before its POST to
   the moment `GET /api/tasks/{id}?wait=10` (a long poll the service answers as soon as
   the task reaches a final state) returns it done;
2. the same tiny job through a fresh `supervm run --np 2` (one mpiexec per job);
3. throughput: M tiny jobs from C concurrent clients, first submission to last completion.
Exits 1 if p50 latency > 20 ms or throughput < 100 jobs/s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

TINY = {"inputData": [5, 3, 9, 1, 7, 2, 8], "operation": "sort"}
P50_TARGET_S = 0.020
THROUGHPUT_TARGET = 100.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _start(state: Path, ranks: int, extra: list[str]) -> tuple[subprocess.Popen[bytes], str,
                                                                 str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "supervm", "serve", "--port", str(port), "--ranks", str(ranks),
         "--state-dir", str(state), *extra], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/health", timeout=2).json()["world"] == "idle":
                return process, url, (state / "token").read_text().strip()
        except (httpx.HTTPError, KeyError, FileNotFoundError):
            pass
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise SystemExit("service_latency: the service did not start within 90 s")


class _Client:
    """A lean keep-alive HTTP client (the standard library's): the CPU it spends is CPU the
    service on this same small machine does not get."""

    def __init__(self, url: str, token: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        self.conn.request(method, path, json.dumps(body) if body is not None else None,
                          self.headers)
        return json.loads(self.conn.getresponse().read())

    def close(self) -> None:
        self.conn.close()


def _run_one(client: _Client) -> float:
    started = time.perf_counter()
    task_id = client.call("POST", "/api/super-vm/process", TINY)["id"]
    task = client.call("GET", f"/api/tasks/{task_id}?wait=10")
    elapsed = time.perf_counter() - started
    if task["state"] != "done":
        raise SystemExit(f"service_latency: task {task_id} ended {task['state']}: {task}")
    return elapsed


def latency(url: str, token: str, jobs: int) -> list[float]:
    """Return the submit-to-done seconds of `jobs` sequential tiny jobs (after a warm-up)."""
    client = _Client(url, token)
    try:
        for _ in range(20):
            _run_one(client)
        return [_run_one(client) for _ in range(jobs)]
    finally:
        client.close()


def fresh_mpiexec(jobs: int, ranks: int) -> list[float]:
    """Return the seconds of `supervm run --np ranks` of the same tiny job, a fresh world each."""
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        job = Path(tmp) / "job.json"
        job.write_text(json.dumps({"kind": "sort", "gather": True,
                                   "input": {"values": TINY["inputData"]}}))
        for i in range(jobs):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "supervm", "run", str(job), "--np", str(ranks),
                            "--out", str(Path(tmp) / f"run{i}")], check=True, timeout=120,
                           capture_output=True)
            times.append(time.perf_counter() - started)
    return times


def throughput(url: str, token: str, jobs: int, clients: int) -> float:
    """Return jobs per second of `jobs` tiny jobs from `clients` threads, submit to last done."""
    per_client = jobs // clients
    errors: list[str] = []

    def work() -> None:
        client = _Client(url, token)
        try:
            ids = [client.call("POST", "/api/super-vm/process", TINY)["id"]
                   for _ in range(per_client)]
            for task_id in ids:
                state = client.call("GET", f"/api/tasks/{task_id}?wait=60")["state"]
                if state != "done":
                    errors.append(f"{task_id}: {state}")
        finally:
            client.close()

    threads = [threading.Thread(target=work) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    elapsed = time.perf_counter() - started
    if errors or any(t.is_alive() for t in threads):
        raise SystemExit(f"service_latency: {len(errors)} jobs did not finish: {errors[:3]}")
    return per_client * clients / elapsed


def main() -> int:
    """Run the three measurements, print a table, return 1 if a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=300, help="sequential jobs (300)")
    parser.add_argument("--fresh", type=int, default=5, help="fresh-mpiexec runs (5)")
    parser.add_argument("--burst", type=int, default=500, help="jobs for throughput (500)")
    parser.add_argument("--clients", type=int, default=10, help="concurrent clients (10)")
    parser.add_argument("--ranks", type=int, default=2, help="world ranks (2)")
    parser.add_argument("--solo-below", type=int, default=None,
                        help="passed to supervm serve (default: its own, 65536; 0 runs even "
                             "tiny jobs on every rank)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        extra = [] if args.solo_below is None else ["--solo-below", str(args.solo_below)]
        process, url, token = _start(Path(tmp) / "state", args.ranks, extra)
        try:
            persistent = latency(url, token, args.jobs)
            rate = throughput(url, token, args.burst, args.clients)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
    fresh = fresh_mpiexec(args.fresh, args.ranks)
    p50, p99 = _quantile(persistent, 0.5), _quantile(persistent, 0.99)
    solo = "default" if args.solo_below is None else str(args.solo_below)
    print(f"\nTiny sort job (7 int64), {args.ranks} ranks (--solo-below {solo}), "
          "submit -> done (long poll):")
    print("| path                          | jobs | p50        | p99        |")
    print("|-------------------------------|------|------------|------------|")
    print(f"| service, persistent world     | {len(persistent):4d} | {p50 * 1e3:7.1f} ms | "
          f"{p99 * 1e3:7.1f} ms |")
    print(f"| fresh mpiexec (supervm run)   | {len(fresh):4d} | "
          f"{_quantile(fresh, 0.5) * 1e3:7.1f} ms | {_quantile(fresh, 0.99) * 1e3:7.1f} ms |")
    print(f"\nThroughput: {rate:.0f} jobs/s ({args.burst} tiny jobs, {args.clients} clients)")
    missed = []
    if p50 > P50_TARGET_S:
        missed.append(f"p50 {p50 * 1e3:.1f} ms > {P50_TARGET_S * 1e3:.0f} ms")
    if rate < THROUGHPUT_TARGET:
        missed.append(f"throughput {rate:.0f}/s < {THROUGHPUT_TARGET:.0f}/s")
    if missed:
        print("missed: " + "; ".join(missed))
        return 1
    print("targets met: p50 <= 20 ms, throughput >= 100 jobs/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
