"""Study storage: URL resolution, connection settings, password masking, the trial budget.

``sqlite:///hpo.db`` is the embedded default (one machine); ``postgresql+psycopg2://…`` is the
shared storage for workers on many machines. The URL comes from ``--storage`` or the
``HPO_STORAGE`` environment variable; passing it through the environment keeps a password out
of ``ps``. Every URL hpo prints goes through :func:`mask_url`.

:class:`HpoRDBStorage` adds to Optuna's RDB storage the one thing a shared study needs that
Optuna does not do: ``maxTrialNum`` as a hard, study-wide limit. The check runs inside the
transaction in which Optuna creates a trial, after the study row is locked (PostgreSQL, MySQL)
or the write lock is taken (SQLite), so with any number of workers racing no more trials are
ever created than the budget allows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from optuna.storages import RDBStorage

from hpo.errors import BudgetExhausted, InvalidInputError, StorageError
from hpo.spec import SPEC_ATTR

if TYPE_CHECKING:
    import optuna
    import sqlalchemy.orm
    from optuna.storages import BaseStorage
    from optuna.storages._rdb import models
    from optuna.trial import FrozenTrial, TrialState

DEFAULT_URL = "sqlite:///hpo.db"
ENV_VAR = "HPO_STORAGE"
WORKER_COUNTER_ATTR = "hpo:workers"

_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb", "grpc")
_PASSWORD_IN_URL = re.compile(r"(?P<head>[a-z0-9+.\-]+://[^:/@\s]*:)(?P<pw>[^@\s]*)(?=@)", re.I)


def resolve_url(value: str | None) -> str:
    """The storage URL to use: the given one (option or environment) or the default.

    A plain file path gets a fix-it message rather than a confusing SQLAlchemy error.
    """
    url = (value or "").strip() or DEFAULT_URL
    if "://" not in url:
        hint = f"sqlite:///{url}" if url.endswith((".db", ".sqlite", ".sqlite3")) else None
        fix = (
            f"; did you mean {hint}?"
            if hint
            else " (e.g. sqlite:///hpo.db or postgresql+psycopg2://user@host/db)"
        )
        raise InvalidInputError(f"storage {mask_url(url)!r} is not a URL{fix}")
    scheme = url.split("://", 1)[0].split("+", 1)[0].lower()
    if scheme not in _SCHEMES:
        raise InvalidInputError(
            f"storage {mask_url(url)!r}: unsupported scheme {scheme!r} "
            "(use sqlite:///FILE, postgresql+psycopg2://…, mysql+pymysql://… or grpc://HOST:PORT)"
        )
    return url


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (for every message and log line)."""
    return _PASSWORD_IN_URL.sub(lambda m: m.group("head") + "***", url)


def scrub(text: str, url: str) -> str:
    """``text`` with the URL's password removed wherever it appears."""
    password = _password_of(url)
    text = _PASSWORD_IN_URL.sub(lambda m: m.group("head") + "***", text)
    return text.replace(password, "***") if password else text


def _password_of(url: str) -> str | None:
    match = _PASSWORD_IN_URL.search(url)
    return match.group("pw") if match and match.group("pw") else None


def engine_options(url: str, pool_size: int = 1) -> dict[str, Any]:
    """SQLAlchemy engine settings that hold up with many workers on one database.

    One pooled connection per worker plus one spare (for the heartbeat thread): 32 workers
    stay well below PostgreSQL's default of 100 connections. No pre-ping (a round trip before
    every query, a fifth of a trial's bookkeeping): a connection that a database restart or a
    network cut has killed fails its query, SQLAlchemy drops the pool's dead connections, and
    the worker's storage retry (hpo.retry) runs the call again on a fresh one. Recycling keeps
    idle connections from outliving firewall timeouts.
    """
    scheme = url.split("://", 1)[0].split("+", 1)[0].lower()
    if scheme == "sqlite":
        # Wait for the write lock instead of failing with "database is locked".
        return {"connect_args": {"timeout": 60}}
    options: dict[str, Any] = {
        "pool_size": pool_size,
        "max_overflow": 1,
        "pool_timeout": 120,
        "pool_pre_ping": False,  # Optuna turns it on for MySQL unless told
        "pool_recycle": 300,
    }
    if scheme in ("postgresql", "postgres"):
        options["connect_args"] = {
            "connect_timeout": 10,
            "application_name": "hpo",
            # Notice a dead server or a cut network within a minute, not after TCP's hours.
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
        }
    else:
        options["connect_args"] = {"connect_timeout": 10}
    return options


