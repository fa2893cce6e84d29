"""Trial scripts as NNI users write them, for the command-objective tests.

Each writes what it did into its trial directory (``NNI_OUTPUT_DIR``), so that a test can
check that the user's command ran and that the study stored exactly what it reported.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

#: NNI's MNIST example, on scikit-learn's digits: NNI's calls only, unchanged.
DIGITS = """
import json, os
import nni
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split

params = nni.get_next_parameter()
x, y = load_digits(return_X_y=True)
xtr, xva, ytr, yva = train_test_split(x / 16.0, y, test_size=0.3, random_state=0)
clf = SGDClassifier(alpha=params["alpha"], random_state=0)
reported = []
for epoch in range(int(params["epochs"])):
    clf.partial_fit(xtr, ytr, classes=np.arange(10))
    score = clf.score(xva, yva)
    nni.report_intermediate_result(np.float64(score))  # NumPy scalars, as scripts report
    reported.append(float(score))
final = float(clf.score(xva, yva))
record = {
    "params": params,
    "types": {k: type(v).__name__ for k, v in params.items()},
    "intermediate": reported,
    "final": final,
    "trial_id": nni.get_trial_id(),
    "experiment_id": nni.get_experiment_id(),
    "sequence_id": nni.get_sequence_id(),
    "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"),
    "hpo_params": json.loads(os.environ["HPO_PARAMS"]),
}
with open(os.path.join(os.environ["NNI_OUTPUT_DIR"], "reported.json"), "w") as f:
    json.dump(record, f)
nni.report_final_result({"default": final, "n_epochs": len(reported)})
"""

DIGITS_SPACE = {
    "alpha": {"_type": "loguniform", "_value": [1e-5, 1e-1]},
    "hidden": {"_type": "choice", "_value": [16, 32, 64]},
    "epochs": {"_type": "quniform", "_value": [2, 4, 1]},
}

#: Reports 0.0 for ever, ignoring SIGTERM: only SIGKILL ends it.
STUBBORN = """
import os, signal, time
import nni
signal.signal(signal.SIGTERM, signal.SIG_IGN)
nni.get_next_parameter()
with open(os.path.join(os.environ["NNI_OUTPUT_DIR"], "pid"), "w") as f:
    f.write(str(os.getpid()))
while True:
    nni.report_intermediate_result(0.0)
    time.sleep(0.2)
"""

#: Fails as a user's script does.
CRASHING = """
import sys
print("loading the data")
sys.stderr.write("FileNotFoundError: /data/food11 is missing\\n")
sys.exit(3)
"""

#: Reports an intermediate result and exits 0 without a final one.
NO_FINAL = """
import nni
nni.get_next_parameter()
nni.report_intermediate_result(0.5)
"""

#: Sleeps past any time limit, after writing its PID.
SLEEPER = """
import os, time
with open(os.path.join(os.environ["NNI_OUTPUT_DIR"], "pid"), "w") as f:
    f.write(str(os.getpid()))
while True:
    time.sleep(0.2)
"""

#: Resumes from its own state file; the first attempt holds at epoch 2 (to be killed there).
#: On SIGTERM it notes the signal and exits without a final result.
RESUMING = """
import json, os, signal, sys, time
import nni

out = os.environ["NNI_OUTPUT_DIR"]
retry = os.environ["HPO_RETRY"]

def on_term(signum, frame):
    open(os.path.join(out, "sigterm-" + retry), "w").close()
    sys.exit(0)

signal.signal(signal.SIGTERM, on_term)
params = nni.get_next_parameter()
state = os.path.join(out, "state.json")
start = json.load(open(state))["epoch"] if os.path.exists(state) else 0
with open(os.path.join(out, "pid-" + retry), "w") as f:
    f.write(str(os.getpid()))
for epoch in range(start, 4):
    if epoch == 2 and retry == "0":
        while True:
            time.sleep(0.1)
    nni.report_intermediate_result(epoch / 10, step=epoch + 1)  # resumed: its own epoch
    with open(state, "w") as f:
        json.dump({"epoch": epoch + 1}, f)
nni.report_final_result({"default": params["x"], "resumed_from": start})
"""

#: Silent for longer than the grace period, then done.
SILENT = """
import os, time
import nni
params = nni.get_next_parameter()
open(os.path.join(os.environ["NNI_OUTPUT_DIR"], "started"), "w").close()
while not os.path.exists(os.path.join(os.environ["NNI_CODE_DIR"], "go")):
    time.sleep(0.1)
nni.report_final_result(params["x"])
"""

#: Not Python's shim: the params from HPO_PARAMS, results as '@hpo' lines on stdout.
PLAIN = """
import fcntl, json, os
params = json.loads(os.environ["HPO_PARAMS"])
value = -(params["x"] - 0.3) ** 2 - (params["y"] - 0.6) ** 2
for step in range(1, 4):
    print("@hpo intermediate", json.dumps({"default": value * (4 - step), "step_x": step}))
with open(os.path.join(os.environ["NNI_CODE_DIR"], "ran.log"), "a") as f:
    fcntl.flock(f, fcntl.LOCK_EX)
    f.write(json.dumps({"trial": int(os.environ["HPO_TRIAL_NUMBER"]), "params": params}) + "\\n")
print("@hpo final", value)
"""


def write_script(directory: Path, name: str, source: str) -> Path:
    path = directory / name
    path.write_text(source.lstrip())
    return path


def reported(log_path: str) -> dict[str, Any]:
    """What a DIGITS trial wrote beside its log."""
    data: dict[str, Any] = json.loads((Path(log_path).parent / "reported.json").read_text())
    return data


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for this purpose (its parent has not reaped it yet).
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False
