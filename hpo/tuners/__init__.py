"""Samplers and pruners: registries from names (hpo's and NNI's) to Optuna objects.

- ``samplers``: ``SAMPLERS`` (one :class:`~hpo.tuners.samplers.SamplerKind` per sampler: what
  it can model, how to build it), name resolution, ``build_sampler``;
- ``compatibility``: what a sampler will do with a space, said before any trial runs;
- ``grid``: grid points dealt by trial number, so parallel workers never share one;
- ``ordered_choices``: CMA-ES models numeric choices as ordered values, trials store values;
- ``pruners`` and ``schedule``: ``PRUNERS``, ``build_pruner`` and when each pruner can act;
- ``nni``: NNI's tuner and assessor names;
- ``component``: a sampler or pruner as a study stores it (name and options).

A new sampler is one more ``SamplerKind`` in ``SAMPLERS``; a new pruner one more ``PrunerKind``
in ``PRUNERS`` (see ``docs/architecture.md``).
"""

from __future__ import annotations

from hpo.tuners.compatibility import check_compatibility, check_options, encode_space_for
from hpo.tuners.component import Component
from hpo.tuners.grid import grid_size, grid_values
from hpo.tuners.nni import NNI_ASSESSOR_ARGS, NNI_TUNERS, nni_tuner
from hpo.tuners.pruners import PRUNERS, build_pruner, pruning_schedule, resolve_pruner_name
from hpo.tuners.samplers import SAMPLERS, build_sampler, kind_of, resolve_sampler_name
from hpo.tuners.schedule import PruningSchedule, Rungs

__all__ = [
    "NNI_ASSESSOR_ARGS",
    "NNI_TUNERS",
    "PRUNERS",
    "SAMPLERS",
    "Component",
    "PruningSchedule",
    "Rungs",
    "build_pruner",
    "build_sampler",
    "check_compatibility",
    "check_options",
    "encode_space_for",
    "grid_size",
    "grid_values",
    "kind_of",
    "nni_tuner",
    "pruning_schedule",
    "resolve_pruner_name",
    "resolve_sampler_name",
]
