"""Comparison groups: one study per sampler (and per repeat) on the same experiment.

``hpo create-study --space F --sampler tpe,random,cmaes --repeats 3`` makes nine studies,
``GROUP-tpe-r1`` … ``GROUP-cmaes-r3``: the same space, objective, pruner and budget; repeat k
of every sampler uses the same seed (derived from the group's), different repeats different
ones. ``hpo worker --group GROUP`` works on all of them, always on the member that has the
fewest trials, so that the tuners advance evenly however many workers there are.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from hpo.errors import InvalidInputError, StudyNotFoundError
from hpo.samplers import resolve_sampler_name
from hpo.seeds import derive_seed, new_study_seed
from hpo.spec import SPEC_ATTR, StudySpec
from hpo.storage import state_counts
from hpo.study import Created, Overrides, build_spec, create_study

if TYPE_CHECKING:
    from optuna.storages import BaseStorage

    from hpo.config_file import SearchConfig
    from hpo.space import Notice
    from hpo.worker import Worker, WorkerStats

log = logging.getLogger("hpo.groups")


def member_name(group: str, sampler: str, repeat: int, repeats: int) -> str:
    return f"{group}-{sampler}" if repeats == 1 else f"{group}-{sampler}-r{repeat}"


def build_group(
    config: SearchConfig,
    overrides: Overrides,
    samplers: list[str],
    repeats: int,
    *,
    cwd: str | None = None,
) -> tuple[str, list[StudySpec], list[Notice]]:
    """The specs of a group, validated; nothing is stored yet."""
    if repeats < 1:
        raise InvalidInputError(f"--repeats must be at least 1, got {repeats}")
    names = [resolve_sampler_name(s) for s in samplers]
    if len(set(names)) != len(names):
        raise InvalidInputError(f"--sampler lists a sampler twice: {','.join(samplers)}")
    group = overrides.name or config.experiment_name or _stem(config.source)
    seed = overrides.seed if overrides.seed is not None else config.seed
    seed = new_study_seed() if seed is None else seed
    specs: list[StudySpec] = []
    notices: list[Notice] = []
    for repeat in range(1, repeats + 1):
        for sampler in names:
            member = replace(
                overrides,
                sampler=sampler,
                name=member_name(group, sampler, repeat, repeats),
                seed=derive_seed(seed, "repeat", repeat),
            )
            spec, member_notices = build_spec(config, member, cwd=cwd)
            specs.append(replace(spec, group=group, repeat=repeat))
            for notice in member_notices:  # every member says the same: once is enough
                if str(notice) not in {str(n) for n in notices}:
                    notices.append(notice)
    return group, specs, notices


def create_group(storage: BaseStorage, specs: list[StudySpec], *, exist_ok: bool) -> list[Created]:
    return [create_study(storage, spec, exist_ok=exist_ok) for spec in specs]


def group_members(storage: BaseStorage, group: str) -> list[StudySpec]:
    """The specs of a group's studies, in sampler and repeat order."""
    members = []
    for frozen in sorted(storage.get_all_studies(), key=lambda s: s._study_id):
        data = frozen.user_attrs.get(SPEC_ATTR)
        if data and data.get("group") == group:
            members.append(StudySpec.from_json(data))
    if not members:
        raise StudyNotFoundError(f"no group named {group!r} (create one with --sampler a,b,…)")
    # Created repeat by repeat, samplers in the order given: keep it (a stable sort).
    return sorted(members, key=lambda s: s.repeat)


def _stem(source: str | None) -> str:
    from pathlib import Path

    return Path(source).stem if source else "group"


class GroupWorker:
    """One process working on every study of a group, keeping them level."""

    def __init__(
        self, storage: BaseStorage, group: str, *, n_trials: int | None, stop_timeout: float
    ) -> None:
        from hpo.retry import StorageRetry
        from hpo.signals import GracefulStop
        from hpo.worker import Worker

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

    def _trials(self, name: str) -> int:
        study_id = self.workers[name].study_id
        return sum(
            self.retry("counting trials", lambda: state_counts(self.storage, study_id)).values()
        )

    def run(self) -> dict[str, WorkerStats]:
        from hpo.worker import BUDGET_SPENT

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
