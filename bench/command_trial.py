"""What a command trial costs beside a Python-function trial, side by side.

Both objectives do no work: 3 intermediate results and a final one, params in, value out.

  function  ``trial_fn.py:run(params, report)``, called in the worker's own process;
  command   ``python3 trial.py`` (NNI's API through hpo's ``nni`` shim): a child process per
            trial, started under hpo's guard, params through NNI's parameter.cfg, results
            through NNI's metrics file.

Each round runs T trials of each kind with hpo's Worker on its own SQLite study, the two kinds
alternating round by round, so that both see the same machine. Printed: ms per trial for each
(median over rounds), the difference (what running a trial as a command adds), the ratio, and
what the difference is made of: starting Python, and importing the shim.

    python bench/command_trial.py [--trials 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}, "y": {"_type": "choice", "_value": [1, 2]}}
FUNCTION = """
def run(params, report):
    for step in range(1, 4):
        report(params["x"] * step / 3, step)
    return params["x"]
"""
COMMAND = """
import nni
params = nni.get_next_parameter()
for step in range(1, 4):
    nni.report_intermediate_result(params["x"] * step / 3)
nni.report_final_result(params["x"])
"""


def _run_study(directory: Path, name: str, trials: int, objective: tuple[str, str]) -> float:
    """Seconds for ``trials`` trials of a fresh study run by hpo's Worker in this process."""
    from hpo.storage import open_storage
    from hpo.study import Overrides, build_spec, create_study, parse_config
    from hpo.worker import Worker

    url = f"sqlite:///{directory / (name + '.db')}"
    config = {
        "config": {"experimentName": name, "maxTrialNum": trials, "checkpoint_dir": "trials"},
        "search_space": SPACE,
    }
    spec, _ = build_spec(
        parse_config(config, base_dir=str(directory)),
        Overrides(
            sampler="random",
            pruner="none",
            objective=objective[1] if objective[0] == "objective" else None,
            command=objective[1] if objective[0] == "command" else None,
        ),
        cwd=str(directory),
    )
    store = open_storage(url)
    create_study(store, spec)
    started = time.perf_counter()
    Worker(open_storage(url), name).run()
    return time.perf_counter() - started


def _seconds(command: list[str], env: dict[str, str], repeats: int = 10) -> float:
    """Median seconds of a command (process start and what it does)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    from hpo.objectives.command import SHIM

    per_trial: dict[str, list[float]] = {"function": [], "command": []}
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / "trial_fn.py").write_text(FUNCTION)
        (directory / "trial.py").write_text(COMMAND)
        objectives = {
            "function": ("objective", "trial_fn.py:run"),
            "command": ("command", "python3 trial.py"),
        }
        for round_number in range(args.rounds):
            for kind, objective in objectives.items():
                seconds = _run_study(directory, f"{kind}{round_number}", args.trials, objective)
                per_trial[kind].append(1000 * seconds / args.trials)
        env = {**os.environ, "PYTHONPATH": str(SHIM), "NNI_SYS_DIR": tmp}
        bare = _seconds([sys.executable, "-c", "pass"], env)
        shim = _seconds([sys.executable, "-c", "import nni"], env)
    function_ms = statistics.median(per_trial["function"])
    command_ms = statistics.median(per_trial["command"])
    print(f"machine: {os.cpu_count()} CPUs; {args.trials} trials × {args.rounds} rounds each")
    print(f"{'objective':<10} {'ms per trial (median of rounds)':>32}  rounds")
    for kind, values in per_trial.items():
        rounds = ", ".join(f"{v:.0f}" for v in values)
        print(f"{kind:<10} {statistics.median(values):>32.1f}  {rounds}")
    print(f"a command trial adds {command_ms - function_ms:.1f} ms per trial", end="")
    print(f" ({command_ms / function_ms:.1f}× the function trial's bookkeeping)")
    print(f"  of which: starting Python {1000 * bare:.1f} ms, importing the nni shim ", end="")
    print(f"{1000 * (shim - bare):.1f} ms; the rest is the guard, the files and the metric polls")
    print(json.dumps({"function_ms": function_ms, "command_ms": command_ms}))


if __name__ == "__main__":
    main()
