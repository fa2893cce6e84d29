"""Comparison groups: one study per sampler (and per repeat) on the same experiment.

``hpo create-study --space F --sampler tpe,random,cmaes --repeats 3`` makes nine studies (all
or none: ``create_studies``),
``GROUP-tpe-r1`` … ``GROUP-cmaes-r3``: the same space, objective, pruner and budget; repeat k
of every sampler uses the same seed (derived from the group's), different repeats different
ones. ``hpo worker --group GROUP`` works on all of them (``hpo.worker.group``).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from types import FrameType

from optuna.storages import BaseStorage

from hpo import attrs
from hpo.errors import InvalidInputError, StoppedBySignalError, StudyNotFoundError
from hpo.optuna_compat import frozen_study_id
from hpo.space import Notice
from hpo.study.bounds import check_repeats
from hpo.study.build import DEFAULT_SAMPLER, build_spec, file_stem
from hpo.study.config_file import SearchConfig
from hpo.study.overrides import Overrides
from hpo.study.seeds import derive_seed, new_study_seed
from hpo.study.spec import StudySpec
from hpo.study.store import Created, create_study, spec_from_stored
from hpo.tuners import resolve_sampler_name


@dataclass(frozen=True)
class Plan:
    """What ``create-study`` is about to store: one study, or a comparison group."""

    group: str | None  # None: a single study
    specs: list[StudySpec]
    notices: list[Notice]


def plan_studies(
    config: SearchConfig, overrides: Overrides, repeats: int = 1, *, cwd: str | None = None
) -> Plan:
    """One study, or a comparison group when several samplers or repeats are asked for."""
    samplers = overrides.samplers
    if len(samplers) <= 1 and repeats == 1:
        spec, notices = build_spec(config, overrides, cwd=cwd)
        return Plan(None, [spec], notices)
    if not samplers:
        samplers = [config.sampler.name if config.sampler else DEFAULT_SAMPLER]
    group, specs, notices = build_group(
        config, replace(overrides, sampler=None), samplers, repeats, cwd=cwd
    )
    return Plan(group, specs, notices)


def create_studies(
    storage: BaseStorage, specs: Sequence[StudySpec], *, exist_ok: bool = False
) -> list[Created]:
    """Create every study of a plan, or none: a group half created (one member's name taken
    by another experiment, SIGTERM or Ctrl-C halfway) would leave studies that no command
    asked for, and ``compare`` would find a group without some of its tuners.

    SIGTERM and SIGINT are held meanwhile (SIGTERM's default would end the process between two
    studies, with no chance to take the first back): one that comes takes back what this call
    created and raises :class:`~hpo.errors.StoppedBySignalError`; a second one meanwhile waits.
    """
    created: list[Created] = []
    with _signals_held() as received:
        try:
            for spec in specs:
                created.append(create_study(storage, spec, exist_ok=exist_ok))
                if received:
                    break
            if received:
                made = sum(not c.reused for c in created)
                undone = f" (the {made} made so far deleted again)" if made else ""
                raise StoppedBySignalError(
                    received[0],
                    f"stopped by {signal.Signals(received[0]).name}: no study created{undone}",
                )
        except BaseException:
            for done in reversed(created):
                if not done.reused:  # what existed before this call stays
                    storage.delete_study(done.study_id)
            raise
    return created


@contextlib.contextmanager
def _signals_held() -> Iterator[list[int]]:
    """SIGTERM and SIGINT noted rather than acted on while it runs (main thread only: signal
    handlers live there); yields the signals that came, in order."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def note(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    held = (signal.SIGTERM, signal.SIGINT)
    previous = {signum: signal.signal(signum, note) for signum in held}
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


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
    check_repeats(repeats)
    names = [resolve_sampler_name(s) for s in samplers]
    if len(set(names)) != len(names):
        raise InvalidInputError(f"--sampler lists a sampler twice: {','.join(samplers)}")
    group = overrides.name or config.experiment_name or file_stem(config.source, "group")
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


def group_members(storage: BaseStorage, group: str) -> list[StudySpec]:
    """The specs of a group's studies, in sampler and repeat order."""
    members = []
    for frozen in sorted(storage.get_all_studies(), key=frozen_study_id):
        data = frozen.user_attrs.get(attrs.SPEC)
        # A damaged study (a spec that is not an object) belongs to no group it can name.
        if isinstance(data, Mapping) and data.get("group") == group:
            members.append(spec_from_stored(data, frozen.study_name))
    if not members:
        raise StudyNotFoundError(f"no group named {group!r}", " (create one with --sampler a,b,…)")
    # Created repeat by repeat, samplers in the order given: keep it (a stable sort).
    return sorted(members, key=lambda s: s.repeat)
