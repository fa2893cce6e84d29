"""Bounds on the numbers that start processes or create studies, each refused in one line
past its limit: ``trialConcurrency: 100000`` or ``--workers 100000`` started that many
processes for a 3-trial study, and ``--repeats 100000`` created that many studies per sampler.
"""

from __future__ import annotations

from collections.abc import Mapping

from optuna.trial import TrialState

from hpo.errors import InvalidInputError
from hpo.study.spec import StudySpec

#: Worker processes on one machine (``hpo run --workers``, NNI's ``trialConcurrency``, ``hpo
#: worker --gpus`` × ``--trials-per-gpu``). Each is a Python process with PyTorch and Optuna
#: loaded (0.3–0.5 GB before its trial allocates anything) holding up to two database
#: connections (PostgreSQL allows 100 by default, SQLite serialises every write): past 64 a
#: machine runs out of memory, or its database out of connections, long before its trials run
#: any faster. More workers belong on more machines, each running ``hpo worker``.
MAX_LOCAL_WORKERS = 64
#: Repeats of a comparison group (one study per sampler and repeat). Rank tests settle with
#: 10 to 30 repeats; 100 per sampler is already more than ``hpo compare`` can draw legibly.
MAX_REPEATS = 100
#: GPUs one trial asks for (``trialGpuNumber``): hpo pins a trial's GPUs on one machine, and no
#: machine has more than this.
MAX_GPUS_PER_TRIAL = 64


def check_local_workers(count: int, what: str) -> None:
    """``count`` local worker processes, or InvalidInputError naming ``what`` asked for them."""
    if count > MAX_LOCAL_WORKERS:
        raise InvalidInputError(
            f"{what}: {count} worker processes on one machine; at most {MAX_LOCAL_WORKERS} "
            "(start hpo worker on more machines for more)"
        )


def check_repeats(repeats: int) -> None:
    if not 1 <= repeats <= MAX_REPEATS:
        raise InvalidInputError(f"--repeats must be from 1 to {MAX_REPEATS}, got {repeats}")


def trials_left(spec: StudySpec, counts: Mapping[TrialState, int]) -> int | None:
    """How many new trials the study's budget still allows (queued ones included); None: no
    trial budget. Failed trials count as spent: their retries run beside the budget, so a
    study retrying failures may get fewer local workers than it could use, never more."""
    if spec.max_trials is None:
        return None
    finished = sum(counts.get(s, 0) for s in (TrialState.COMPLETE, TrialState.PRUNED))
    running = counts.get(TrialState.RUNNING, 0) + counts.get(TrialState.FAIL, 0)
    return max(0, spec.max_trials - finished - running)
