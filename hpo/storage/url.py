"""Storage URLs: which one to use, how to print it, how to connect to it.

``sqlite:///hpo.db`` is the embedded default (one machine); ``postgresql+psycopg2://…`` is the
shared storage for workers on many machines. The URL comes from ``--storage`` or the
``HPO_STORAGE`` environment variable; passing it through the environment keeps a password out
of ``ps``. Every URL hpo prints goes through :func:`mask_url`, every database error through
:func:`describe_db_error`.
"""

from __future__ import annotations

import importlib.util
import re
from typing import Any
from urllib.parse import unquote, unquote_plus

import sqlalchemy.engine
import sqlalchemy.exc

from hpo.errors import InvalidInputError, StorageError
from hpo.text import first_line

DEFAULT_URL = "sqlite:///hpo.db"
MAX_PORT = 65535

_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb", "grpc")
#: ``user:PASSWORD@host``: the password runs to the ``@`` that a host follows (it may hold
#: ``@`` and ``/`` itself when the user did not percent-encode them). A scheme starts a word:
#: tried at every letter of a long word, the search took minutes on a 100,000-letter name.
_PASSWORD_IN_URL = re.compile(
    r"(?P<head>(?<![a-z0-9+.\-])[a-z][a-z0-9+.\-]*://[^:/@\s'\"]*:)(?P<pw>[^\s'\"]*?)"
    r"(?=@[^@\s'\"/?#]*(?:[/?#\s'\"]|$))",
    re.I,
)
#: ``password=…`` as a URL query (``?password=s3cret``), a libpq keyword/value string
#: (``password='s e' host=db``) or a DSN inside a query (``password%3Ds3cret``); also the
#: other names drivers accept for it (PyMySQL's ``passwd``, ODBC's ``pwd``, libpq's
#: ``sslpassword``).
_PASSWORD_KEYWORD = re.compile(
    r"(?P<head>(?<![a-z_])(?:ssl)?(?:password|passwd|pwd)(?:\s*=\s*|%3D))"
    r"(?P<pw>'(?:[^'\\]|\\.)*'|\"[^\"]*\"|[^&\s;,)'\"]*)",
    re.I,
)


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
    if scheme_of(url) not in _SCHEMES:
        raise InvalidInputError(
            f"storage {mask_url(url)!r}: unsupported scheme {scheme_of(url)!r} "
            "(use sqlite:///FILE, postgresql+psycopg2://…, mysql+pymysql://… or grpc://HOST:PORT)"
        )
    _check_parts(url)
    return url


def _check_parts(url: str) -> None:
    """A port that is not one, or a URL SQLAlchemy cannot parse, named before connecting (the
    driver would raise a bare ValueError from deep inside)."""
    userinfo = _PASSWORD_IN_URL.search(url)
    if userinfo and "@" in userinfo.group("pw"):
        # SQLAlchemy would take what follows the first @ for the host, and drivers then print
        # that part of the password in their errors.
        raise InvalidInputError(
            f"storage {mask_url(url)!r}: the password holds an @; write it as %40"
        )
    port = port_text(url)
    if port is not None and not (port.isdigit() and 0 < int(port) <= MAX_PORT):
        raise InvalidInputError(
            f"storage {mask_url(url)!r}: port {port!r} is not a number from 1 to {MAX_PORT}"
        )
    if scheme_of(url) == "grpc":
        return
    try:
        sqlalchemy.engine.make_url(url)
    except (sqlalchemy.exc.ArgumentError, ValueError) as exc:
        raise InvalidInputError(f"storage {mask_url(url)!r} is not a valid URL: {exc}") from None


#: The drivers a URL without one may use, in order of preference: SQLAlchemy 2.1 picks psycopg
#: (3) for a plain ``postgresql://``, but hpo installs psycopg2; a ``postgres://`` (Heroku's,
#: libpq's, optuna-dashboard's examples) SQLAlchemy refuses outright.
_DRIVERS: dict[str, tuple[tuple[str, str, str], ...]] = {
    # scheme: (driver name in the URL, module to import, package that provides it)
    "postgresql": (("psycopg2", "psycopg2", "psycopg2-binary"), ("psycopg", "psycopg", "psycopg")),
    "mysql": (("mysqldb", "MySQLdb", "mysqlclient"), ("pymysql", "pymysql", "PyMySQL")),
    "mariadb": (("mysqldb", "MySQLdb", "mysqlclient"), ("pymysql", "pymysql", "PyMySQL")),
}
_SCHEME_ALIASES = {"postgres": "postgresql"}
_DRIVER_MODULES = {name: module for options in _DRIVERS.values() for name, module, _ in options}
_DRIVER_PACKAGES = {name: package for options in _DRIVERS.values() for name, _, package in options}


