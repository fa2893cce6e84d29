"""A study as a wrapped sampler sees it: the same study, its trials passed through a function.

Optuna's samplers read a study's trials through ``Study._get_trials`` (``get_trials`` and
``trials`` go through it too) and write their state through ``Study._storage``. A view that
overrides only ``_get_trials`` shows a sampler the trials in another encoding while everything
it writes still reaches the real study.
"""

from __future__ import annotations

from collections.abc import Callable, Container

from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState


class _TrialView(Study):
    """``study`` with every trial it lists passed through ``view`` (which must not change the
    trial it is given: with ``deepcopy=False`` it is Optuna's cached object)."""

    def __init__(self, study: Study, view: Callable[[FrozenTrial], FrozenTrial]) -> None:
        # Not Study.__init__, which would look the study up in the storage again. Only the
        # attributes Study's own methods read, taken one by one: Optuna's HyperbandPruner hands
        # samplers a study object that refuses any other attribute (its __dict__ included).
        self.study_name = study.study_name
        self._study_id = study._study_id
        self._storage = study._storage
        self._directions = study._directions
        self.sampler = study.sampler
        self.pruner = study.pruner
        self._thread_local = study._thread_local  # the trials Optuna cached for this ask
        self._stop_flag = False
        self._study = study
        self._view = view

    def _get_trials(
        self,
        deepcopy: bool = True,
        states: Container[TrialState] | None = None,
        use_cache: bool = False,
    ) -> list[FrozenTrial]:
        trials = self._study._get_trials(deepcopy=deepcopy, states=states, use_cache=use_cache)
        return [self._view(t) for t in trials]

    def stop(self) -> None:
        self._study.stop()


def study_with_trial_view(study: Study, view: Callable[[FrozenTrial], FrozenTrial]) -> Study:
    """``study`` as a sampler sees it when each of its trials reads as ``view(trial)``.

    Reads of trials go through ``view``; the storage, the directions and writes (a sampler's
    system attributes) are the study's own.
    """
    return _TrialView(study, view)
