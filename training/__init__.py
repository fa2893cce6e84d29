"""training: the PyTorch side of hpo. Never imports optuna or hpo.

``fit(params, report)`` trains one model and returns its metrics; ``report(value, epoch)``
is a plain callable that receives the validation accuracy after every epoch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from training.compiled import forget_all as forget_compiled
    from training.loop import fit

__all__ = ["fit", "forget_compiled"]


def __getattr__(name: str) -> Any:
    # ``fit`` is looked up on first use: importing it loads torch (seconds), and hpo reads
    # ``training.config`` (no torch) to check a study's params where no training happens.
    if name == "fit":
        from training.loop import fit

        return fit
    if name == "forget_compiled":  # the models kept compiled for later trials, dropped
        from training.compiled import forget_all

        return forget_all
    raise AttributeError(f"module 'training' has no attribute {name!r}")
