"""Optuna distributions as short, exact text, for ``hpo validate`` and messages."""

from __future__ import annotations

import json

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from hpo.text import show


def describe_distribution(dist: BaseDistribution) -> str:
    """``FloatDistribution(0.001, 0.1, log=True)``: the constructor call that rebuilds it."""
    if isinstance(dist, FloatDistribution | IntDistribution):
        args = [f"{show(dist.low)}", f"{show(dist.high)}"]
        if dist.log:
            args.append("log=True")
        if dist.step is not None and not (isinstance(dist, IntDistribution) and dist.step == 1):
            args.append(f"step={show(dist.step)}")
        return f"{type(dist).__name__}({', '.join(args)})"
    if isinstance(dist, CategoricalDistribution):
        return f"CategoricalDistribution({json.dumps(list(dist.choices))})"
    return repr(dist)
