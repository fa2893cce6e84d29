"""Bad inputs met at run time (storage URLs, damaged studies, ports, trial code): each is one
line on stderr and nothing else, exit 2 for invalid input or 1 for a failed environment, no
traceback, and the storage left as it was."""

from __future__ import annotations

import ipaddress
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import optuna
import pytest

from hpo import attrs
from tests.helpers import (
    assert_one_line_error,
    db_url,
    free_port,
    hpo_cli,
    hpo_create_study,
    run_hpo,
    start_hpo,
    wait_for,
    write_json,
    write_module,
)


def assert_only_one_line(
    result: subprocess.CompletedProcess[str], code: int, *needles: str
) -> None:
    """One ``error:`` line and nothing else on stderr (no retry warnings before it)."""
    assert_one_line_error(result, code, *needles)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


# -- storages that cannot work: no waiting, no retries -------------------------------------------


@pytest.mark.parametrize(
    ("path", "needle"),
    [("missing-dir/hpo.db", "does not exist"), (".", "is a directory")],
    ids=["missing-dir", "directory"],
)
@pytest.mark.parametrize("command", ["worker", "status"])
def test_a_sqlite_path_that_cannot_be_a_database(
    tmp_path: Path, path: str, needle: str, command: str
) -> None:
    args = ["worker", "--study", "x"] if command == "worker" else ["status"]
    result = hpo_cli(*args, storage=f"sqlite:///{tmp_path / path}")
    assert_only_one_line(result, 1, "cannot open storage", needle)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("query", "needle"),
    [("", 'database "hpo_no_such_database" does not exist'), ("?sslmode=bogus", "sslmode")],
    ids=["missing-database", "invalid-sslmode"],
)
def test_a_worker_does_not_wait_for_a_storage_that_cannot_work(
    pg_server: None, query: str, needle: str
) -> None:
    result = hpo_cli("worker", "--study", "x", storage=db_url("hpo_no_such_database") + query)
    assert_only_one_line(result, 1, "cannot open storage", needle)


# -- storage URLs that are not valid ----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("postgresql+psycopg2://u:s3cret@127.0.0.1:abc/db", "port 'abc' is not a number"),
        ("postgresql+psycopg2://u:s3cret@127.0.0.1:99999/db", "port '99999' is not a number"),
        ("postgresql+psycopg2://u:s3cret@127.0.0.1:-1/db", "port '-1' is not a number"),
        ("postgresql+psycopg2://u:s3cret@127.0.0.1:/db", "port '' is not a number"),
        ("postgresql+psycopg2://u:s3cret@[::1/db", "is not a valid URL"),
        ("grpc://127.0.0.1:http", "port 'http' is not a number"),
    ],
    ids=["letters", "too-big", "negative", "empty", "unclosed-ipv6", "grpc"],
)
@pytest.mark.parametrize("command", ["status", "worker"])
def test_a_storage_url_with_a_bad_port_is_invalid_input(
    url: str, needle: str, command: str
) -> None:
    args = ["worker", "--study", "x"] if command == "worker" else ["status"]
    result = hpo_cli(*args, storage=url)
    assert_only_one_line(result, 2, needle)
    assert "s3cret" not in result.stderr + result.stdout


def test_a_driver_option_the_driver_cannot_take_is_invalid_input(tmp_path: Path) -> None:
    """SQLite's driver converts ?timeout= to a number: a ValueError traceback, before."""
    write_json(tmp_path / "space.json", {"x": {"_type": "uniform", "_value": [0, 1]}})
    url = f"sqlite:///{tmp_path / 'hpo.db'}?timeout=abc"
    args = ["create-study", "--space", "space.json", "--objective", "math:sqrt"]
    result = hpo_cli(*args, storage=url, cwd=tmp_path)
    assert_only_one_line(result, 2, "an option the driver cannot take", "'abc'")
    assert not (tmp_path / "hpo.db").exists()


