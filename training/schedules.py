"""Learning-rate schedules, stepped once per batch: one pure function of the step.

With peak rate η, S steps per epoch, T = num_epochs·S steps in all and W = warmup_period,
the rate at step t (counted from 0) is η·factor(t):

1. Linear warmup (``warmup: linear``, W > 0; W is cut to T − 1): step t < W runs at
   η·(t+1)/W, so the last warmup step is at η whatever follows. The schedule then runs over
   the remaining T − W steps with m = t − W.
2. Exponential warmup (``warmup: exponential``, the Food-11 report's ``pytorch_warmup``
   ExponentialWarmup with warmup_period τ = W): the schedule runs over all T steps (m = t)
   and every step's rate is multiplied by 1 − exp(−(t+1)/τ).
3. The schedule, over N steps (N = T − W or T):

   ==========  ========================================================================
   constant    1
   step        γ^⌊m / (step_size·S)⌋
   multistep   γ^(number of milestones with milestone·S ≤ t): milestones are absolute
               epochs, whatever the warmup (a decay at epoch 15 stays at epoch 15)
   cosine      (1 + cos(π·m / N)) / 2
   onecycle    linear from 1/25 up to 1 until step ⌊N/4⌋ − 1, then down to 1/(25·10⁴)
               at the last step (OneCycleLR's linear form, momentum left as configured)
   triangular  from 1/100 up to 1 and back, each cycle ``cycle_epochs`` long (default N:
               one cycle over the run, ending near 1/100), as CyclicLR's "triangular"
               (the ResNet-9 report's cyclic schedule)
   ==========  ========================================================================
"""

from __future__ import annotations

import math
from collections.abc import Callable

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR

from training.config import TrainConfig

ONECYCLE_PCT_START = 0.25
ONECYCLE_DIV = 25.0
ONECYCLE_FINAL_DIV = 1e4
TRIANGULAR_FLOOR = 0.01  # the low point of a triangular cycle, as a fraction of η

Factor = Callable[[int], float]


def build_schedule(optimizer: Optimizer, config: TrainConfig, steps_per_epoch: int) -> LambdaLR:
    """The schedule as a ``LambdaLR`` (its state is one step count: resumes exactly)."""
    return LambdaLR(optimizer, lr_factor(config, steps_per_epoch))


def lr_factor(config: TrainConfig, steps_per_epoch: int) -> Factor:
    """factor(t): the rate of step t as a fraction of ``config.lr``."""
    total = max(1, config.num_epochs * steps_per_epoch)
    if config.warmup_period > 0 and config.warmup == "exponential":
        tau = float(config.warmup_period)
        main = _schedule(config, steps_per_epoch, total)
        return lambda t: main(t, t) * (1.0 - math.exp(-(t + 1) / tau))
    warmup = min(config.warmup_period, total - 1)
    main = _schedule(config, steps_per_epoch, total - warmup)

    def factor(t: int) -> float:
        if t < warmup:
            return (t + 1) / warmup
        return main(t - warmup, t)

    return factor


def _schedule(c: TrainConfig, s: int, n: int) -> Callable[[int, int], float]:
    """The schedule over ``n`` steps as f(m, t): m counts from its start, t from training's."""
    if c.lr_schedule == "constant":
        return lambda m, t: 1.0
    if c.lr_schedule == "step":
        every = c.step_size * s
        return lambda m, t: c.gamma ** (m // every)
    if c.lr_schedule == "multistep":
        steps = [epoch * s for epoch in c.milestones]
        return lambda m, t: c.gamma ** sum(t >= at for at in steps)
    if c.lr_schedule == "cosine":
        return lambda m, t: (1.0 + math.cos(math.pi * min(m, n) / n)) / 2.0
    if c.lr_schedule == "onecycle":
        return _onecycle(n)
    if c.lr_schedule == "triangular":
        cycle = c.cycle_epochs * s if c.cycle_epochs is not None else n
        return _triangular(max(2.0, cycle) / 2.0)
    raise ValueError(f"unknown lr_schedule {c.lr_schedule!r}")


def _onecycle(n: int) -> Callable[[int, int], float]:
    start, final = 1.0 / ONECYCLE_DIV, 1.0 / (ONECYCLE_DIV * ONECYCLE_FINAL_DIV)
    peak = max(1.0, ONECYCLE_PCT_START * n - 1)  # OneCycleLR's end of the first phase
    last = max(peak + 1, n - 1)

    def f(m: int, t: int) -> float:
        if m <= peak:
            return start + (1.0 - start) * m / peak
        return 1.0 - (1.0 - final) * min(1.0, (m - peak) / (last - peak))

    return f


def _triangular(half: float) -> Callable[[int, int], float]:
    def f(m: int, t: int) -> float:
        x = abs((m / half) % 2.0 - 1.0)  # 1 at a cycle's ends, 0 at its peak
        return TRIANGULAR_FLOOR + (1.0 - TRIANGULAR_FLOOR) * (1.0 - x)

    return f