def open_storage(url: str, *, pool_size: int = 1, patience: float = 0.0) -> HpoRDBStorage:
    """Connect to the storage (creating Optuna's tables if needed); StorageError if it fails.

    ``patience``: seconds to keep trying through a transient failure (a worker starting while
    the database restarts); 0 fails at once, as a command a person typed should.

    A ``grpc://HOST:PORT`` URL gives the client of ``hpo serve-storage`` instead (typed as the
    RDB storage it stands for: callers test ``isinstance`` before using RDB-only methods).
    """
    import sqlalchemy.exc

    from hpo.retry import StorageRetry

    url = resolve_url(url)
    if url.startswith("grpc://"):
        return _open_grpc(url)  # type: ignore[return-value]

    def connect() -> HpoRDBStorage:
        return HpoRDBStorage(url, engine_kwargs=engine_options(url, pool_size))

    try:
        storage = StorageRetry(patience)("connecting", connect) if patience else connect()
    except StorageError as exc:  # the retry gave up: say which storage
        raise StorageError(f"cannot open storage {mask_url(url)}: {exc}") from None
    except (sqlalchemy.exc.SQLAlchemyError, OSError) as exc:
        raise StorageError(
            f"cannot open storage {mask_url(url)}: {describe_db_error(exc, url)}"
        ) from None
    except ImportError as exc:
        raise StorageError(f"cannot open storage {mask_url(url)}: {exc}") from None
    except RuntimeError as exc:  # Optuna's schema version check
        raise StorageError(f"storage {mask_url(url)}: {describe_db_error(exc, url)}") from None
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        _enable_wal(storage)
    return storage


def _open_grpc(url: str) -> BaseStorage:
    from hpo.grpc_storage import HpoGrpcStorageProxy

    address = url.removeprefix("grpc://").rstrip("/")
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise InvalidInputError(f"storage {url!r}: expected grpc://HOST:PORT")
    proxy = HpoGrpcStorageProxy(host=host, port=int(port))
    try:
        proxy.wait_server_ready(timeout=15)  # fail now, in one line, if nothing listens there
    except ConnectionError:
        raise StorageError(f"cannot reach storage {url}: no answer within 15s") from None
    return proxy


def _enable_wal(storage: RDBStorage) -> None:
    """WAL lets SQLite readers (status, dashboard) work while a worker writes."""
    import sqlalchemy

    with storage.engine.connect() as conn:
        conn.execute(sqlalchemy.text("PRAGMA journal_mode=WAL"))


def describe_db_error(exc: BaseException, url: str) -> str:
    """The first line of a database error, without SQLAlchemy's boilerplate or a password."""
    orig = getattr(exc, "orig", None) or exc.__cause__ or exc
    text = str(orig).strip() or type(orig).__name__
    first = text.splitlines()[0].strip()
    first = re.sub(r"\s*\(Background on this error at: [^)]*\)", "", first)
    return scrub(first, url)


