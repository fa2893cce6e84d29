"""Numeric choices for samplers of numbers only (CMA-ES): stored as values, modelled in order.

A trial stores a numeric ``choice`` as what the user wrote, a CategoricalDistribution over its
options (``batch_size: 32``), exactly as a TPE study does, so that plain Optuna, the dashboard
and anything else reading the study see the values. CMA-ES cannot model a categorical
parameter; :class:`OrderedChoicesSampler` shows it each numeric choice as an integer
dimension instead, the index of the value among the options sorted by value, so that it
learns that 64 lies between 32 and 128:

- ``infer_relative_search_space`` gives Optuna the wrapped sampler's space plus the numeric
  choices, with their stored (categorical) distributions: Optuna checks relative params
  against the distribution the trial suggests;
- ``sample_relative`` hands the wrapped sampler those choices as ``IntDistribution(0, n - 1)``
  and a view of the study whose trials hold the same indices (``study_with_trial_view``), and
  turns the indices it samples back into values;
- everything else goes to the wrapped sampler as it is.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, cast

from optuna import Study
from optuna.distributions import BaseDistribution, CategoricalDistribution, IntDistribution
from optuna.samplers import BaseSampler
from optuna.search_space import IntersectionSearchSpace
from optuna.trial import FrozenTrial, TrialState

from hpo.optuna_compat import study_with_trial_view


@dataclass(frozen=True)
class OrderedChoice:
    """A numeric categorical distribution as an index over its options sorted by value."""

    stored: CategoricalDistribution
    order: tuple[int, ...]  # order[k]: the option (its position in ``stored``) of rank k

    @classmethod
    def of(cls, distribution: BaseDistribution) -> OrderedChoice | None:
        """The ordering of a categorical distribution of two or more numbers, else None."""
        if not isinstance(distribution, CategoricalDistribution):
            return None
        choices = distribution.choices
        if len(choices) < 2 or not all(
            isinstance(c, int | float) and not isinstance(c, bool) for c in choices
        ):
            return None
        order = sorted(range(len(choices)), key=lambda i: cast(float, choices[i]))
        return cls(distribution, tuple(order))

    @property
    def encoded(self) -> IntDistribution:
        return IntDistribution(0, len(self.order) - 1)

    def encode(self, value: Any) -> int:
        """The rank of a stored value."""
        return self.order.index(int(self.stored.to_internal_repr(value)))

    def decode(self, rank: Any) -> Any:
        """The stored value of a rank (a number the wrapped sampler gave, rounded into range)."""
        k = min(max(round(float(rank)), 0), len(self.order) - 1)
        return self.stored.choices[self.order[k]]


def encode_trial(trial: FrozenTrial, choices: dict[str, OrderedChoice]) -> FrozenTrial:
    """``trial`` with the numeric choices of ``choices`` as ranks (itself if it has none).

    A param counts only where the trial stored it with the same distribution: a study whose
    options changed keeps the other trials' values as they are.
    """
    encoded = {
        name: c
        for name, c in choices.items()
        if name in trial.params and trial.distributions.get(name) == c.stored
    }
    if not encoded:
        return trial
    twin = copy.copy(trial)  # never change the trial itself: it may be Optuna's cached one
    twin.params = {
        name: encoded[name].encode(v) if name in encoded else v for name, v in trial.params.items()
    }
    twin.distributions = {
        name: encoded[name].encoded if name in encoded else d
        for name, d in trial.distributions.items()
    }
    return twin


class OrderedChoicesSampler(BaseSampler):
    """``sampler`` (CMA-ES) modelling numeric choices as ordered integers; trials store values."""

    def __init__(self, sampler: BaseSampler, keys: Collection[str] | None = None) -> None:
        """``keys``: the parameters every trial has (a space's top level); None: all.

        CMA-ES keeps one optimiser of fixed dimension: in a nested space, the intersection of
        the completed trials' params shrinks when a trial of another branch completes, after
        which Optuna's CmaEsSampler samples nothing relatively for the rest of the study. Kept
        to the top-level params, its dimension never changes; params inside nested choices
        are sampled independently (at random), as create-study says."""
        self.sampler = sampler
        self.keys = None if keys is None else frozenset(keys)
        self.search_space = IntersectionSearchSpace()

    def __str__(self) -> str:
        return f"{type(self).__name__}({self.sampler})"

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        space = dict(self.sampler.infer_relative_search_space(study, trial))
        for name, distribution in self.search_space.calculate(study, use_cache=True).items():
            if OrderedChoice.of(distribution) is not None:
                space[name] = distribution
        if self.keys is not None:
            space = {name: d for name, d in space.items() if name in self.keys}
        return dict(sorted(space.items()))  # the same order in every worker and every trial

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        choices = {
            name: c for name, d in search_space.items() if (c := OrderedChoice.of(d)) is not None
        }
        if not choices:
            return self.sampler.sample_relative(study, trial, search_space)
        encoded_space = {
            name: choices[name].encoded if name in choices else d
            for name, d in search_space.items()
        }
        view = study_with_trial_view(study, lambda t: encode_trial(t, choices))
        sampled = self.sampler.sample_relative(view, trial, encoded_space)
        return {
            name: choices[name].decode(v) if name in choices else v for name, v in sampled.items()
        }

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        return self.sampler.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self.sampler.before_trial(study, trial)

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        self.sampler.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self.sampler.reseed_rng()
