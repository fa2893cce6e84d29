"""What the command line says on top of a search-space file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hpo.errors import InvalidInputError, SpaceError
from hpo.objectives import Direction
from hpo.study.config_keys import parse_duration
from hpo.study.read_file import checked_data, loads_strict
from hpo.text import has_control_characters
from hpo.tuners import resolve_pruner_name, resolve_sampler_name


@dataclass(frozen=True)
class Overrides:
    """What the command line says on top of the file (None: keep the file's value)."""

    name: str | None = None
    sampler: str | None = None  # one name, or several "tpe,random" for a comparison group
    pruner: str | None = None
    seed: int | None = None
    objective: str | None = None
    command: str | None = None  # a command each trial runs, instead of the file's objective
    max_trials: int | None = None
    max_duration_s: float | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    direction: Direction | None = None
    checkpoint_dir: str | None = None
    artifact_dir: str | None = None  # where the best trials' weights are kept

    @property
    def samplers(self) -> list[str]:
        """The samplers named by ``--sampler`` (several for a comparison group)."""
        return [s.strip() for s in (self.sampler or "").split(",") if s.strip()]


def parse_overrides(
    *,
    max_duration: str | None,
    param: Sequence[str],
    **values: Any,
) -> Overrides:
    """Overrides from command-line text: ``--max-duration 12h``, ``-p KEY=VALUE``; sampler and
    pruner names are checked now, before the file is read."""
    overrides = Overrides(
        max_duration_s=None if max_duration is None else duration_option(max_duration),
        params=parse_params(param),
        **values,
    )
    for name in overrides.samplers:
        resolve_sampler_name(name)
    if overrides.pruner is not None:
        resolve_pruner_name(overrides.pruner)
    return overrides


def duration_option(text: str) -> float:
    """Seconds of ``--max-duration`` (``12h``, ``30m``, ``2d``, ``90s``)."""
    try:
        return parse_duration(text)
    except SpaceError as exc:
        raise InvalidInputError(f"--max-duration: {exc.reason}") from None


def parse_params(items: Sequence[str]) -> dict[str, Any]:
    """``-p KEY=VALUE`` options: VALUE read as JSON, else as text."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"--param expects KEY=VALUE, got {item!r}")
        if has_control_characters(key):
            raise InvalidInputError(f"--param: a name must not hold control characters: {key!r}")
        try:
            # As strictly as a file: NaN is text, an integer too large for a float is refused.
            value = checked_data(loads_strict(raw))
        except SpaceError as exc:
            if not exc.reason.startswith("not valid JSON"):
                raise InvalidInputError(f"--param {key.strip()}: {exc.reason}") from None
            value = raw
        except RecursionError:
            raise InvalidInputError(f"--param {key.strip()}: nested too deeply") from None
        params[key.strip()] = value
    return params
