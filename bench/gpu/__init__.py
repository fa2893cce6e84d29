"""The one-call GPU check, driven by ``bench/gpu_check.py`` (its entry point and description).

plan         the profiles, the steps with their time limits, the budget
commands     running a step's commands under its deadline, logged
utilisation  GPU utilisation from nvidia-smi while trials run
measure      the measurements that call ``training`` directly: warm, throughput, syncs
trials       the steps through the ``hpo`` command: accuracy, packing, out-of-memory
records      each step's record, its one-line brief and the summary table
check        the run: the steps in order while the budget allows, results.json after each
"""
