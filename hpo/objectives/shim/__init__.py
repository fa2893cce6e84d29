"""The directory put first on a command trial's ``PYTHONPATH``: it holds the ``nni`` shim.

Only trial processes see it; hpo itself never imports ``nni``.
"""
