"""Trial logs as the study keeps them: one per trial (each attempt of a retried trial is a
trial of its own), stored in the study's database by the worker that runs it
(``hpo.worker.trial_log``) and read from any machine (``hpo logs``)."""

from __future__ import annotations

import collections
from collections.abc import Callable
from dataclasses import dataclass

from optuna.storages import BaseStorage
from optuna.trial import TrialState

from hpo import attrs
from hpo.errors import TrialNotFoundError
from hpo.optuna_compat import RETRY_OF
from hpo.storage import BlobStore
from hpo.storage.blobs import SqlBlobStore
from hpo.study.store import load_study_id

LOG = "log"  # the blob kind of a trial's log
#: Seconds between looks for new lines while following a running trial.
FOLLOW_POLL = 1.0
#: Lines of a trial's log that ``hpo trials --format json`` shows (``log_tail``).
TAIL_LINES = 20
#: Bytes read from a log's end for its tail: lines longer than this show only their end.
TAIL_BYTES = 16384


def log_name(trial_id: int) -> str:
    """The blob name of a trial's log."""
    return f"trial-{trial_id}"


def follow_log(
    blobs: BlobStore,
    trial_id: int,
    write: Callable[[bytes], None],
    *,
    running: Callable[[], bool],
    wait: Callable[[float], None],
) -> bool:
    """Write a trial's log as stored, then, while ``running()``, what is appended to it (a
    plain read: ``running`` always False); False when there is no log at all."""
    after, found = 0, False
    while True:
        still_running = running()
        for chunk_id, data in blobs.chunks(LOG, log_name(trial_id), after):
            after, found = chunk_id, True
            write(data)
        # Read once more after the trial ended: its worker ships the rest as it ends.
        if not still_running:
            return found
        wait(FOLLOW_POLL)


def log_tail(blobs: BlobStore, trial_id: int, lines: int = TAIL_LINES) -> list[str] | None:
    """The last ``lines`` lines of a trial's log as stored (None: it has none)."""
    if isinstance(blobs, SqlBlobStore):
        data = blobs.tail(LOG, log_name(trial_id), TAIL_BYTES)
    else:  # through hpo serve-storage: read from the start, keeping the end
        kept: collections.deque[bytes] = collections.deque()
        size, found = 0, False
        for _, chunk in blobs.chunks(LOG, log_name(trial_id)):
            found = True
            kept.append(chunk)
            size += len(chunk)
            while size - len(kept[0]) >= TAIL_BYTES:
                size -= len(kept.popleft())
        data = b"".join(kept) if found else None
    if data is None:
        return None
    return data.decode(errors="replace").splitlines()[-lines:]


@dataclass(frozen=True)
class TrialRef:
    """A trial of a study, found by its number, for its log."""

    study: str
    number: int
    trial_id: int
    retried_as: int | None  # the number of the retry that redid it, if any


def find_trial(storage: BaseStorage, study: str, number: int) -> TrialRef:
    """The trial numbered ``number``; an error naming the numbers there are otherwise."""
    study_id = load_study_id(storage, study)
    try:
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, number)
    except KeyError:
        count = storage.get_n_trials(study_id)
        have = f"trials 0 to {count - 1}" if count else "no trials yet"
        raise TrialNotFoundError(f"no trial {number} of study {study!r}", f" ({have})") from None
    retried_as = None
    if storage.get_trial(trial_id).state == TrialState.FAIL:
        for trial in storage.get_all_trials(study_id, deepcopy=False):
            if trial.system_attrs.get(RETRY_OF) == number:
                retried_as = trial.number
    return TrialRef(study, number, trial_id, retried_as)


def is_running(storage: BaseStorage, trial_id: int) -> bool:
    return storage.get_trial(trial_id).state in (TrialState.RUNNING, TrialState.WAITING)


def no_log_reason(storage: BaseStorage, ref: TrialRef) -> str:
    """Why a trial has no log in the database, in a sentence."""
    trial = storage.get_trial(ref.trial_id)
    if trial.state == TrialState.WAITING:
        return f"trial {ref.number} has not started"
    path, worker = trial.user_attrs.get(attrs.LOG), trial.user_attrs.get(attrs.WORKER)
    if path:  # a command trial run by an hpo that kept logs only on its machine
        return f"trial {ref.number} kept its log on {worker or 'the machine that ran it'}: {path}"
    return f"trial {ref.number} wrote no log"
