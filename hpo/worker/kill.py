"""``hpo kill``: one running trial ended from any machine, through the study's storage.

The command writes a request into the trial's system attributes (``hpo:kill``); the worker
that runs the trial, wherever it is, looks for it every :data:`KILL_POLL` seconds from a
thread of its own (:class:`KillWatch`, beside the trial's heartbeat) and ends the trial:

- an objective in the worker's process (the built-in training, a function) is interrupted
  where it is, as the stop timeout does (:meth:`GracefulStop.kill_trial`); without signal
  handlers (a worker in a thread), its next report ends it;
- a command trial's guard is told to end the command's processes (``Attempt.killed``).

The trial then ends as the request says (PRUNED or FAIL, the reason in ``hpo:error``), is
never queued again (not even when its worker dies first: ``hpo.worker.liveness``), and the
worker takes the next trial.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from hpo import attrs
from hpo.errors import InvalidInputError
from hpo.storage import HpoRDBStorage, reset_session
from hpo.study.logs import find_trial
from hpo.worker.liveness import Periodic

log = logging.getLogger("hpo.worker")

#: Seconds between a running trial's looks for a kill request: one short query each.
KILL_POLL = 1.0
DEFAULT_REASON = "killed by hpo kill"

KillState = Literal["pruned", "fail"]


@dataclass(frozen=True)
class KillRequest:
    """What ``hpo kill`` asked: the state the trial ends in, and why."""

    state: KillState = "pruned"
    reason: str = DEFAULT_REASON

    @property
    def trial_state(self) -> TrialState:
        return TrialState.PRUNED if self.state == "pruned" else TrialState.FAIL

    def to_json(self) -> dict[str, str]:
        return {"state": self.state, "reason": self.reason}

    @classmethod
    def from_stored(cls, value: object) -> KillRequest | None:
        """The request stored in ``hpo:kill``; None when there is none. Anything else stored
        there (written by another tool) is still a kill, with the default state and reason."""
        if value is None:
            return None
        if not isinstance(value, Mapping):
            return cls()
        state: KillState = "fail" if value.get("state") == "fail" else "pruned"
        reason = value.get("reason")
        return cls(state, reason if isinstance(reason, str) and reason else DEFAULT_REASON)


def read_request(storage: BaseStorage, trial_id: int) -> KillRequest | None:
    """The kill request of a trial, read on its own where the storage can."""
    if isinstance(storage, HpoRDBStorage):
        value = storage.trial_system_attr(trial_id, attrs.KILL)
    else:  # through hpo serve-storage: the whole trial
        value = storage.get_trial_system_attrs(trial_id).get(attrs.KILL)
    return KillRequest.from_stored(value)


class KillWatch(Periodic):
    """Looks for a kill request of one running trial; on the first, calls ``on_kill`` once.

    A failed look (the database restarting) is tried again at the next one.
    """

    def __init__(
        self,
        storage: BaseStorage,
        trial_id: int,
        number: int,
        on_kill: Callable[[KillRequest], None],
        interval: float = KILL_POLL,
    ) -> None:
        super().__init__(interval, f"hpo-kill-watch-{trial_id}")
        self._storage = storage
        self._trial_id = trial_id
        self._number = number
        self._on_kill = on_kill
        self.request: KillRequest | None = None

    @property
    def killed(self) -> bool:
        return self.request is not None

    def _tick(self) -> None:
        if self.request is not None:
            return
        try:
            request = read_request(self._storage, self._trial_id)
        except Exception as exc:  # the database may be restarting: look again next time
            reset_session(self._storage)
            log.debug("kill check of trial id %d failed: %s", self._trial_id, exc)
            return
        if request is None:
            return
        self.request = request
        log.info("trial %d: %s: ending it", self._number, request.reason)
        self._on_kill(request)


# -- hpo kill's side ---------------------------------------------------------------------------


def request_kill(storage: BaseStorage, study: str, number: int, request: KillRequest) -> int:
    """Ask the worker of a running trial to end it; the trial's id. One line of error for a
    study or trial that does not exist (1, 2) and for a trial that is not running (2)."""
    trial_id = find_trial(storage, study, number).trial_id
    state = storage.get_trial(trial_id).state
    if state != TrialState.RUNNING:
        raise InvalidInputError(_not_running(study, number, state))
    try:
        # Refused by the storage once the trial is finished: no request lands on a trial
        # that ended between the look above and this write.
        storage.set_trial_system_attr(trial_id, attrs.KILL, request.to_json())
    except UpdateFinishedTrialError:
        state = storage.get_trial(trial_id).state
        raise InvalidInputError(_not_running(study, number, state)) from None
    return trial_id


def _not_running(study: str, number: int, state: TrialState) -> str:
    what = "waiting to start" if state == TrialState.WAITING else state.name
    return f"trial {number} of study {study!r} is not running ({what}): only a running one stops"


def wait_for_end(
    storage: BaseStorage, trial_id: int, timeout: float, poll: float = KILL_POLL / 2
) -> FrozenTrial | None:
    """The trial once it has ended; None if it still runs after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        trial = storage.get_trial(trial_id)
        if trial.state.is_finished():
            return trial
        if time.monotonic() >= deadline:
            return None
        time.sleep(poll)
