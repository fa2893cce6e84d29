"""``hpo worker --group``: one process working on every study of a comparison group.

It always works on the member with the fewest trials, so that the tuners advance evenly however
many workers there are (``hpo.study.groups`` makes the groups).
"""

from __future__ import annotations

import contextlib
import logging

from optuna.storages import BaseStorage

from hpo.storage import StorageRetry, state_counts
from hpo.study import group_members
from hpo.worker.loop import BUDGET_SPENT, Worker, WorkerStats
from hpo.worker.signals import GracefulStop

log = logging.getLogger("hpo.groups")


class GroupWorker:
    """One process working on every study of a group, keeping them level."""

    def __init__(
        self, storage: BaseStorage, group: str, *, n_trials: int | None, stop_timeout: float
    ) -> None:
        self.storage = storage
        self.group = group
        self.n_trials = n_trials
        self.stop = GracefulStop(stop_timeout)
        # Like a worker's own calls, the group's ride out a database restart.
        self.retry = StorageRetry(storage=storage)
        self.members = self.retry("loading the group", lambda: group_members(storage, group))
        self.workers: dict[str, Worker] = {
            spec.name: Worker(storage, spec.name, stop=self.stop, stop_timeout=stop_timeout)
            for spec in self.members
        }
        for worker in self.workers.values():
            worker.progress.name_study = True  # lines of several studies interleave here

    def _trials(self, name: str) -> int:
        study_id = self.workers[name].study_id
        return sum(
            self.retry("counting trials", lambda: state_counts(self.storage, study_id)).values()
        )

    def run(self) -> dict[str, WorkerStats]:
        self.stop.install()
        reasons: dict[str, str] = {}
        try:
            with contextlib.ExitStack() as stack:
                for worker in self.workers.values():
                    stack.enter_context(worker.running(install_signals=False))
                log.info(
                    "group %r: %d studies: %s",
                    self.group,
                    len(self.workers),
                    ", ".join(self.workers),
                )
                active = dict(self.workers)
                ran = 0
                while active and not self.stop.requested:
                    if self.n_trials is not None and ran >= self.n_trials:
                        break
                    name = min(active, key=self._trials)  # the member furthest behind
                    reason = active[name].step(drain=False)
                    ran += 1
                    if reason:
                        reasons[name] = reason
                        del active[name]
                # Every budget is spent: wait for other workers' last trials of each member.
                for name, worker in self.workers.items():
                    if reasons.get(name) == BUDGET_SPENT and not self.stop.requested:
                        while not (reason := worker.drain()):
                            worker.step()
                        reasons[name] = reason
        finally:
            self.stop.uninstall()
        return {name: w.finish(reasons.get(name, "stopped")) for name, w in self.workers.items()}
