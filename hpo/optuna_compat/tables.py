"""Whether a database holds Optuna's tables, asked without creating them (Optuna's storage
creates every missing table when it connects)."""

from __future__ import annotations

import sqlalchemy
from optuna.storages._rdb import models


def has_optuna_tables(engine: sqlalchemy.engine.Engine) -> bool:
    """True when the database has Optuna's table of studies (in its default schema)."""
    return sqlalchemy.inspect(engine).has_table(models.StudyModel.__tablename__)
