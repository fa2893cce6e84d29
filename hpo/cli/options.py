"""Options that several commands share, declared once; checks of what servers listen on."""

from __future__ import annotations

import errno
import socket
from pathlib import Path
from typing import Annotated, Literal

import typer

from hpo import env
from hpo.errors import HpoError, InvalidInputError

MAX_PORT = 65535
#: Addresses that only this machine reaches: a server bound to any other is on the network.
LOOPBACK = ("127.0.0.1", "localhost", "::1")

#: Seeds are 31-bit, as the study's and every seed derived from it (``hpo.study.seeds``).
MAX_SEED = 2**31 - 2

StorageOption = Annotated[
    str | None,
    typer.Option(
        "--storage",
        envvar=env.STORAGE,
        show_envvar=True,
        help="Study storage URL (default sqlite:///hpo.db). Prefer the environment variable "
        "for URLs with a password: it stays out of ps.",
        show_default=False,
    ),
]
SpaceOption = Annotated[
    Path,
    typer.Option(
        "--space",
        help="Search-space file: a bare NNI space, a Dr.Opt config or an NNI experiment config "
        "(JSON or YAML).",
    ),
]
RepeatsOption = Annotated[
    int,
    typer.Option(
        "--repeats",
        min=1,
        help="With several samplers (--sampler tpe,random,cmaes): studies per sampler, each "
        "with its own seed, for hpo compare.",
    ),
]
SamplerOption = Annotated[
    str | None,
    typer.Option(
        "--sampler",
        help="tpe, random, cmaes (evolution), grid, qmc, gp, nsga2, … "
        "or an NNI tuner name; overrides the file. [default: tpe]",
        show_default=False,
    ),
]
PrunerOption = Annotated[
    str | None,
    typer.Option(
        "--pruner",
        help="none, median, percentile, asha, hyperband, patient, threshold; "
        "overrides the file. [default: asha; none for several objectives]",
        show_default=False,
    ),
]
NameOption = Annotated[
    str | None,
    typer.Option(
        "--name",
        help="Study name [default: the config's experimentName, else FILE-SAMPLER].",
        show_default=False,
    ),
]
SeedOption = Annotated[
    int | None,
    typer.Option(
        "--seed",
        min=0,
        max=MAX_SEED,
        help="Study seed [default: random, stored].",
        show_default=False,
    ),
]
ObjectiveOption = Annotated[
    str | None,
    typer.Option(
        "--objective",
        help='"training" (built-in) or module:function / file.py:function; overrides the file.',
        show_default=False,
    ),
]
MaxTrialsOption = Annotated[
    int | None,
    typer.Option(
        "--max-trials",
        min=1,
        help="Study-wide trial budget; overrides maxTrialNum.",
        show_default=False,
    ),
]
MaxDurationOption = Annotated[
    str | None,
    typer.Option(
        "--max-duration",
        help="Study-wide time budget like 12h or 30m, counted from when the first worker "
        "starts; overrides maxExecDuration.",
        show_default=False,
    ),
]
ParamOption = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        "-p",
        help="Fixed param KEY=VALUE (VALUE read as JSON, else as text), "
        "e.g. -p data_dir=/data/food11. Repeatable.",
        show_default=False,
    ),
]
CheckpointDirOption = Annotated[
    str | None,
    typer.Option(
        "--checkpoint-dir",
        help="Directory every worker can read (shared between machines) where trials keep "
        "their epoch checkpoints, so a retried trial resumes [default: each machine's cache].",
        show_default=False,
    ),
]
DirectionOption = Annotated[
    Literal["maximize", "minimize"] | None,
    typer.Option(
        "--direction", help="maximize or minimize; overrides optimize_mode.", show_default=False
    ),
]


def check_can_listen(host: str, port: int) -> None:
    """Fail in one line, before a server starts (and prints its banner), when it could not
    listen on ``host:port``: a host that is not an address of this machine (exit 2), a port
    in use or reserved (exit 1). Port 0 asks for any free port: only the host is checked."""
    where = f"{host}:{port}"
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise InvalidInputError(f"cannot listen on {where}: no such address ({exc})") from None
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRNOTAVAIL:
                    raise InvalidInputError(
                        f"cannot listen on {where}: {host} is not an address of this machine"
                    ) from None
                if exc.errno == errno.EADDRINUSE:
                    raise HpoError(f"cannot listen on {where}: the port is in use") from None
                raise HpoError(f"cannot listen on {where}: {exc.strerror or exc}") from None