def sqlalchemy_url(url: str) -> str:
    """The URL SQLAlchemy is given: ``postgres://`` and ``postgresql://`` name the installed
    driver (``postgresql+psycopg2://``), so that the URLs people paste work as written.

    A driver the URL names but the machine lacks is an error (of the environment: exit 1) that
    says what to install.
    """
    scheme, rest = url.split("://", 1)
    database, _, driver = scheme.partition("+")
    database = _SCHEME_ALIASES.get(database.lower(), database.lower())
    if database not in _DRIVERS:
        return url
    if driver:
        module = _DRIVER_MODULES.get(driver.lower())
        if module is not None and importlib.util.find_spec(module) is None:
            raise StorageError(
                f"storage {mask_url(url)!r}: its driver {driver!r} is not installed here "
                f"(pip install {_DRIVER_PACKAGES[driver.lower()]}, or name another driver)"
            )
        return f"{database}+{driver}://{rest}"
    for name, module, _ in _DRIVERS[database]:
        if importlib.util.find_spec(module) is not None:
            return f"{database}+{name}://{rest}"
    packages = " or ".join(package for _, _, package in _DRIVERS[database])
    raise StorageError(
        f"storage {mask_url(url)!r}: no {database} driver is installed here "
        f"(pip install {packages})"
    )


def port_text(url: str) -> str | None:
    """The port as written in the URL (None when it names none): ``abc`` in ``…@host:abc/db``."""
    authority = re.split(r"[/?#]", url.split("://", 1)[1], maxsplit=1)[0]
    host_port = authority.rpartition("@")[2]
    if host_port.startswith("["):  # an IPv6 address: [::1]:5432
        _, _, after = host_port.partition("]")
        return after[1:] if after.startswith(":") else None
    _, colon, port = host_port.partition(":")
    return port if colon else None


def scheme_of(url: str) -> str:
    """``postgresql`` for ``postgresql+psycopg2://…``: the database, without the driver."""
    return url.split("://", 1)[0].split("+", 1)[0].lower()


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***``, in every form a URL can carry one
    (``user:pw@``, ``?password=``, a libpq ``password=`` keyword), for every message and log."""
    text = _PASSWORD_IN_URL.sub(lambda m: m.group("head") + "***", url)
    return _PASSWORD_KEYWORD.sub(lambda m: m.group("head") + "***", text)


def scrub(text: str, url: str) -> str:
    """``text`` with the URL's passwords removed wherever they appear, in any form (a driver's
    error may quote one decoded: ``p@ss`` for ``p%40ss``)."""
    text = mask_url(text)
    for password in sorted(passwords_of(url), key=len, reverse=True):
        text = text.replace(password, "***")
    return text


def passwords_of(url: str) -> set[str]:
    """Every password in the URL, as written and as decoded."""
    found = [m.group("pw") for m in _PASSWORD_IN_URL.finditer(url)]
    for match in _PASSWORD_KEYWORD.finditer(unquote(url)):
        value = match.group("pw")
        if value[:1] in "'\"" and len(value) > 1:  # libpq quotes, with \' and \\ escapes
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        found.append(value)
    forms = {form for pw in found for form in (pw, unquote(pw), unquote_plus(pw))}
    return {form for form in forms if form and form != "***"}


def root_cause(exc: BaseException) -> BaseException:
    """The driver's own error inside SQLAlchemy's and Optuna's wrappers of it."""
    orig = getattr(exc, "orig", None)  # SQLAlchemy keeps the driver's exception here
    if isinstance(orig, BaseException):
        return orig
    return exc if exc.__cause__ is None else root_cause(exc.__cause__)


def describe_db_error(exc: BaseException, url: str) -> str:
    """The first line of a database error, without SQLAlchemy's boilerplate or a password."""
    text = first_line(root_cause(exc), limit=1000)
    return scrub(re.sub(r"\s*\(Background on this error at: [^)]*\)", "", text), url)


def engine_options(url: str, pool_size: int = 1) -> dict[str, Any]:
    """SQLAlchemy engine settings that hold up with many workers on one database.

    One pooled connection per worker plus one spare (for the heartbeat thread): 32 workers
    stay well below PostgreSQL's default of 100 connections. No pre-ping (a round trip before
    every query, a fifth of a trial's bookkeeping): a connection that a database restart or a
    network cut has killed fails its query, SQLAlchemy drops the pool's dead connections, and
    the worker's storage retry (hpo.storage.retry) runs the call again on a fresh one.
    Recycling keeps idle connections from outliving firewall timeouts.
    """
    scheme = scheme_of(url)
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
