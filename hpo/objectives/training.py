"""The built-in objective: ``training.fit`` trains a model and reports every epoch.

Everything the worker used to know about training lives here: the trial's training seed
(recorded as ``hpo:seed``, the same for every attempt of a trial), its resumable training state
(a file in the trial's own directory, which a retry finds and resumes from, recorded as
``hpo:resumed_from_epoch``), and deleting that file once the trial is over for good. Params are
checked at ``create-study``, before any worker starts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from hpo import attrs
from hpo.errors import InvalidInputError
from hpo.objectives.base import Attempt, Objective
from hpo.objectives.outcome import Outcome, failure_of, outcome_of
from hpo.objectives.paths import absolute_path
from hpo.space import Notice
from training.config import ConfigError, TrainConfig, known_params, suggest

#: The metric the built-in objective optimises (``fit`` returns it).
TRAINING_METRIC = "val_acc"
#: Training params that name files: stored absolute, so workers started elsewhere find them.
PATH_PARAMS = ("data_dir", "pretrained", "teacher", "checkpoint", "cache_dir")
#: The training state after every epoch, in the trial's own directory.
STATE_FILE = "state.pt"
#: Params that act only through a distillation teacher.
DISTILLATION_PARAMS = ("kd_temperature", "kd_alpha")
#: The trained model (best epoch), in the trial's own directory.
WEIGHTS_FILE = "weights.pt"
#: What ``fit`` returns after resuming from a saved state.
RESUMED_KEY = "resumed_from_epoch"


class TrainingObjective(Objective):
    """``training.fit(params, report)`` with a seed and a resumable state per trial."""

    loggers = ("training",)  # its epochs, at debug level

    def run(self, params: dict[str, Any], attempt: Attempt) -> Outcome:
        # torch loads here, in workers that train, never for hpo --help, status or a user's
        # function objective.
        from training import fit, forget_compiled

        params = dict(params)
        params.setdefault("seed", attempt.seed)
        attempt.record(attrs.SEED, params["seed"])
        params["state_file"] = str(state_file(attempt))
        # The trained model's weights (its best epoch's), for the worker to keep if the trial
        # is among the study's best; a checkpoint path the user gave is theirs to keep.
        weights = Path(params.get("checkpoint") or weights_file(attempt))
        if "checkpoint" not in params:
            attempt.directory.mkdir(parents=True, exist_ok=True)
            params["checkpoint"] = str(weights)
        try:
            result = fit(params, attempt.report)
        except Exception as exc:
            if failure_of(exc).kind == "out_of_memory":
                # Models kept compiled for later trials hold memory the next trial needs.
                forget_compiled()
            raise
        outcome = outcome_of(result, self.metrics)
        if weights.exists():
            outcome = replace(outcome, files={**outcome.files, "weights": weights})
        if RESUMED_KEY in outcome.metrics:
            resumed = {attrs.RESUMED_FROM_EPOCH: int(outcome.metrics[RESUMED_KEY])}
            outcome = replace(outcome, attrs={**outcome.attrs, **resumed})
        return outcome

    def close(self, attempt: Attempt) -> None:
        state_file(attempt).unlink(missing_ok=True)
        weights_file(attempt).unlink(missing_ok=True)  # kept by the worker if it was worth it
        _legacy_state_file(attempt).unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # not empty, or never made: leave it
            attempt.directory.rmdir()


def weights_file(attempt: Attempt) -> Path:
    """Where a trial's model is saved at its end (unless the user named a checkpoint)."""
    return attempt.directory / WEIGHTS_FILE


def state_file(attempt: Attempt) -> Path:
    """The trial's training state; one that hpo 0.1.0 wrote beside the directory (a trial
    retried across an upgrade) is moved into it, so that the retry resumes."""
    path = attempt.directory / STATE_FILE
    legacy = _legacy_state_file(attempt)
    if not path.exists() and legacy.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        legacy.replace(path)
    return path


def _legacy_state_file(attempt: Attempt) -> Path:
    return attempt.directory.with_suffix(".pt")  # …/trial-N.pt, where 0.1.0 kept it


def check_training_params(
    params: Mapping[str, Any],
    searched: Mapping[str, Sequence[Any] | None],
    space_path: str,
    cwd: str,
) -> tuple[dict[str, Any], list[Notice]]:
    """Refuse params the built-in objective does not know, before any worker starts.

    ``searched``: the search space's parameters, each with the values that span its range
    (``Space.spanning_values``; the trials' values come later);
    ``space_path``: the JSON path of the space, for messages. Relative file paths become
    absolute (with a notice), so that workers started elsewhere find them.
    """
    known = known_params()
    prefix = f"{space_path}." if space_path else ""
    for name in searched:
        if name not in known:
            raise InvalidInputError(
                f"{prefix}{name}: not a param of the built-in training objective{suggest(name)}"
            )
    distilled = [name for name in searched if name in DISTILLATION_PARAMS]
    if distilled and not params.get("teacher") and "teacher" not in searched:
        raise InvalidInputError(
            f"{prefix}{distilled[0]}: searched, but there is no teacher to distil from (give "
            "params.teacher a checkpoint, or leave the kd_* params out)"
        )
    fixed = {k: v for k, v in params.items() if k not in searched}
    try:
        # Every fixed value, and every rule between fixed values; a rule that involves a
        # searched param is refused only where no value of the search can satisfy it, and
        # otherwise checked by each trial with its values (a fixed prune_rounds is fine while
        # prune_rate is searched).
        _, warnings = TrainConfig.checked(fixed, searched=searched)
    except ConfigError as exc:
        raise InvalidInputError(f"params: {exc}") from None
    resolved = dict(params)
    notices = [Notice("params", warning) for warning in warnings]
    for key in PATH_PARAMS:
        value = resolved.get(key)
        if not isinstance(value, str) or not value:
            continue
        if "\0" in value:
            raise InvalidInputError(f"params: {key}: a path cannot hold a NUL character")
        if value.startswith("~") or Path(value).is_absolute():
            continue  # each worker reads it as its own machine has it
        try:
            resolved[key] = str(absolute_path(value, cwd))
        except ValueError as exc:  # a name longer than the file system takes
            raise InvalidInputError(f"params: {key} {value!r}: {exc}") from None
        notices.append(Notice(f"params.{key}", f"relative path stored as {resolved[key]}"))
    return resolved, notices
