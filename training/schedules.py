"""Learning-rate schedules, stepped once per batch, built on ``torch.optim.lr_scheduler``.

With peak rate η, S steps per epoch, T = num_epochs·S steps in all and W = warmup_period:

1. Warmup (W > 0): step t < W runs at η·(t+1)/W (the Food-11 report's linear warmup).
2. Then the schedule runs over the remaining T − W steps, m = t − W:

   ==========  ========================================================================
   constant    η
   step        η·γ^⌊m / (step_size·S)⌋                          (StepLR)
   multistep   η·γ^(number of milestones·S ≤ m)                  (MultiStepLR)
   cosine      η·(1 + cos(π·m / (T − W))) / 2                    (CosineAnnealingLR)
   onecycle    linear from η/25 up to η over the first quarter, then down to η/25e4
               (OneCycleLR, momentum left as configured)
   triangular  linear from η/100 up to η over step_size epochs, then back down, and again
               (CyclicLR, mode "triangular": the ResNet-9 report's cyclic schedule)
   ==========  ========================================================================
"""

from __future__ import annotations

from torch.optim import Optimizer
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    CyclicLR,
    LambdaLR,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    SequentialLR,
    StepLR,
)

from training.config import TrainConfig

ONECYCLE_PCT_START = 0.25
ONECYCLE_DIV = 25.0
ONECYCLE_FINAL_DIV = 1e4
TRIANGULAR_FLOOR = 0.01  # the low point of a triangular cycle, as a fraction of η


def build_schedule(optimizer: Optimizer, config: TrainConfig, steps_per_epoch: int) -> LRScheduler:
    total = config.num_epochs * steps_per_epoch
    warmup = min(config.warmup_period, total - 1)
    main = _main_schedule(optimizer, config, steps_per_epoch, max(1, total - warmup))
    if warmup <= 0:
        return main
    ramp = LambdaLR(optimizer, lambda t: min(1.0, (t + 1) / warmup))
    return SequentialLR(optimizer, [ramp, main], milestones=[warmup])


def _main_schedule(optimizer: Optimizer, c: TrainConfig, s: int, steps: int) -> LRScheduler:
    if c.lr_schedule == "constant":
        return LambdaLR(optimizer, lambda _: 1.0)
    if c.lr_schedule == "step":
        return StepLR(optimizer, step_size=c.step_size * s, gamma=c.gamma)
    if c.lr_schedule == "multistep":
        return MultiStepLR(optimizer, milestones=[m * s for m in c.milestones], gamma=c.gamma)
    if c.lr_schedule == "cosine":
        return CosineAnnealingLR(optimizer, T_max=steps)
    if c.lr_schedule == "onecycle":
        return OneCycleLR(
            optimizer,
            max_lr=c.lr,
            total_steps=steps,
            pct_start=ONECYCLE_PCT_START,
            anneal_strategy="linear",
            div_factor=ONECYCLE_DIV,
            final_div_factor=ONECYCLE_FINAL_DIV,
            cycle_momentum=False,
        )
    if c.lr_schedule == "triangular":
        half = max(1, c.step_size * s)
        return CyclicLR(
            optimizer,
            base_lr=c.lr * TRIANGULAR_FLOOR,
            max_lr=c.lr,
            step_size_up=half,
            mode="triangular",
            cycle_momentum=False,
        )
    raise ValueError(f"unknown lr_schedule {c.lr_schedule!r}")
