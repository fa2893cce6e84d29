"""hpo: hyperparameter search for PyTorch image classification on Optuna.

The package never imports torch at module level; see ``hpo.cli`` for the commands.
"""

__version__ = "0.1.0"
