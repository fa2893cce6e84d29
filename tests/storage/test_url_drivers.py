"""The PostgreSQL URLs people paste (``postgresql://``, ``postgres://``) reach the database with
the installed driver; a driver the machine lacks is one line that names what to install."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from hpo.errors import StorageError
from hpo.storage.url import sqlalchemy_url
from tests.helpers import assert_one_line_error, hpo_cli, hpo_create_study

pytestmark = pytest.mark.postgres


def _plain(url: str, scheme: str) -> str:
    """``postgresql+psycopg2://…`` written as ``scheme://…``."""
    return f"{scheme}://{url.split('://', 1)[1]}"


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_plain_postgres_urls_reach_the_database(pg_url: str, scheme: str, tmp_path: Path) -> None:
    space = {"lr": {"_type": "uniform", "_value": [0.01, 0.1]}}
    plain = _plain(pg_url, scheme)
    hpo_create_study(tmp_path, space, plain, "--name", "plain", "--objective", "m:f")
    result = hpo_cli("status", "--json", storage=plain)
    assert result.returncode == 0, result.stderr
    assert '"study": "plain"' in result.stdout


def test_the_installed_driver_is_named() -> None:
    assert sqlalchemy_url("postgres://u@db/x") == "postgresql+psycopg2://u@db/x"
    assert sqlalchemy_url("postgresql://u@db/x") == "postgresql+psycopg2://u@db/x"
    assert sqlalchemy_url("postgresql+psycopg2://u@db/x") == "postgresql+psycopg2://u@db/x"
    assert sqlalchemy_url("sqlite:///hpo.db") == "sqlite:///hpo.db"


@pytest.mark.skipif(
    importlib.util.find_spec("psycopg") is not None, reason="psycopg (3) is installed here"
)
def test_a_missing_driver_says_what_to_install() -> None:
    with pytest.raises(StorageError, match=r"pip install psycopg"):
        sqlalchemy_url("postgresql+psycopg://u:s3cret@db/x")
    result = hpo_cli("status", storage="postgresql+psycopg://u:s3cret@db/x")
    assert_one_line_error(result, 1, "driver 'psycopg' is not installed")
    assert "s3cret" not in result.stderr
