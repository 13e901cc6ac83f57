"""Running items on Ray: long-lived actors that each hold the models, items as actor tasks.

Each actor is a :class:`TaskRunner` in a Ray worker process; the driver keeps one item in flight
per actor, so items go to whichever actor is free, on any node. Actors write the outputs straight
into the output folder, which every node must see at the same path (shared storage), and return
the :class:`ItemResult`; the driver writes the ledger. An actor that dies is restarted by Ray and
its task retried (``max_restarts`` / ``max_task_retries``); the driver's own retries come on top.

Ray is an extra (``pip install posekit[ray]``), imported only here and only when used.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from posekit.batch.events import BatchEvents, describe_error, is_retryable
from posekit.batch.items import ItemResult, WorkItem
from posekit.errors import UsageError

logger = logging.getLogger(__name__)

_RAY_RESTARTS = 3
_WAIT_S = 1.0


def import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise UsageError("--ray needs Ray: pip install 'posekit[ray]'") from exc
    return ray


class PoseActorBody:
    """What each actor runs: one :class:`TaskRunner`, kept for the actor's life."""

    def __init__(self, out_dir: str, num_threads: int) -> None:
        import ray

        from posekit.batch.runner import TaskRunner

        self.out_dir = Path(out_dir)
        node_id = ray.get_runtime_context().get_node_id()
        self.runner = TaskRunner(num_threads, worker=f"ray:{node_id}:{os.getpid()}")

    def where(self) -> str:
        return self.runner.worker

    def run(self, item_data: dict[str, Any]) -> tuple[Any, ...]:
        from posekit.batch.runner import run_item

        try:
            result = run_item(WorkItem.from_dict(item_data), self.out_dir, runner=self.runner)
        except Exception as exc:  # reported to the driver, which decides on a retry
            return ("failed", describe_error(exc), is_retryable(exc))
        return ("done", result.to_dict())


class RayPool:
    """``RayPool("local" | address, workers=None, num_threads=None).run(items, out_dir, events)``.

    ``workers``: number of actors (default: one per CPU slot of the cluster, each with
    ``num_threads`` threads, default 1); each actor asks Ray for ``num_threads`` CPUs.
    """

    def __init__(self, address: str, *, workers: int | None = None, num_threads: int | None = None) -> None:
        self.address = address
        self.workers = workers
        self.num_threads = num_threads or 1

    def _connect(self, ray: Any) -> bool:
        """Connects (or starts a local Ray); returns whether this call did, so it also disconnects."""
        if ray.is_initialized():
            return False
        if self.address in ("", "local"):
            ray.init(
                num_cpus=os.cpu_count() or 1,
                include_dashboard=False,
                log_to_driver=False,
                _node_ip_address="127.0.0.1",  # a Ray of its own stays on loopback
            )
        else:
            ray.init(address=self.address, log_to_driver=False)
        return True

    def run(self, items: list[WorkItem], out_dir: Path, events: BatchEvents) -> None:
        ray = import_ray()
        connected = self._connect(ray)
        try:
            self._run(ray, items, out_dir, events)
        finally:
            if connected:
                ray.shutdown()

    def _new_actor(self, ray: Any, out_dir: Path) -> tuple[Any, str]:
        actor_class = ray.remote(PoseActorBody).options(
            num_cpus=self.num_threads,
            max_restarts=_RAY_RESTARTS,
            max_task_retries=_RAY_RESTARTS,
            scheduling_strategy="SPREAD",
        )
        actor = actor_class.remote(str(out_dir.resolve()), self.num_threads)
        return actor, ray.get(actor.where.remote())

    def _run(self, ray: Any, items: list[WorkItem], out_dir: Path, events: BatchEvents) -> None:
        slots = int(ray.cluster_resources().get("CPU", 1)) // self.num_threads
        count = max(1, min(self.workers or slots, len(items)))
        actors = [self._new_actor(ray, out_dir) for _ in range(count)]
        logger.info("ray: %d actors on %s", count, sorted({where for _, where in actors}))
        waiting = list(items)
        in_flight: dict[Any, tuple[int, WorkItem]] = {}
        idle = list(range(count))
        while waiting or in_flight:
            while idle and waiting:
                index, item = idle.pop(0), waiting.pop(0)
                actor, where = actors[index]
                events.started(item, where)
                in_flight[actor.run.remote(item.to_dict())] = (index, item)
            ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=_WAIT_S)
            for ref in ready:
                index, item = in_flight.pop(ref)
                idle.append(index)
                try:
                    outcome = ray.get(ref)
                except ray.exceptions.RayError as exc:  # the actor died past its restarts
                    outcome = ("failed", f"ray worker lost: {type(exc).__name__}", True)
                    actors[index] = self._new_actor(ray, out_dir)
                if outcome[0] == "done":
                    result = ItemResult.from_dict(outcome[1])
                    events.finished(item, result)
                elif events.failed(item, str(outcome[1]), bool(outcome[2])):
                    waiting.insert(0, item)
