"""The service's guests: create runs, drive single guests, and move the world onto them.

Every libvirt call runs in a worker thread (`asyncio.to_thread`), never on the event loop;
operations on one run are serialised by its lock. Progress goes out on the event bus as
`{"stream": "vm", ...}` events and shows in the VM listing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import time
from pathlib import Path
from typing import Any

from supervm.launcher import cluster, fleet, guests
from supervm.launcher.spec import ClusterSpec, SpecError, load_spec, parse_spec
from supervm.launcher.state import RunState, domain_name, list_runs, new_run_id
from supervm.service.dispatcher import Dispatcher
from supervm.service.events import EventBus
from supervm.service.models import ErrorItem
from supervm.service.placement import Placement
from supervm.service.submission import RequestError

#: Seconds a run's guests may take from define to ready (TCG boots take 15-60 s here).
CREATE_DEADLINE_S = 300.0
#: Seconds between looks at a run's saved phase while `up` works.
_PHASE_POLL_S = 0.25
#: Names a spec file under the specs directory may have (no paths).
_SPEC_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _invalid(problems: list[str], prefix: str = "") -> RequestError:
    items = []
    for problem in problems:
        where, _, message = problem.partition(": ")
        items.append(ErrorItem(field=prefix + where, message=message or problem))
    return RequestError(422, "invalid cluster spec", items)


class GuestManager:
    """Runs of guests under one launcher state directory, as the HTTP API drives them."""

    def __init__(self, launch_dir: Path, spec_dir: Path, bus: EventBus,
                 dispatcher: Dispatcher, host_ranks: int,
                 create_deadline_s: float = CREATE_DEADLINE_S) -> None:
        self.launch_dir, self.spec_dir = launch_dir, spec_dir
        self.bus, self.dispatcher, self.host_ranks = bus, dispatcher, host_ranks
        self.create_deadline_s = create_deadline_s
        self.progress: dict[str, dict[str, Any]] = {}  # run -> its creation's last word
        self.busy: dict[str, str] = {}  # guest name -> what is being done to it
        self._locks: dict[str, asyncio.Lock] = {}
        self._scaling = asyncio.Lock()
        self._workers: set[asyncio.Task[None]] = set()

    # --- specs ------------------------------------------------------------------------------

    def resolve_spec(self, body: Any) -> ClusterSpec:
        """Return the spec a request names or holds; raise RequestError naming each bad field."""
        if not isinstance(body, dict):
            raise RequestError(400, "request body must be a JSON object: a cluster spec, or "
                               '{"spec": NAME} naming a file under the specs directory')
        if set(body) == {"spec"}:
            name = body["spec"]
            if not isinstance(name, str) or not _SPEC_NAME.match(name):
                raise RequestError(422, "invalid spec name", [ErrorItem(
                    field="spec", message="must be the name of a spec file (letters, digits,"
                    " '-', '_'), without .toml")])
            path = self.spec_dir / f"{name}.toml"
            if not path.is_file():
                have = sorted(p.stem for p in self.spec_dir.glob("*.toml"))
                raise RequestError(422, "unknown spec", [ErrorItem(
                    field="spec", message=f"no spec {name!r} under {self.spec_dir} (there are:"
                    f" {', '.join(have) or 'none'})")])
            try:
                return load_spec(path)
            except SpecError as exc:
                raise _invalid(exc.problems, "spec.") from None
        try:
            return parse_spec(body)
        except SpecError as exc:
            raise _invalid(exc.problems) from None

    async def _check_free(self, spec: ClusterSpec) -> None:
        """Refuse a spec whose subnet overlaps a live run's: the host would route to both."""
        net = ipaddress.IPv4Network(spec.network.subnet)
        for run in await asyncio.to_thread(self.runs):
            other = ipaddress.IPv4Network(f"{run.host_address or '0.0.0.0'}/{run.prefix}",
                                          strict=False)
            if run.host_address and net.overlaps(other):
                raise RequestError(409, f"network.subnet: {net} overlaps {other} of run "
                                   f"{run.run_id}; choose another subnet", [ErrorItem(
                                       field="network.subnet",
                                       message=f"overlaps run {run.run_id}'s {other}")])
        for run_id, info in self.progress.items():
            planned = info.get("subnet")
            if (info.get("phase") not in ("failed", "ready") and planned
                    and net.overlaps(ipaddress.IPv4Network(planned))):
                raise RequestError(409, f"network.subnet: {net} is being used by run "
                                   f"{run_id}, which is being created", [ErrorItem(
                                       field="network.subnet", message="in use")])

    # --- reading ----------------------------------------------------------------------------

    def runs(self) -> list[RunState]:
        """Return every saved run (unreadable ones skipped)."""
        found = []
        for run_id in list_runs(self.launch_dir):
            try:
                found.append(RunState.load(self.launch_dir, run_id))
            except (OSError, ValueError, TypeError):
                continue  # being rewritten right now, or foreign
        return found

    def find(self, vm_id: str) -> RunState:
        """Return the run holding guest `vm_id`; raise RequestError 404 if none does."""
        for run in self.runs():
            if any(g.name == vm_id for g in run.guests):
                return run
        raise RequestError(404, f"no guest {vm_id!r} in any launcher run")

    def run_records(self) -> list[dict[str, Any]]:
        """Return each run's phase and, for creations, progress and errors."""
        records = {r.run_id: {"run": r.run_id, "phase": r.phase, "guests": len(r.guests),
                              "accel": r.accel, "bridge": r.bridge,
                              "world": self._world_run() == r.run_id} for r in self.runs()}
        for run_id, info in self.progress.items():
            records.setdefault(run_id, {"run": run_id, "guests": 0, "world": False})
            records[run_id].update(info)
        return list(records.values())

    def _world_run(self) -> str | None:
        placement = self.dispatcher.placement
        return placement.run_id if placement is not None else None

    # --- events -----------------------------------------------------------------------------

    def publish(self, run_id: str, phase: str, **extra: Any) -> None:
        """Send a guest event on the bus and remember it for the listing."""
        event = {"stream": "vm", "run": run_id, "phase": phase, "at": time.time(), **extra}
        self.bus.publish(event)

    def _lock(self, run_id: str) -> asyncio.Lock:
        return self._locks.setdefault(run_id, asyncio.Lock())

    # --- create -----------------------------------------------------------------------------

    async def begin_create(self, spec: ClusterSpec) -> dict[str, Any]:
        """Plan a run, start creating it in the background; return the run and its guests."""
        await self._check_free(spec)
        run_id = new_run_id()
        count = spec.guest_count()
        host = spec.hosts[0]
        planned = [{"id": domain_name(run_id, i), "address": ip, "vcpus": host.vcpus,
                    "memory_mib": host.memory_mib, "state": "planned"}
                   for i, ip in enumerate(spec.network.guest_ips(count))]
        for guest in planned:
            self.busy[guest["id"]] = "being created"
        self.progress[run_id] = {"phase": "planned", "subnet": spec.network.subnet,
                                 "guests": count}
        self.publish(run_id, "planned", guests=[g["id"] for g in planned])
        worker = asyncio.create_task(self._create(run_id, spec, [g["id"] for g in planned]))
        self._workers.add(worker)
        worker.add_done_callback(self._workers.discard)
        return {"run": run_id, "phase": "planned", "guests": planned,
                "location": f"/api/vms?run={run_id}"}

    async def _create(self, run_id: str, spec: ClusterSpec, names: list[str]) -> None:
        """Run `cluster.up` in a thread; publish each phase it saves; record how it ended."""
        async with self._lock(run_id):
            job = asyncio.create_task(asyncio.to_thread(
                cluster.up, spec, self.launch_dir, self.create_deadline_s, run_id,
                lambda *_: None))
            seen = "planned"
            try:
                while not job.done():
                    await asyncio.wait({job}, timeout=_PHASE_POLL_S)
                    phase = await asyncio.to_thread(self._phase, run_id)
                    if phase and phase != seen and phase != "ready":
                        seen = phase
                        self.progress[run_id]["phase"] = phase
                        self.publish(run_id, phase)
                run = job.result()
            except Exception as exc:  # every failure is reported, none raised
                message = str(exc) or type(exc).__name__
                head, _, tail = message.partition("console tail")
                self.progress[run_id].update({"phase": "failed", "stage": seen,
                                              "error": head.strip().rstrip(";"),
                                              "console_tail": tail.partition(":\n")[2] or None})
                self.publish(run_id, "failed", stage=seen, error=self.progress[run_id]["error"],
                             console_tail=self.progress[run_id]["console_tail"])
            else:
                self.progress[run_id].update({"phase": "ready", "timings": run.timings})
                self.publish(run_id, "ready", guests=[g.name for g in run.guests])
            finally:
                for name in names:
                    self.busy.pop(name, None)

    def _phase(self, run_id: str) -> str | None:
        try:
            return RunState.load(self.launch_dir, run_id).phase
        except (OSError, ValueError, TypeError):
            return None

    # --- one guest --------------------------------------------------------------------------

    async def _guard(self, vm_id: str, doing: str) -> RunState:
        if vm_id in self.busy:
            raise RequestError(409, f"guest {vm_id} is busy: {self.busy[vm_id]}")
        self.busy[vm_id] = doing  # before any await: a second request now sees it busy
        try:
            return await asyncio.to_thread(self.find, vm_id)
        except BaseException:
            del self.busy[vm_id]
            raise

    async def _change(self, run: RunState, names: set[str], work: Any) -> Any:
        """Run `work(run)` in a thread; if the world has ranks on `names`, move it around."""
        placement = self.dispatcher.placement
        moves = placement is not None and placement.run_id == run.run_id and bool(
            names & {g.name for g in placement.guests})
        if not moves:
            return await asyncio.to_thread(work, run)
        outcome: list[Any] = []

        async def change() -> Placement | None:
            outcome.append(await asyncio.to_thread(work, run))
            return self._placement_on(run.run_id)

        await self.dispatcher.move_world(change)
        return outcome[0]

    def _placement_on(self, run_id: str) -> Placement | None:
        """Return the placement on the run's ready guests (None: no guests, host only)."""
        try:
            run = RunState.load(self.launch_dir, run_id)
        except (OSError, ValueError, TypeError):
            return None
        placement = Placement.of(run, self.launch_dir)
        return placement if placement.guests else None

    async def delete(self, vm_id: str) -> dict[str, Any]:
        """Remove one guest; the run's last guest takes the run down."""
        run = await self._guard(vm_id, "being deleted")
        try:
            async with self._lock(run.run_id):
                run = await asyncio.to_thread(RunState.load, self.launch_dir, run.run_id)
                last = len(run.guests) == 1
                failures = await self._change(
                    run, {vm_id}, lambda r: fleet.remove_guest(r, self.launch_dir, vm_id))
        finally:
            self.busy.pop(vm_id, None)
        if failures:
            raise RequestError(500, f"guest {vm_id} was not removed completely: "
                               + "; ".join(failures))
        if last:
            self.progress.pop(run.run_id, None)  # the run is gone: no record of it either
        self.publish(run.run_id, "deleted" if last else "guest deleted", guest=vm_id)
        return {"id": vm_id, "run": run.run_id, "deleted": True, "run_removed": last}

    async def delete_run(self, run_id: str) -> dict[str, Any]:
        """Take a whole run down."""
        run = next((r for r in self.runs() if r.run_id == run_id), None)
        if run is None:
            if self.progress.get(run_id, {}).get("phase") not in (None, "failed", "ready"):
                raise RequestError(409, f"run {run_id} is being created")
            if self.progress.pop(run_id, None) is not None:
                return {"run": run_id, "deleted": True, "guests": []}  # a failed creation
            raise RequestError(404, f"no launcher run {run_id!r}")
        names = {g.name for g in run.guests}
        busy = sorted(names & set(self.busy))
        if busy:
            raise RequestError(409, f"run {run_id} is busy: {busy[0]} {self.busy[busy[0]]}")
        for name in names:
            self.busy[name] = "being deleted"
        try:
            async with self._lock(run_id):
                failures = await self._change(
                    run, names, lambda r: cluster.down(r, self.launch_dir))
        finally:
            for name in names:
                self.busy.pop(name, None)
        if failures:
            raise RequestError(500, f"run {run_id} was not removed completely: "
                               + "; ".join(failures))
        self.progress.pop(run_id, None)
        self.publish(run_id, "deleted", guests=sorted(names))
        return {"run": run_id, "deleted": True, "guests": sorted(names)}

    async def stop(self, vm_id: str, deadline_s: float) -> dict[str, Any]:
        """Power a guest off (destroyed after the deadline); the world leaves it first."""
        run = await self._guard(vm_id, "stopping")
        try:
            async with self._lock(run.run_id):
                run = await asyncio.to_thread(RunState.load, self.launch_dir, run.run_id)
                how = await self._change(run, {vm_id}, lambda r: fleet.stop_guest(
                    r, self.launch_dir, vm_id, deadline_s))
        finally:
            self.busy.pop(vm_id, None)
        self.publish(run.run_id, "stopped", guest=vm_id, how=how)
        return {"id": vm_id, "state": "shut off", "how": how}

    async def start(self, vm_id: str) -> dict[str, Any]:
        """Boot a stopped guest and wait until it is ready; the world takes it back."""
        run = await self._guard(vm_id, "starting")
        try:
            async with self._lock(run.run_id):
                run = await asyncio.to_thread(RunState.load, self.launch_dir, run.run_id)
                self.publish(run.run_id, "started", guest=vm_id)
                try:
                    await asyncio.to_thread(fleet.start_guest, run, self.launch_dir, vm_id,
                                            self.create_deadline_s)
                except Exception as exc:  # libvirt's too: say what failed, never a traceback
                    self.publish(run.run_id, "failed", guest=vm_id, error=str(exc))
                    status = {fleet.FleetError: 409, guests.ReadinessError: 504}.get(
                        type(exc), 500)
                    raise RequestError(status, f"guest {vm_id} did not start: {exc}") from None
                if self._world_run() == run.run_id:
                    await self.dispatcher.move_world(
                        self._async_placement(run.run_id))
        finally:
            self.busy.pop(vm_id, None)
        self.publish(run.run_id, "ready", guest=vm_id)
        return {"id": vm_id, "state": "running"}

    def _async_placement(self, run_id: str) -> Any:
        async def change() -> Placement | None:
            return await asyncio.to_thread(self._placement_on, run_id)
        return change

    # --- scale ------------------------------------------------------------------------------

    async def scale(self, nodes: int, spec: ClusterSpec | None,
                    deadline_s: float) -> dict[str, Any]:
        """Grow or shrink the world's guests to `nodes` and move the world onto them."""
        if self._scaling.locked():
            raise RequestError(409, "a scale is already in progress")
        async with self._scaling:
            run = await asyncio.to_thread(self._scale_run)
            if nodes == 0 and run is not None and run.run_id != self._world_run():
                run = None  # N=0 takes down only the guests the world runs on, no other run
            if run is None and nodes > 0:
                if spec is None:
                    raise RequestError(409, "no guests to scale onto: create some with POST "
                                       "/api/vms, or give a spec with the request",
                                       [ErrorItem(field="spec", message="required when no "
                                                  "run of guests is ready")])
                grown = spec.model_copy(update={"hosts": [
                    spec.hosts[0].model_copy(update={"guests": nodes})]})
                await self._check_free(grown)
                self.publish("", "scaling", nodes=nodes)
                run = await asyncio.to_thread(cluster.up, ClusterSpec.model_validate(
                    grown.model_dump()), self.launch_dir, deadline_s, None, lambda *_: None)
            if run is None:  # nodes == 0 and no guests: the world stays on the host
                await self.dispatcher.move_world(self._none)
            else:
                await self._scale_run_to(run, nodes, deadline_s)
            up = await self.dispatcher.wait_world(deadline_s)
            self.publish(run.run_id if run else "", "scaled", nodes=nodes, world_up=up)
            status = self.dispatcher.status()
            if not up:
                raise RequestError(503, f"the world did not start on {nodes} guest(s): "
                                   f"{status.get('last_error')}")
            return {"nodes": nodes, "world": status}

    async def _none(self) -> Placement | None:
        return None

    def _scale_run(self) -> RunState | None:
        """Return the run the world uses, else the newest ready run, else None."""
        runs = [r for r in self.runs() if r.phase in ("ready", "running")]
        current = self._world_run()
        for run in runs:
            if run.run_id == current:
                return run
        return runs[-1] if runs else None

    async def _scale_run_to(self, run: RunState, nodes: int, deadline_s: float) -> None:
        names = {g.name for g in run.guests}
        busy = sorted(names & set(self.busy))
        if busy:
            raise RequestError(409, f"guest {busy[0]} is busy: {self.busy[busy[0]]}")
        async with self._lock(run.run_id):
            if nodes > len(run.guests):  # boot the new guests while the old world works on
                try:
                    await asyncio.to_thread(fleet.add_guests, run, self.launch_dir,
                                            nodes - len(run.guests), deadline_s)
                except Exception as exc:  # the new guests are removed again (add_guests' undo)
                    status = 504 if isinstance(exc, guests.ReadinessError) else 500
                    raise RequestError(status, f"new guests did not become ready: {exc}"
                                       ) from None
            keep = sorted(run.guests, key=lambda g: int(g.name.rsplit("-g", 1)[1]))[:nodes]
            for guest in keep:
                if guest.state != "ready":
                    await asyncio.to_thread(fleet.start_guest, run, self.launch_dir,
                                            guest.name, deadline_s)
            drop = [g.name for g in run.guests if g.name not in {k.name for k in keep}]

            async def change() -> Placement | None:
                for name in drop:
                    current = await asyncio.to_thread(RunState.load, self.launch_dir,
                                                      run.run_id)
                    await asyncio.to_thread(fleet.remove_guest, current, self.launch_dir, name)
                return await asyncio.to_thread(self._placement_on, run.run_id)

            await self.dispatcher.move_world(change)

    async def close(self) -> None:
        """Wait for creations in flight (their own deadlines bound them)."""
        if self._workers:
            await asyncio.gather(*self._workers, return_exceptions=True)