# -- passwords in every form a URL carries them ------------------------------------------------

#: (how the password is written into the URL, exit code, what the error says). The database
#: does not exist: an error at once, no retries, a real driver message.
PASSWORD_FORMS = [
    ("userinfo", lambda url: url.replace("postgres@", "postgres:s3cret@"), 1, "postgres:***@"),
    ("query", lambda url: url + "?password=s3cret", 1, "password=***"),
    ("query-2nd", lambda url: url + "?sslmode=disable&password=s3cret", 1, "password=***"),
    ("encoded", lambda url: url.replace("postgres@", "postgres:s3c%40ret@"), 1, "postgres:***@"),
    # SQLAlchemy would read "ret@host" as the host, and the driver print it
    ("raw-at", lambda url: url.replace("postgres@", "postgres:s3c@ret@"), 2, "write it as %40"),
]


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("form", "code", "needle"),
    [form[1:] for form in PASSWORD_FORMS],
    ids=[form[0] for form in PASSWORD_FORMS],
)
@pytest.mark.parametrize("command", ["status", "worker", "best"])
def test_no_password_form_is_printed(
    pg_server: None, form: Callable[[str], str], code: int, needle: str, command: str
) -> None:
    url = form(db_url("hpo_no_such_database"))
    assert "s3c" in url
    args = {"status": ["status"], "worker": ["worker", "--study", "x"], "best": ["best", "x"]}
    result = hpo_cli(*args[command], storage=url)
    assert_only_one_line(result, code, needle)
    output = result.stdout + result.stderr
    assert "s3c" not in output and "ret@" not in output, output


@pytest.mark.postgres
def test_a_created_study_names_its_storage_without_the_query_password(
    tmp_path: Path, pg_url: str
) -> None:
    write_json(tmp_path / "space.json", {"x": {"_type": "uniform", "_value": [0, 1]}})
    url = f"{pg_url}?password=s3cret"
    created = run_hpo(
        "create-study",
        "--space",
        "space.json",
        "--objective",
        "math:sqrt",
        storage=url,
        cwd=tmp_path,
    )
    assert created.returncode == 0, created.stderr
    assert "password=***" in created.stdout + created.stderr
    assert "s3cret" not in created.stdout + created.stderr


# -- a damaged study -------------------------------------------------------------------------

DAMAGED_SPECS = {
    "text": "garbage",
    "list": [1, 2],
    "empty": {},
    "fields-missing": {"version": 1, "name": "x"},
    "bad-seed": {"version": 1, "name": "x", "seed": "abc"},
    "newer": {"version": 99},
}


def _snapshot(url: str) -> list[tuple[str, dict[str, object], int]]:
    """Every study's name, user attributes and number of trials."""
    return [
        (
            s.study_name,
            s.user_attrs,
            len(optuna.load_study(study_name=s.study_name, storage=url).trials),
        )
        for s in optuna.get_all_study_summaries(url)
    ]


