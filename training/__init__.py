"""training: the PyTorch side of hpo. Never imports optuna or hpo.

``fit(params, report)`` trains one model and returns its metrics; ``report(value, epoch)``
is a plain callable that receives the validation accuracy after every epoch.
"""

from training.loop import fit

__all__ = ["fit"]
