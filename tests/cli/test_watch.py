"""``hpo status --watch`` in a terminal (a pseudo-terminal) and ``hpo trials --watch`` in a
pipe, while a real worker runs a trial whose epochs the test releases one by one."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

from tests.helpers import hpo_create_study, hpo_env, start_hpo, trials, wait_for, write_module
from tests.terminal import in_terminal

#: Epoch 1, then epoch 2 once the file ``epoch2`` exists, then the end once ``finish`` does.
OBJECTIVE = """
import time
from pathlib import Path

def run(params, report):
    report(0.25, 1)
    while not Path("epoch2").exists():
        time.sleep(0.05)
    report(0.5, 2)
    while not Path("finish").exists():
        time.sleep(0.05)
    return 0.5
"""
SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}}
#: A row of the running trial: study, number, worker, epoch, latest value, seconds.
ROW = r"live\s+0\s+{host}\s+{epoch}\s+{value}\s+\d+"


def test_the_watch_redraws_the_running_trial_in_place_and_ctrl_c_ends_it_quietly(
    tmp_path: Path, sqlite_url: str
) -> None:
    write_module(tmp_path, "held", OBJECTIVE)
    config = {"experimentName": "live", "maxTrialNum": 1, "model": "held"}
    hpo_create_study(tmp_path, {"config": config, "search_space": SPACE}, sqlite_url)
    worker = start_hpo("worker", "--study", "live", storage=sqlite_url, cwd=tmp_path)
    host = re.escape(socket.gethostname())
    watchers: list[subprocess.Popen[bytes]] = []
    try:
        wait_for(
            lambda: any(t.intermediate_values for t in trials(sqlite_url, "live")), 120, "epoch 1"
        )
        watch, screen = in_terminal(["status", "--watch", "--interval", "0.3"], hpo_env(sqlite_url))
        watchers.append(watch)
        wait_for(
            lambda: re.search(ROW.format(host=host, epoch=1, value=0.25), screen.text()),
            60,
            "the running trial at epoch 1 on the screen",
        )
        (tmp_path / "epoch2").touch()
        shown = len(screen.text())
        wait_for(
            lambda: re.search(ROW.format(host=host, epoch=2, value=0.5), screen.text()[shown:]),
            60,
            "the same row at epoch 2",
        )
        # Redrawn in place: the cursor goes back up over the table, no screen scrolls by.
        assert re.search(r"\x1b\[\d*A", screen.text()), screen.text()[-2000:]
        os.write(screen.master, b"\x03")  # Ctrl-C, through the terminal
        assert watch.wait(timeout=60) == 0
        assert "error" not in screen.text() and "Traceback" not in screen.text()

        # Not a terminal: each refresh printed in full, no cursor movement.
        piped = subprocess.Popen(
            [sys.executable, "-m", "hpo", "trials", "live", "--watch", "--interval", "0.3"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=hpo_env(sqlite_url),
        )
        watchers.append(piped)
        assert piped.stdout is not None
        refreshes = 0
        lines = []
        while refreshes < 2:
            line = piped.stdout.readline().decode()
            assert line, f"hpo trials --watch ended: {piped.communicate(timeout=60)}"
            lines.append(line)
            refreshes += bool(re.search(ROW.format(host=host, epoch=2, value=0.5), line))
        piped.send_signal(signal.SIGINT)
        out, err = piped.communicate(timeout=60)
        assert piped.returncode == 0, err
        assert "\x1b" not in "".join(lines) + out.decode()
        assert sum(line.startswith("-- ") for line in lines) >= 2
    finally:
        for process in watchers:  # a watch that did not end as it should
            if process.poll() is None:
                process.kill()
                process.wait()
        (tmp_path / "epoch2").touch()
        (tmp_path / "finish").touch()
        worker.wait(timeout=120)
    assert worker.returncode == 0