@pytest.fixture
def damaged(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A storage with a good hpo study, ``good``, and a damaged one, ``bad``."""
    url = f"sqlite:///{tmp_path / 'hpo.db'}"
    write_json(tmp_path / "space.json", {"x": {"_type": "uniform", "_value": [0, 1]}})
    created = hpo_cli(
        "create-study",
        "--space",
        "space.json",
        "--name",
        "good",
        "--objective",
        "math:sqrt",
        storage=url,
        cwd=tmp_path,
    )
    assert created.returncode == 0, created.stderr
    optuna.create_study(study_name="bad", storage=url).set_user_attr(attrs.SPEC, request.param)
    return url


@pytest.mark.parametrize("damaged", DAMAGED_SPECS.values(), ids=DAMAGED_SPECS, indirect=True)
def test_status_lists_a_damaged_study_and_the_others_untouched(damaged: str) -> None:
    result = hpo_cli("status", storage=damaged)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:] if line.strip()}
    assert set(rows) >= {"good", "bad"}, result.stdout
    assert "tpe" in rows["good"]


@pytest.mark.parametrize("damaged", DAMAGED_SPECS.values(), ids=DAMAGED_SPECS, indirect=True)
@pytest.mark.parametrize(
    "args",
    [["worker", "--study", "bad"], ["best", "bad"], ["set-budget", "bad", "--max-trials", "5"]],
    ids=["worker", "best", "set-budget"],
)
def test_commands_on_a_damaged_study_are_one_line(damaged: str, args: list[str]) -> None:
    before = _snapshot(damaged)
    result = hpo_cli(*args, storage=damaged)
    assert_only_one_line(result, 1, "study 'bad'")
    assert _snapshot(damaged) == before


# -- a comparison group: all or nothing ------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "taken"),
    [([], "grp-random"), (["--repeats", "2"], "grp-random-r2")],
    ids=["samplers", "repeats"],
)
def test_a_group_that_cannot_be_created_whole_leaves_nothing(
    tmp_path: Path, options: list[str], taken: str
) -> None:
    url = f"sqlite:///{tmp_path / 'hpo.db'}"
    write_json(tmp_path / "other.json", {"z": {"_type": "uniform", "_value": [0, 1]}})
    write_json(tmp_path / "space.json", {"x": {"_type": "uniform", "_value": [0, 1]}})
    common = ["--objective", "math:sqrt", "--seed", "1"]
    first = hpo_cli(
        "create-study",
        "--space",
        "other.json",
        "--name",
        taken,
        "--sampler",
        "random",
        *common,
        storage=url,
        cwd=tmp_path,
    )
    assert first.returncode == 0, first.stderr
    before = _snapshot(url)
    result = hpo_cli(
        "create-study",
        "--space",
        "space.json",
        "--name",
        "grp",
        "--sampler",
        "tpe,random",
        *options,
        *common,
        storage=url,
        cwd=tmp_path,
    )
    assert_only_one_line(result, 2, taken, "exists already")
    assert _snapshot(url) == before


# -- processes: never more than the study can use ---------------------------------------------


def test_run_starts_no_more_workers_than_the_study_has_trials(tmp_path: Path) -> None:
    """trialConcurrency 8 for a 3-trial study started 8 processes; 5 found nothing to do."""
    url = f"sqlite:///{tmp_path / 'hpo.db'}"
    write_module(tmp_path, "quick", "def run(params):\n    return params['x']\n")
    config = {
        "config": {"maxTrialNum": 3, "trialConcurrency": 8, "objective": "quick:run"},
        "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
    }
    write_json(tmp_path / "space.json", config)
    ran = run_hpo("run", "--space", "space.json", "--name", "few", storage=url, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "starting 3 workers, not 8: the study has 3 trials left" in ran.stderr, ran.stderr
    assert "starting 3 local workers" in ran.stderr, ran.stderr
    assert len(optuna.load_study(study_name="few", storage=url).trials) == 3


# -- a trial's code that exits ---------------------------------------------------------------


def test_a_trial_that_exits_fails_that_trial_not_the_worker(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hpo.db'}"
    write_module(
        tmp_path,
        "exits",
        """
        import sys

        def run(params):
            if params["x"] < 0.5:
                sys.exit(3)
            raise SystemExit(0)
        """,
    )
    config = {
        "config": {"maxTrialNum": 4},
        "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
    }
    hpo_create_study(tmp_path, config, url, "--objective", "exits.py:run", "--name", "ex")
    worker = run_hpo("worker", "--study", "ex", storage=url, cwd=tmp_path)
    assert worker.returncode == 0, worker.stderr
    assert "worker 0 on 'ex' done" in worker.stderr and "error:" not in worker.stderr
    trials = optuna.load_study(study_name="ex", storage=url).trials
    assert [t.state for t in trials] == [optuna.trial.TrialState.FAIL] * 4
    assert all("called sys.exit(" in t.user_attrs[attrs.ERROR] for t in trials)


# -- servers: ports, threads, addresses ------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        (["--port", "99999"], "--port"),
        (["--port", "-1"], "--port"),
        (["--port", "http"], "--port"),
        (["--threads", "0"], "--threads"),
        (["--threads", "129", "--port", "99999"], "--threads"),
        (["--host", "nonexistent.invalid"], "no such address"),
        (["--host", "10.255.255.1", "--port", "0"], "not an address of this machine"),
    ],
    ids=[
        "port-too-big",
        "port-negative",
        "port-text",
        "no-threads",
        "too-many-threads",
        "unknown-host",
        "foreign-ip",
    ],
)
def test_serve_storage_refuses_what_it_cannot_listen_on(
    tmp_path: Path, options: list[str], needle: str
) -> None:
    result = hpo_cli("serve-storage", *options, storage=f"sqlite:///{tmp_path / 'hpo.db'}")
    assert_only_one_line(result, 2, needle)
    assert not (tmp_path / "hpo.db").exists()  # refused before the storage was opened


@pytest.fixture
def busy_port() -> Iterator[tuple[str, int]]:
    """A port something else listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield "127.0.0.1", other.getsockname()[1]


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_serve_storage_on_a_busy_port_is_one_line(
    tmp_path: Path, busy_port: tuple[str, int], host: str
) -> None:
    # A real process: gRPC's C core writes its own lines to stderr, which must not appear.
    result = run_hpo(
        "serve-storage",
        "--host",
        host,
        "--port",
        str(busy_port[1]),
        storage=f"sqlite:///{tmp_path / 'hpo.db'}",
    )
    assert_only_one_line(result, 1, f"cannot listen on {host}:{busy_port[1]}: the port is in use")


def test_the_listen_check_for_the_dashboard(busy_port: tuple[str, int]) -> None:
    """What hpo dashboard calls before optuna-dashboard prints its banner."""
    from hpo.cli.options import check_can_listen
    from hpo.errors import HpoError, InvalidInputError

    with pytest.raises(HpoError, match="the port is in use") as in_use:
        check_can_listen(*busy_port)
    assert in_use.value.exit_code == 1
    with pytest.raises(InvalidInputError, match="not an address of this machine"):
        check_can_listen("10.255.255.1", 8080)
    check_can_listen("127.0.0.1", 0)


def _listening_on(port: int) -> set[str]:
    """The local addresses a TCP port is listened on, read from /proc (no connection needed);
    an IPv4 address mapped into IPv6 (as gRPC binds) reads as the IPv4 one, every interface
    (0.0.0.0, ::) as ``*``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state != "0A" or int(hex_port, 16) != port:
                continue
            # The kernel prints each 32-bit word of the address in host (little-endian) order.
            raw = b"".join(
                bytes.fromhex(address[i : i + 8])[::-1] for i in range(0, len(address), 8)
            )
            ip = ipaddress.ip_address(raw)
            mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
            found.add("*" if ip.is_unspecified else str(mapped or ip))
    return found


@pytest.mark.parametrize(
    ("options", "addresses", "warned"),
    [([], {"127.0.0.1"}, False), (["--host", "0.0.0.0"], {"*"}, True)],
    ids=["default-loopback", "all-interfaces-warned"],
)
def test_serve_storage_binds_this_machine_unless_told_and_warns_then(
    tmp_path: Path, options: list[str], addresses: set[str], warned: bool
) -> None:
    port = free_port()
    server = start_hpo(
        "serve-storage", *options, "--port", str(port), storage=f"sqlite:///{tmp_path / 'hpo.db'}"
    )
    try:
        wait_for(lambda: _listening_on(port) or server.poll() is not None, 120, "the server")
        assert _listening_on(port) == addresses
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=120)
    assert server.returncode == 0, err
    assert ("warning: the storage proxy has no login" in err) is warned, err
