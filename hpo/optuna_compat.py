"""The few Optuna internals hpo relies on, in one place (pinned by tests; optuna>=5,<6).

- ``Study._thread_local.in_optimize_loop``: the worker is an ask-and-tell loop, and Optuna
  treats only ``study.optimize`` as one. Exhaustive samplers (grid, brute force) call
  ``study.stop()`` when they have visited their whole space, which raises outside that loop;
  heartbeats warn outside it. Marking the worker's study as inside the loop makes ``stop()``
  set ``Study._stop_flag`` instead, which the worker reads.
- ``RDBStorage._get_prepared_new_trial`` (see ``hpo.storage``): the hook inside the
  transaction that creates a trial, where the study-wide budget is checked.
- ``optuna.study._tell._tell_with_warning``: what ``Study.tell`` does, without reading the
  finished trial back from the storage (a full load, that the worker does not use).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import optuna


def enter_optimize_loop(study: optuna.Study) -> None:
    """Let the sampler stop the study (and heartbeats run) as in ``study.optimize``."""
    study._thread_local.in_optimize_loop = True
    study._stop_flag = False


def tell(study: optuna.Study, trial: optuna.Trial, values: Any, state: Any) -> None:
    """``study.tell(trial, values, state=state, skip_if_finished=True)``, one read less."""
    from optuna.study._tell import _tell_with_warning

    _tell_with_warning(study, trial, values, state, skip_if_finished=True, suppress_warning=True)


def stop_requested(study: optuna.Study) -> bool:
    """Whether the sampler (or anything else) called ``study.stop()`` since entering."""
    return bool(study._stop_flag)


def quiet_experimental_warnings() -> None:
    """hpo uses Optuna's heartbeat API on purpose; its "experimental" warnings are noise.

    Only warnings raised on hpo's own calls are silenced (Optuna attributes them to the
    caller's module); a user's objective still sees its own.
    """
    import warnings

    from optuna.exceptions import ExperimentalWarning

    warnings.filterwarnings("ignore", category=ExperimentalWarning, module=r"hpo(\.|$)")
