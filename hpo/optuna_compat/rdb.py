"""Hooks inside Optuna's RDB storage, and the SQL hpo runs on Optuna's tables.

Optuna's RDB storage creates a trial in one transaction: it locks the study row (PostgreSQL,
MySQL; SQLite takes its write lock once the new trial is flushed), builds the trial, commits.
:class:`HookedRDBStorage` calls :meth:`~HookedRDBStorage.check_new_trial` inside that
transaction, where a count cannot race another worker's insert: hpo's study-wide budget.
It also finds the running trials that died before their first heartbeat, which Optuna never
fails (it only looks at the heartbeats recorded).
"""

from __future__ import annotations

import datetime
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeAlias, cast

import sqlalchemy
import sqlalchemy.exc
import sqlalchemy.orm
from optuna.storages import RDBStorage
from optuna.storages._rdb import models
from optuna.storages._rdb.storage import _create_scoped_session
from optuna.trial import FrozenTrial, TrialState

from hpo.optuna_compat.trial_attrs import RETRY_OF

RDBSession: TypeAlias = sqlalchemy.orm.Session

#: The state changes made race-free: a worker claiming a queued trial, a running one ending.
_FROM = {
    TrialState.RUNNING: TrialState.WAITING,
    TrialState.COMPLETE: TrialState.RUNNING,
    TrialState.PRUNED: TrialState.RUNNING,
    TrialState.FAIL: TrialState.RUNNING,
}


#: A trial system attribute: the token of the ``ask`` that created or claimed the trial, so
#: that the ask, retried after its connection broke, finds the trial it already got.
CLAIM_KEY = "hpo:claim"
_claim = threading.local()


@contextmanager
def claiming(token: str, user_attrs: Mapping[str, Any] | None = None) -> Iterator[None]:
    """Trials created or claimed by this thread meanwhile are marked with ``token`` and get
    ``user_attrs`` in the same transaction; a trial creation that finds one so marked returns
    it instead of creating another."""
    _claim.token = token
    _claim.user_attrs = dict(user_attrs or {})
    try:
        yield
    finally:
        _claim.token = None
        _claim.user_attrs = {}


def _claim_token() -> str | None:
    return getattr(_claim, "token", None)


def _claim_written(token: str) -> bool:
    """Whether this thread has tried to write a mark with ``token`` (and may have succeeded
    unknowingly: a commit whose answer a broken connection lost). Only then can a trial so
    marked exist, and must be looked for: a fresh token needs no lookup."""
    return getattr(_claim, "written", None) == token


def _note_claim_write(token: str) -> None:
    _claim.written = token


