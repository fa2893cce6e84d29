"""``hpo worker --gpus``: one worker process per GPU (or several), kept alive.

Each child is a plain ``hpo worker`` with ``CUDA_VISIBLE_DEVICES`` set to its GPU, so it sees
one device and keeps its data set and model code warm from trial to trial. A child that dies
(killed by the kernel for memory, a crashed driver) is started again after a pause; a child
that ends cleanly (budget spent, study stopped) is not, nor one that stopped itself with an
error (exit 1 or 2: trials failing in a row, its data missing). The storage URL reaches each child
through a pipe (``HPO_STORAGE_FD``), never its environment or command line, where the trials
it runs could read it. SIGTERM / Ctrl-C is passed on to every
child (each stops after its current epoch); a second one is passed on too, and they exit now.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import FrameType

from hpo import env
from hpo.errors import HpoError, InvalidInputError
from hpo.objectives.command import detect_gpus
from hpo.storage.credentials import url_pipe

log = logging.getLogger("hpo.gpus")

#: A slot whose child dies this many times within RESTART_WINDOW seconds is given up.
MAX_RESTARTS = 5
RESTART_WINDOW = 120.0
RESTART_PAUSE = 2.0
#: hpo's own exit codes of a worker that decided to stop (``hpo.errors``): never restarted.
STOPPED_ITSELF = (1, 2)


def parse_gpus(value: str) -> list[str]:
    """``all`` → every GPU of the machine; ``0,1,3`` → those."""
    value = value.strip()
    if value == "all":
        gpus = detect_gpus()
        if not gpus:
            raise HpoError(
                "--gpus all: no NVIDIA GPU found on this machine (nvidia-smi lists none)"
            )
        return gpus
    gpus = [g.strip() for g in value.split(",") if g.strip()]
    if not gpus or not all(g.isdigit() for g in gpus):
        raise InvalidInputError(f"--gpus expects all or GPU indices like 0,1, got {value!r}")
    if len(set(gpus)) != len(gpus):
        raise InvalidInputError(f"--gpus lists a GPU twice: {value!r}")
    present = detect_gpus()
    if not present:
        raise HpoError(
            f"--gpus {value}: no NVIDIA GPU found on this machine (nvidia-smi lists none)"
        )
    missing = [g for g in gpus if g not in present]
    if missing:
        raise InvalidInputError(
            f"--gpus {value}: this machine has no GPU {', '.join(missing)} "
            f"(it has {', '.join(present)})"
        )
    return gpus


def local_devices(count: int, gpus_per_worker: int, gpus: Sequence[str]) -> list[str | None]:
    """The GPUs of ``count`` local workers (``hpo run`` with NNI's trialConcurrency): each
    takes ``gpus_per_worker`` of ``gpus`` in turn (shared when there are too few); None for a
    worker that keeps this process's own (no GPUs asked for, or none on this machine)."""
    if not gpus_per_worker or not gpus:
        return [None] * count
    if count * gpus_per_worker > len(gpus):
        log.warning(
            "%d workers × %d GPUs each > %d GPUs: some GPUs are shared",
            count,
            gpus_per_worker,
            len(gpus),
        )
    return [
        ",".join(gpus[(i * gpus_per_worker + j) % len(gpus)] for j in range(gpus_per_worker))
        for i in range(count)
    ]


def cpu_threads_each(slots: Sequence[Slot]) -> int | None:
    """The CPU threads each of several workers that train on this machine's CPU gets: its
    cores shared out, unless the user set ``OMP_NUM_THREADS``. Left alone, every worker's
    PyTorch takes every core, and OpenMP threads that spin-wait for each other on too few
    cores train a small model 3-8 times slower than one thread each (measured on 2 cores)."""
    cpu_workers = sum(1 for s in slots if s.gpu is None)
    if cpu_workers < 2 or "OMP_NUM_THREADS" in os.environ:
        return None
    return max(1, len(os.sched_getaffinity(0)) // cpu_workers)


@dataclass
class Slot:
    gpu: str | None  # CUDA_VISIBLE_DEVICES of its worker (None: this process's own)
    number: int  # 0.. within the GPU (--trials-per-gpu), or among the local workers
    process: subprocess.Popen[bytes] | None = None
    deaths: list[float] = field(default_factory=list)
    done: bool = False
    failed: bool = False

    @property
    def label(self) -> str:
        if self.gpu is None:
            return f"local{self.number}"
        return f"gpu{self.gpu}" if self.number == 0 else f"gpu{self.gpu}.{self.number}"


class Supervisor:
    def __init__(
        self,
        worker_args: list[str],
        gpus: Sequence[str | None],
        per_gpu: int,
        storage_url: str,
    ) -> None:
        if per_gpu < 1:
            raise InvalidInputError(f"--trials-per-gpu must be at least 1, got {per_gpu}")
        self.worker_args = worker_args
        self.storage_url = storage_url
        if all(gpu is None for gpu in gpus):  # local workers: number them all
            self.slots = [Slot(None, n) for n in range(len(gpus) * per_gpu)]
        else:
            self.slots = [Slot(gpu, n) for gpu in gpus for n in range(per_gpu)]
        self.signals = 0
        self.signal: int | None = None  # the last stop signal passed on

    def run(self) -> int:
        """Run the workers until all are done: 0, 1 when some were given up, or 128 + the
        signal's number when a second signal stopped them now (as a single worker exits)."""
        previous = {s: signal.signal(s, self._forward) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            log.info(
                "starting %d workers: %s", len(self.slots), ", ".join(s.label for s in self.slots)
            )
            for slot in self.slots:
                self._start(slot)
            while not all(s.done for s in self.slots):
                time.sleep(0.5)
                for slot in self.slots:
                    self._watch(slot)
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
        failed = [s.label for s in self.slots if s.failed]
        if failed:
            log.error(
                "workers given up (an error, or dying again and again): %s", ", ".join(failed)
            )
            return 1
        if self.signals > 1 and self.signal is not None:
            return 128 + self.signal
        return 0

    def _start(self, slot: Slot) -> None:
        url = url_pipe(self.storage_url)
        child_env = {
            **{k: v for k, v in os.environ.items() if k != env.STORAGE},
            env.STORAGE_FD: str(url),
            env.WORKER_LABEL: slot.label,
            "PYTHONUNBUFFERED": "1",
        }
        if slot.gpu is not None:
            child_env["CUDA_VISIBLE_DEVICES"] = slot.gpu
        threads = cpu_threads_each(self.slots)
        if threads is not None:
            child_env["OMP_NUM_THREADS"] = str(threads)
        # Each child gets its own process group: a Ctrl-C in the terminal reaches the
        # supervisor only, which passes it on once (and not twice, which would mean "now").
        try:
            slot.process = subprocess.Popen(
                [sys.executable, "-m", "hpo", *self.worker_args],
                env=child_env,
                start_new_session=True,
                pass_fds=(url,),
            )
        finally:
            os.close(url)

    def _watch(self, slot: Slot) -> None:
        if slot.done or slot.process is None:
            return
        code = slot.process.poll()
        if code is None:
            return
        if code == 0 or self.signals:
            slot.done = True
            return
        if code in STOPPED_ITSELF:
            # It stopped for a reason it gave in one line (trials failing in a row, data
            # missing, the study deleted): starting it again would only repeat that.
            log.error("worker %s stopped with code %d: not starting it again", slot.label, code)
            slot.done = slot.failed = True
            return
        now = time.monotonic()
        slot.deaths = [t for t in slot.deaths if now - t < RESTART_WINDOW] + [now]
        if len(slot.deaths) > MAX_RESTARTS:
            log.error(
                "worker %s died %d times in %.0fs: giving up on it",
                slot.label,
                len(slot.deaths),
                RESTART_WINDOW,
            )
            slot.done = slot.failed = True
            return
        log.warning("worker %s exited with code %d: starting it again", slot.label, code)
        time.sleep(RESTART_PAUSE)
        self._start(slot)

    def _forward(self, signum: int, frame: FrameType | None) -> None:
        self.signals += 1
        self.signal = signum
        name = signal.Signals(signum).name
        if self.signals == 1:
            log.warning("%s: passing it on; workers stop after their current epoch", name)
        else:
            log.warning("%s again: workers exit now", name)
        for slot in self.slots:
            if slot.process is not None and slot.process.poll() is None:
                slot.process.send_signal(signum)