class HpoRDBStorage(RDBStorage):
    """Optuna's RDB storage with a study-wide trial budget and a worker counter."""

    def _get_prepared_new_trial(
        self,
        study_id: int,
        template_trial: FrozenTrial | None,
        session: sqlalchemy.orm.Session,
    ) -> models.TrialModel:
        # Optuna has locked the study row (or SQLite's write lock is held once the new trial is
        # flushed), so the count below cannot race another worker's insert.
        trial = super()._get_prepared_new_trial(study_id, template_trial, session)
        limit = _max_trials(self._study_user_attr(session, study_id, SPEC_ATTR))
        if limit is not None:
            used = count_budget_trials(session, study_id)
            if used > limit:
                raise BudgetExhausted(f"the study's budget of {limit} trials is used up")
        return trial

    def enable_heartbeat(
        self,
        interval: int,
        grace_period: int,
        on_stale: Callable[[optuna.Study, FrozenTrial], None] | None,
    ) -> None:
        """Turn on Optuna's heartbeat with the study's settings (read after connecting)."""
        self.heartbeat_interval = interval
        self.grace_period = grace_period
        self.heartbeat_stale_trial_callback = on_stale
        self.failed_trial_callback = on_stale

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        stale = super()._get_stale_trial_ids(study_id)
        # Optuna never fails a RUNNING trial that has recorded no heartbeat at all, so a worker
        # killed between starting a trial and its first heartbeat would leave it RUNNING
        # forever. Such a trial is stale once it has been running for the grace period.
        import datetime

        import sqlalchemy
        from optuna.storages._rdb import models
        from optuna.storages._rdb.storage import _create_scoped_session
        from optuna.trial import TrialState

        grace = self.grace_period or 2 * (self.heartbeat_interval or 0)
        deadline = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - datetime.timedelta(
            seconds=grace
        )
        with _create_scoped_session(self.scoped_session) as session:
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

    def _study_user_attr(self, session: sqlalchemy.orm.Session, study_id: int, key: str) -> Any:
        import sqlalchemy
        from optuna.storages._rdb import models

        value_json = session.scalar(
            sqlalchemy.select(models.StudyUserAttributeModel.value_json).where(
                models.StudyUserAttributeModel.study_id == study_id,
                models.StudyUserAttributeModel.key == key,
            )
        )
        return None if value_json is None else json.loads(value_json)

    def set_trial_intermediate_values(self, trial_id: int, values: Mapping[int, float]) -> None:
        """Several epochs' values of a running trial in one transaction (Optuna: one each)."""
        from optuna.storages._rdb import models
        from optuna.storages._rdb.storage import _create_scoped_session

        table = models.TrialIntermediateValueModel
        with _create_scoped_session(self.scoped_session, True) as session:
            trial = models.TrialModel.find_or_raise_by_id(trial_id, session)
            self.check_trial_is_updatable(trial_id, cast("TrialState", trial.state))
            stored = {
                step
                for (step,) in session.query(table.step).filter(table.trial_id == trial_id).all()
            }
            for step, value in values.items():
                if step in stored:
                    continue  # reported already (by an earlier attempt of a retried trial)
                number, kind = table.intermediate_value_to_stored_repr(value)
                session.add(
                    table(
                        trial_id=trial_id,
                        step=step,
                        intermediate_value=number,
                        intermediate_value_type=kind,
                    )
                )

    def register_worker(self, study_id: int) -> int:
        """A number unique to this worker within the study: 0, 1, 2, … in order of arrival."""
        import sqlalchemy
        from optuna.storages._rdb import models
        from optuna.storages._rdb.storage import _create_scoped_session

        with _create_scoped_session(self.scoped_session) as session:
            # Write before reading: the UPDATE takes the study row's lock (PostgreSQL, MySQL)
            # or SQLite's write lock, so no two workers can read the same counter value.
            session.execute(
                sqlalchemy.update(models.StudyModel)
                .where(models.StudyModel.study_id == study_id)
                .values(study_name=models.StudyModel.study_name)
            )
            attr = session.scalars(
                sqlalchemy.select(models.StudySystemAttributeModel).where(
                    models.StudySystemAttributeModel.study_id == study_id,
                    models.StudySystemAttributeModel.key == WORKER_COUNTER_ATTR,
                )
            ).one_or_none()
            index = 0 if attr is None else int(json.loads(str(attr.value_json)))
            if attr is None:
                session.add(
                    models.StudySystemAttributeModel(
                        study_id=study_id, key=WORKER_COUNTER_ATTR, value_json=json.dumps(1)
                    )
                )
            else:
                attr.value_json = json.dumps(index + 1)
        return index

    def trial_state_counts(self, study_id: int) -> dict[TrialState, int]:
        """How many trials of the study are in each state, counted by the database."""
        import sqlalchemy
        from optuna.storages._rdb import models
        from optuna.storages._rdb.storage import _create_scoped_session

        with _create_scoped_session(self.scoped_session) as session:
            rows = session.execute(
                sqlalchemy.select(models.TrialModel.state, sqlalchemy.func.count())
                .where(models.TrialModel.study_id == study_id)
                .group_by(models.TrialModel.state)
            ).all()
        return {state: int(n) for state, n in rows}


#: System attribute Optuna's retry callback puts on a retry: the number of the trial it redoes.
RETRY_ATTR = "failed_trial"


def count_budget_trials(session: sqlalchemy.orm.Session, study_id: int) -> int:
    """The trials that count against maxTrialNum: all of them, less the retries.

    A retry replaces the trial it redoes (whose worker died or was stopped), so a trial and
    its retries count once.
    """
    import sqlalchemy
    from optuna.storages._rdb import models

    trials = models.TrialModel
    attrs = models.TrialSystemAttributeModel
    total = (
        sqlalchemy.select(sqlalchemy.func.count(trials.trial_id))
        .where(trials.study_id == study_id)
        .scalar_subquery()
    )
    retries = (
        sqlalchemy.select(sqlalchemy.func.count(attrs.trial_system_attribute_id))
        .join(trials, trials.trial_id == attrs.trial_id)
        .where(trials.study_id == study_id, attrs.key == RETRY_ATTR)
        .scalar_subquery()
    )
    return int(session.scalar(sqlalchemy.select(total - retries)) or 0)  # one round trip


def _max_trials(spec_json: Mapping[str, Any] | None) -> int | None:
    if not spec_json:
        return None
    value = spec_json.get("max_trials")
    return int(value) if value is not None else None


def state_counts(storage: BaseStorage, study_id: int) -> dict[TrialState, int]:
    """Trials per state for any Optuna storage (SQL counts where the storage is ours)."""
    if isinstance(storage, HpoRDBStorage):
        return storage.trial_state_counts(study_id)
    counts: dict[TrialState, int] = {}
    for trial in storage.get_all_trials(study_id, deepcopy=False):
        counts[trial.state] = counts.get(trial.state, 0) + 1
    return counts