class HookedRDBStorage(RDBStorage):
    """Optuna's RDB storage with a hook in trial creation, a complete stale-trial query,
    trial state changes that cannot be won twice, and trial creation that a retry cannot
    repeat (:func:`claiming`)."""

    def set_trial_state_values(
        self, trial_id: int, state: TrialState, values: Sequence[float] | None = None
    ) -> bool:
        # Optuna reads the trial (locking it), reads its stored values, then writes. On SQLite
        # (whose SELECT takes no lock) two connections can both see a trial WAITING and both
        # claim it, or both see it RUNNING and both fail it: two workers then run one retry,
        # or a dead worker's trial is queued twice. One conditional UPDATE has exactly one
        # winner on every database, and is two statements fewer per trial; when it changes
        # nothing, Optuna's own code answers (False, UpdateFinishedTrialError, or KeyError for
        # a trial that is gone).
        if state in _FROM and (values is None or state.is_finished()):
            try:
                if self._change_state(trial_id, state, values):
                    return True
            except sqlalchemy.exc.IntegrityError:
                if not values:
                    raise
                # A running trial with values stored already (no tell makes one; a trial
                # added by hand could be): Optuna's code below overwrites them.
        return super().set_trial_state_values(trial_id, state, values)

    def _change_state(
        self, trial_id: int, state: TrialState, values: Sequence[float] | None
    ) -> bool:
        trials = models.TrialModel
        # Stored as Optuna stores them: naive UTC.
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        stamp = trials._datetime_start_utc if state == TrialState.RUNNING else None
        stamp = trials._datetime_complete_utc if state.is_finished() else stamp
        assert stamp is not None
        token = _claim_token() if state == TrialState.RUNNING else None
        if token is not None:
            _note_claim_write(token)
        with self.session() as session:
            result = session.execute(
                sqlalchemy.update(trials)
                .where(trials.trial_id == trial_id, trials.state == _FROM[state])
                .values({trials.state: state, stamp: now})
            )
            if cast("sqlalchemy.CursorResult[Any]", result).rowcount != 1:
                return False
            for objective, value in enumerate(values or ()):
                stored, kind = models.TrialValueModel.value_to_stored_repr(value)
                session.add(
                    models.TrialValueModel(
                        trial_id=trial_id, objective=objective, value=stored, value_type=kind
                    )
                )
            if token is not None:  # a queued trial, claimed
                _mark_claimed(session, trial_id, token, replace=True)
        return True

    def check_new_trial(self, session: RDBSession, study_id: int) -> None:
        """Called in the transaction creating a trial, after its insert; raise to refuse it."""

    def _get_prepared_new_trial(
        self, study_id: int, template_trial: FrozenTrial | None, session: RDBSession
    ) -> models.TrialModel:
        # Optuna retries a creation whose commit failed, and a commit can fail after the
        # database made it (the connection broke before the answer came): an ask that was
        # marked finds its trial again rather than leave it RUNNING, empty, for nobody.
        token = _claim_token() if template_trial is None else None
        if token is not None:
            if _claim_written(token):
                earlier = _claimed(session, study_id, token)
                if earlier is not None:
                    return earlier
            _note_claim_write(token)
        trial = super()._get_prepared_new_trial(study_id, template_trial, session)
        self.check_new_trial(session, study_id)
        if token is not None:
            _mark_claimed(session, int(trial.trial_id), token, replace=False)
        return trial

    def claimed_trial(self, study_id: int, token: str) -> int | None:
        """The running trial an ask marked with ``token`` created or claimed, if it did."""
        with self.session() as session:
            trial = _claimed(session, study_id, token)
            return None if trial is None else int(trial.trial_id)

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        stale = super()._get_stale_trial_ids(study_id)
        # A worker killed between starting a trial and its first heartbeat leaves a RUNNING
        # trial with no heartbeat row, which Optuna would never fail: it is stale once it has
        # run for the grace period.
        grace = self.grace_period or 2 * (self.heartbeat_interval or 0)
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        deadline = now - datetime.timedelta(seconds=grace)
        with self.session() as session:
            silent = session.scalars(
                sqlalchemy.select(models.TrialModel.trial_id).where(
                    models.TrialModel.study_id == study_id,
                    models.TrialModel.state == TrialState.RUNNING,
                    models.TrialModel._datetime_start_utc < deadline,
                    ~sqlalchemy.exists().where(
                        models.TrialHeartbeatModel.trial_id == models.TrialModel.trial_id
                    ),
                )
            ).all()
        return sorted(set(stale) | set(silent))

    @contextmanager
    def session(self, *, ignore_integrity_error: bool = False) -> Iterator[RDBSession]:
        """A session of this storage's engine, committed at the end (rolled back on an error;
        a duplicate key written by a racing worker is ignored when asked)."""
        with _create_scoped_session(self.scoped_session, ignore_integrity_error) as session:
            yield session


def _mark_claimed(session: RDBSession, trial_id: int, token: str, *, replace: bool) -> None:
    """The claim's mark and user attributes, in the transaction that creates or claims the
    trial: no statement of their own, nor a lookup of the trial. A claimed (queued) trial may
    carry the attributes of the attempt it retries: ``replace`` overwrites them."""
    session.add(
        models.TrialSystemAttributeModel(
            trial_id=trial_id, key=CLAIM_KEY, value_json=json.dumps(token)
        )
    )
    user_attrs: dict[str, Any] = getattr(_claim, "user_attrs", {})
    if user_attrs:
        _set_user_attrs(session, trial_id, user_attrs, replace=replace)


def _set_user_attrs(
    session: RDBSession, trial_id: int, values: Mapping[str, Any], *, replace: bool
) -> None:
    table = models.TrialUserAttributeModel
    for key, value in values.items():
        if replace:
            updated = session.execute(
                sqlalchemy.update(table)
                .where(table.trial_id == trial_id, table.key == key)
                .values(value_json=json.dumps(value))
            )
            if cast("sqlalchemy.CursorResult[Any]", updated).rowcount:
                continue
        session.add(table(trial_id=trial_id, key=key, value_json=json.dumps(value)))


def _claimed(session: RDBSession, study_id: int, token: str) -> models.TrialModel | None:
    marks = models.TrialSystemAttributeModel
    return session.scalars(
        sqlalchemy.select(models.TrialModel)
        .join(marks, marks.trial_id == models.TrialModel.trial_id)
        .where(
            models.TrialModel.study_id == study_id,
            models.TrialModel.state == TrialState.RUNNING,
            marks.key == CLAIM_KEY,
            marks.value_json == json.dumps(token),
        )
    ).first()


