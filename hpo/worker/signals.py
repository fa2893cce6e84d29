"""Stopping a worker gracefully: SIGTERM or Ctrl-C once to stop soon, twice to stop now.

On the first signal the worker stops at the next safe point: between trials at once, inside
a trial at the end of the current epoch (its training state is saved; the trial is queued
again and its retry resumes from that epoch). If the epoch does not end within
``timeout`` seconds, the trial is interrupted where it is and queued again the same way;
either way the worker exits 0.

A second signal stops now: the trial is interrupted where it is, failed with its reason and
queued again (a few storage writes, no waiting for the epoch), and the worker exits
128 + the signal's number; if the trial's result is being recorded, once it is. Nothing is
left RUNNING for another worker's grace period. Between trials it exits at once. A third
signal exits at once whatever it is doing (the trial is then failed and queued again by the
heartbeat check of another worker).

The timeout should stay below the grace that schedulers give before SIGKILL (Kubernetes and
Slurm: 30 s).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType

from hpo.objectives import AttemptInterrupted, AttemptKilled

log = logging.getLogger("hpo.worker")


class WorkerStopping(AttemptInterrupted):
    """Raised at the end of an epoch when the worker has been told to stop.

    A BaseException, so that an objective's ``except Exception`` does not swallow it.
    """


#: Sent by the worker to itself when the stop timeout expires: a real signal, so that it also
#: interrupts a blocking call (time.sleep, a long C operation) in the objective.
INTERRUPT_SIGNAL = signal.SIGUSR1


class GracefulStop:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.signal: int | None = None
        self.signals = 0  # how many stop signals came
        # The worker sets these: while it holds a trial (claimed, not yet recorded), and
        # while that trial can be interrupted (sampling its params, running the objective).
        self.in_trial = False
        self.in_objective = False
        #: ``hpo kill`` reached the running trial: an interrupt now raises AttemptKilled.
        self.killing = False
        self._installed = False
        self._timer: threading.Timer | None = None

    @property
    def requested(self) -> bool:
        return self.signal is not None

    @property
    def exit_code(self) -> int:
        """0 for a graceful stop (or none); 128 + the signal's number for a stop now."""
        return 128 + self.signal if self.signal is not None and self.signals > 1 else 0

    @property
    def name(self) -> str:
        return signal.Signals(self.signal).name if self.signal else ""

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers live in the main thread (tests run workers in threads)
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(INTERRUPT_SIGNAL, self._interrupt)
        self._installed = True

    def uninstall(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(INTERRUPT_SIGNAL, signal.SIG_DFL)
            self._installed = False

    def kill_trial(self) -> bool:
        """``hpo kill`` reached the trial this worker runs in its own process (from another
        thread): interrupt the objective where it is, with AttemptKilled, like the stop
        timeout does (a blocking call, a long epoch). False where no handler is installed (a
        worker in a thread): its next report ends it instead."""
        self.killing = True
        if not self._installed:
            return False
        os.kill(os.getpid(), INTERRUPT_SIGNAL)
        return True

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.signals += 1
        if self.signal is not None:
            self._again(signum)
            return
        self.signal = signum
        log.warning(
            "%s: stopping after the current epoch (at most %.0fs); send it again to exit now",
            signal.Signals(signum).name,
            self.timeout,
        )
        # An objective that never reports (or a very long epoch) is interrupted after the
        # timeout, and its trial queued again like at the end of an epoch.
        self._timer = threading.Timer(self.timeout, os.kill, (os.getpid(), INTERRUPT_SIGNAL))
        self._timer.daemon = True
        self._timer.start()

    def _again(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if self.signals == 2 and self.in_objective:
            log.warning(
                "%s again: queueing the trial again and exiting; a third exits at once", name
            )
            raise WorkerStopping
        if self.signals == 2 and self.in_trial:
            log.warning(
                "%s again: exiting once the trial's result is recorded; a third exits at once", name
            )
            return
        log.warning("%s again: exiting now", name)
        os._exit(128 + signum)

    def _interrupt(self, signum: int, frame: FrameType | None) -> None:
        if self.in_objective and self.killing:
            raise AttemptKilled
        if self.in_objective:
            log.warning("the epoch did not end within %.0fs: interrupting the trial", self.timeout)
            raise WorkerStopping
