"""What Optuna's GridSampler knows of the points still to visit."""

from __future__ import annotations

from optuna.samplers import GridSampler
from optuna.study import Study


def unvisited_grid_ids(sampler: GridSampler, study: Study) -> list[int]:
    """Points no trial holds yet (none running, none finished)."""
    return list(sampler._get_unvisited_grid_ids(study))