def fail_running_trial(
    storage: HookedRDBStorage, trial_id: int, user_attrs: Mapping[str, Any]
) -> bool:
    """Fail a RUNNING trial and set ``user_attrs`` on it, in one transaction, so that the
    reason comes with the failure (Optuna refuses attributes on a finished trial, and one
    written before could land on a trial whose worker finishes it meanwhile). False when the
    trial was not running: finished by its worker, or failed by another watcher first."""
    trials = models.TrialModel
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    with storage.session() as session:
        result = session.execute(
            sqlalchemy.update(trials)
            .where(trials.trial_id == trial_id, trials.state == TrialState.RUNNING)
            .values({trials.state: TrialState.FAIL, trials._datetime_complete_utc: now})
        )
        if cast("sqlalchemy.CursorResult[Any]", result).rowcount != 1:
            return False
        _set_user_attrs(session, trial_id, user_attrs, replace=True)
    return True


def study_user_attr_and_trial_count(
    session: RDBSession, study_id: int, key: str
) -> tuple[Any, int]:
    """A study's user attribute (None when absent) and how many trials the study has, a retry
    not counting (it replaces the trial it redoes): one round trip, read in ``session``."""
    trials = models.TrialModel
    attrs = models.TrialSystemAttributeModel
    study_attrs = models.StudyUserAttributeModel
    value_json = (
        sqlalchemy.select(study_attrs.value_json)
        .where(study_attrs.study_id == study_id, study_attrs.key == key)
        .scalar_subquery()
    )
    total = (
        sqlalchemy.select(sqlalchemy.func.count(trials.trial_id))
        .where(trials.study_id == study_id)
        .scalar_subquery()
    )
    retries = (
        sqlalchemy.select(sqlalchemy.func.count(attrs.trial_system_attribute_id))
        .join(trials, trials.trial_id == attrs.trial_id)
        .where(trials.study_id == study_id, attrs.key == RETRY_OF)
        .scalar_subquery()
    )
    row = session.execute(sqlalchemy.select(value_json, total - retries)).one()
    value = None if row[0] is None else json.loads(row[0])
    return value, int(row[1] or 0)


def add_intermediate_values(
    storage: HookedRDBStorage, trial_id: int, values: Mapping[int, float]
) -> None:
    """Several epochs' values of a running trial in one transaction (Optuna: one each).

    Steps already stored (reported by an earlier attempt of a retried trial) are kept.
    """
    table = models.TrialIntermediateValueModel
    trials = models.TrialModel
    with storage.session(ignore_integrity_error=True) as session:
        # The trial's state and its stored steps in one read (an outer join: a trial with no
        # step yet gives one row, its step NULL).
        rows = session.execute(
            sqlalchemy.select(trials.state, table.step)
            .outerjoin(table, table.trial_id == trials.trial_id)
            .where(trials.trial_id == trial_id)
        ).all()
        if not rows:
            raise KeyError(models.NOT_FOUND_MSG)  # as Optuna says it: the study was deleted
        storage.check_trial_is_updatable(trial_id, rows[0][0])
        stored = {step for _, step in rows if step is not None}
        for step, value in values.items():
            if step in stored:
                continue
            number, kind = table.intermediate_value_to_stored_repr(value)
            session.add(
                table(
                    trial_id=trial_id,
                    step=step,
                    intermediate_value=number,
                    intermediate_value_type=kind,
                )
            )


def trial_state_counts(storage: HookedRDBStorage, study_id: int) -> dict[TrialState, int]:
    """How many trials of the study are in each state, counted by the database."""
    with storage.session() as session:
        rows = session.execute(
            sqlalchemy.select(models.TrialModel.state, sqlalchemy.func.count())
            .where(models.TrialModel.study_id == study_id)
            .group_by(models.TrialModel.state)
        ).all()
    return {state: int(n) for state, n in rows}


def trial_system_attr(storage: HookedRDBStorage, trial_id: int, key: str) -> Any:
    """One system attribute of a trial (None when absent), in one short statement: Optuna's
    ``get_trial_system_attrs`` reads the whole trial, its reported values included."""
    table = models.TrialSystemAttributeModel
    with storage.session() as session:
        raw = session.execute(
            sqlalchemy.select(table.value_json).where(table.trial_id == trial_id, table.key == key)
        ).scalar_one_or_none()
    return None if raw is None else json.loads(raw)
