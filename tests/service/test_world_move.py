"""Moving the world (scale, a guest stopped or started): drained, no task lost, files staged."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import numpy as np
from test_dispatcher import TINY, FakeWorld, _until

from supervm.service.dispatcher import Dispatcher
from supervm.service.events import EventBus
from supervm.service.metrics import Metrics
from supervm.service.placement import GuestSlot, Placement, collect
from supervm.service.store import Store

BIG = {"kind": "sort", "input": {"random": {"n": 1_000_000}}}


class PlacedWorld(FakeWorld):
    """A stand-in world that remembers where it was placed."""

    def __init__(self, ranks: int, state_dir: Path, solo_below: int = 0,
                 placement: Placement | None = None) -> None:
        super().__init__(ranks, state_dir, solo_below)
        self.placement = placement
        self.ranks = placement.ranks if placement is not None else ranks
        self.stopped = False

    async def stop(self) -> None:
        self.stopped = True
        self.alive = False


def _placement(tmp_path: Path) -> Placement:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return Placement("0000bb01", "test:///default", tmp_path, work, "10.79.9.1", "svb0000bb01",
                     (GuestSlot("svm-0000bb01-g0", "10.79.9.10", 2, 1024),
                      GuestSlot("svm-0000bb01-g1", "10.79.9.11", 1, 1024)))


def test_a_move_drains_first_and_loses_no_task(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = Store(tmp_path / "s.db")
        dispatcher = Dispatcher(store, EventBus(), Metrics(store), ranks=2, state_dir=tmp_path,
                                world_factory=PlacedWorld)
        running = store.add("sort", BIG, run_dirs=tmp_path / "runs")
        await dispatcher.start()
        await _until(lambda: store.get(running.id).state == "running")  # type: ignore[union-attr]
        old = dispatcher.world
        assert isinstance(old, PlacedWorld)
        waiting = store.add("sum", TINY, run_dirs=tmp_path / "runs")
        seen: dict[str, Any] = {}
        placement = _placement(tmp_path)

        async def change() -> Placement:
            seen["running"] = store.get(running.id).state  # type: ignore[union-attr]
            seen["waiting"] = store.get(waiting.id).state  # type: ignore[union-attr]
            seen["old stopped"] = old.stopped
            return placement

        move = asyncio.create_task(dispatcher.move_world(change))
        await asyncio.sleep(0.1)
        assert not move.done()  # the running task holds the move
        assert len(old.sent) == 1  # nothing more is sent to the old world
        old.releases.put_nowait("ok")
        await asyncio.wait_for(move, 5)
        assert seen == {"running": "done", "waiting": "queued", "old stopped": True}
        assert await dispatcher.wait_world(5)
        new = dispatcher.world
        assert isinstance(new, PlacedWorld) and new.placement is placement
        assert dispatcher.status()["ranks"] == 4  # rank 0 here + 2 + 1 guest vCPUs
        assert dispatcher.restarts == 0  # a move is not a restart
        await _until(lambda: len(new.sent) == 1)
        message = new.sent[0]
        assert message["task_id"] == waiting.id
        assert message["run_dir"] == str(placement.task_dir(waiting.id))
        placement.task_dir(waiting.id).mkdir(parents=True)
        (placement.task_dir(waiting.id) / "result.json").write_text("{}")
        new.releases.put_nowait("ok")
        await _until(lambda: store.get(waiting.id).state == "done")  # type: ignore[union-attr]
        assert (tmp_path / "runs" / waiting.id / "result.json").exists()  # collected before "done"
        assert not placement.task_dir(waiting.id).exists()
        await dispatcher.close()

    asyncio.run(scenario())


def test_staging_copies_inputs_and_turns_off_the_gathered_file(tmp_path: Path) -> None:
    placement = _placement(tmp_path)
    data = tmp_path / "late.npy"
    np.save(data, np.arange(10))
    staged = placement.stage({"kind": "sort", "input": {"npy": str(data)}, "gather": True},
                             "t1")
    copy = Path(staged["input"]["npy"])
    assert copy.is_relative_to(placement.work_dir) and copy != data
    assert np.array_equal(np.load(copy), np.arange(10))
    assert staged["gather"] is False
    inline = placement.stage({"kind": "sum", "input": {"values": [1, 2]}}, "t2")
    assert inline == {"kind": "sum", "input": {"values": [1, 2]}}


def test_a_render_scene_goes_inline_with_its_meshes_staged(tmp_path: Path) -> None:
    placement = _placement(tmp_path)
    (tmp_path / "tri.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    scene_file = Path(__file__).parents[2] / "examples" / "scenes" / "spheres.json"
    scene = json.loads(scene_file.read_text())
    scene["objects"].append({"type": "mesh", "file": "tri.obj", "material": "ground"})
    (tmp_path / "scene.json").write_text(json.dumps(scene))
    staged = placement.stage({"kind": "render", "scene": str(tmp_path / "scene.json")}, "t3")
    assert isinstance(staged["scene"], dict)
    mesh = next(o for o in staged["scene"]["objects"] if o["type"] == "mesh")
    assert Path(mesh["file"]).is_relative_to(placement.work_dir)
    assert Path(mesh["file"]).read_text().startswith("v 0 0 0")


def test_the_world_command_puts_rank_0_here_and_pins_the_interfaces(tmp_path: Path) -> None:
    placement = _placement(tmp_path)
    argv, env = placement.command("/x/mpiexec", ["python", "-m", "supervm.world"])
    assert (tmp_path / "world-hostfile").read_text() == (
        "10.79.9.1:1\n10.79.9.10:2\n10.79.9.11:1\n")
    split = argv.index(":")
    assert argv[argv.index("-n"):argv.index("-n") + 2] == ["-n", "1"]
    assert "svb0000bb01" in argv[:split] and argv[split + 1:split + 3] == ["-n", "3"]
    assert "eth0" in argv[split:]
    hosts = json.loads(Path(env["SUPERVM_LAUNCH_HOSTS"]).read_text())
    assert hosts["10.79.9.1"] == {"local": True}
    assert hosts["10.79.9.10"]["domain"] == "svm-0000bb01-g0"


def test_collect_moves_outputs_and_drops_inputs(tmp_path: Path) -> None:
    remote, local = tmp_path / "remote", tmp_path / "local"
    (remote / "inputs").mkdir(parents=True)
    (remote / "sorted-r00000.npy").write_bytes(b"x")
    collect(remote, local)
    assert [p.name for p in local.iterdir()] == ["sorted-r00000.npy"]
    assert not remote.exists()
