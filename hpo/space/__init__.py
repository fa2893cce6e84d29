"""NNI search spaces as typed parameters and Optuna distributions.

A search space is a JSON object of parameters, each ``{"_type": T, "_value": [...]}``. This
package turns one into a :class:`Space` (``parse``): a tuple of typed parameters (``model``)
that know their Optuna distribution, how to suggest themselves on a trial (define-by-run, so
that the parameters of a nested ``choice`` exist only when their option is chosen), and how to
turn an Optuna value back into the value NNI would have given the trial.

The mapping of each NNI type (pinned by ``tests/space/test_space.py``):

==============  ===================  =====================================================
NNI type        ``_value``           values hpo gives the trial / Optuna distribution
==============  ===================  =====================================================
choice          [v, ...]             one of the options / Categorical over the options
                                     (an index over the sorted options for samplers that
                                     cannot model categories, when all options are numbers)
randint         [lower, upper)       integers lower..upper-1 / Int(lower, upper-1);
                                     the legacy ``[upper]`` means [0, upper)
uniform         [low, high]          Float(low, high)
quniform        [low, high, q]       the multiples of q in [low, high] / Int or Float with
                                     step q (Int when low, high and q are integers)
loguniform      [low, high]          Float(low, high, log)
qloguniform     [low, high, q]       the multiples of q in [low, high], log-distributed /
                                     Float(log) rounded to q (Int(log) when q is 1)
normal          [mu, sigma]          Float(mu - 3σ, mu + 3σ)
qnormal         [mu, sigma, q]       the multiples of q in [mu - 3σ, mu + 3σ]
lognormal       [mu, sigma]          Float(exp(mu - 3σ), exp(mu + 3σ), log)
qlognormal      [mu, sigma, q]       the multiples of q in that range, log-distributed
==============  ===================  =====================================================

Optuna has no unbounded distribution and no log scale with a step: the normal family keeps
its 99.7 % range (±3σ) but not its bell shape, and the quantised log types sample on a
continuous log scale and round to q (the trial stores the continuous value; the objective
receives the rounded one).

Mistakes found in real files are either fixed with a :class:`Notice` (bounds given in
reverse order, where the intended range is unambiguous) or refused with a
:class:`~hpo.errors.SpaceError` that names the JSON path.
"""

from __future__ import annotations

from hpo.space.describe import describe_distribution
from hpo.space.model import (
    NESTED_SEPARATOR,
    NNI_TYPES,
    NORMAL_SPAN,
    ORDINAL_SUFFIX,
    ChoiceParam,
    Notice,
    NumericParam,
    Option,
    Param,
    Space,
    Value,
)
from hpo.space.parse import parse_space

__all__ = [
    "NESTED_SEPARATOR",
    "NNI_TYPES",
    "NORMAL_SPAN",
    "ORDINAL_SUFFIX",
    "ChoiceParam",
    "Notice",
    "NumericParam",
    "Option",
    "Param",
    "Space",
    "Value",
    "describe_distribution",
    "parse_space",
]
