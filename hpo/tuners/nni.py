"""NNI's tuner and assessor names, and the hpo samplers and pruners they become.

NNI and Dr.Opt configs name a ``tuner.builtinTunerName`` and an ``assessor``; each maps onto
the nearest sampler (and, for tuners with built-in early stopping, a pruner), with a note where
the two differ in kind.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NniTuner:
    sampler: str
    pruner: str | None = None  # a tuner with built-in early stopping (BOHB, Hyperband)
    note: str | None = None
    refusal: str | None = None  # why hpo cannot run it (then ``sampler`` is empty)


def _refused(why: str) -> NniTuner:
    return NniTuner("", refusal=why)


_NAS = "a neural-architecture-search tuner; hpo searches hyperparameters only"


#: NNI / Dr.Opt ``builtinTunerName`` → the nearest hpo sampler (and pruner).
NNI_TUNERS: dict[str, NniTuner] = {
    "TPE": NniTuner("tpe"),
    "Random": NniTuner("random"),
    "Evolution": NniTuner("cmaes", note="NNI's Evolution tuner runs as CMA-ES"),
    "RegularizedEvolution": NniTuner("cmaes", note="runs as CMA-ES"),
    "GridSearch": NniTuner("grid"),
    "BatchTuner": NniTuner("grid", note="runs as grid search over the choices"),
    "Anneal": NniTuner(
        "tpe", note="NNI's Anneal tuner runs as TPE, which also narrows towards good trials"
    ),
    "SMAC": NniTuner("tpe", note="SMAC runs as TPE (a model-based tuner like it)"),
    "GPTuner": NniTuner("gp"),
    "GP": NniTuner("gp"),
    "MetisTuner": NniTuner("gp", note="Metis runs as Gaussian-process optimisation"),
    "Metis": NniTuner("gp", note="Metis runs as Gaussian-process optimisation"),
    "DNGOTuner": NniTuner("gp", note="DNGO runs as Gaussian-process optimisation"),
    "DNGO": NniTuner("gp", note="DNGO runs as Gaussian-process optimisation"),
    "Hyperband": NniTuner("random", "hyperband"),
    "BOHB": NniTuner("tpe", "hyperband", note="BOHB runs as TPE with the Hyperband pruner"),
    "PBTTuner": _refused(
        "population-based training changes a trial's params while it trains, which an "
        "Optuna trial cannot; use TPE or Evolution"
    ),
    "PBT": _refused(
        "population-based training changes a trial's params while it trains, which an "
        "Optuna trial cannot; use TPE or Evolution"
    ),
    "PPOTuner": _refused(_NAS),
    "PPO": _refused(_NAS),
    "NetworkMorphism": _refused(_NAS),
    "ENAS": _refused(_NAS),
}

#: NNI assessor names (lower case) → hpo pruners.
NNI_ASSESSORS = {"medianstop": "median", "curvefitting": "median"}

#: NNI assessor ``classArgs`` → hpo pruner options.
NNI_ASSESSOR_ARGS = {"start_step": "n_warmup_steps"}


def nni_tuner(name: str) -> NniTuner | None:
    """The NNI tuner of that name (case-insensitive), if it is one."""
    for tuner_name, tuner in NNI_TUNERS.items():
        if tuner_name.lower() == name.strip().lower():
            return tuner
    return None
