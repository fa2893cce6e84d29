"""Each trial's log, kept with the study: ``hpo logs STUDY TRIAL`` reads it from any machine.

A trial writes its log to ``trial.log`` in its directory: a command's stdout and stderr (the
command objective writes them), or, for the objectives that run in the worker's process (the
built-in training, a Python function), what its code prints and logs (every level, the
training's epochs included), captured here. While the trial runs, the worker appends what the
file gained to the study's database every ``SHIP_EVERY`` seconds (``hpo logs -f`` follows it),
and the rest when the trial ends. A log past ``HEAD_BYTES`` keeps its first ``HEAD_BYTES`` and
its last ``TAIL_BYTES`` (where a failure shows), with a line saying how much was left out.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import TextIO, cast

from hpo.storage import BlobStore
from hpo.study.directories import TRIAL_LOG
from hpo.study.logs import LOG, log_name

log = logging.getLogger("hpo.worker")

LOG_FILE = TRIAL_LOG
SHIP_EVERY = 5.0
HEAD_BYTES = 8 << 20
TAIL_BYTES = 1 << 20
#: The loggers whose records an in-process trial's log captures, besides the objective's own
#: (its ``loggers``): hpo's reporter (at debug level, whatever the console shows) and the
#: root, for the user's own code.
CAPTURED = ("hpo", "")


class _Sink:
    """The log file, written by the capture handler and the stdout/stderr tees alike."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("a", encoding="utf-8", errors="replace")
        self._lock = threading.Lock()
        self._broken = False

    def write(self, text: str) -> None:
        with self._lock:
            if self._broken:
                return
            try:
                self._file.write(text)
                self._file.flush()
                return
            except OSError as exc:  # a full disk: the log stops, the trial goes on
                self._broken = True
                problem = exc
        # Outside the lock: this line comes back here, and finds the sink broken.
        log.warning("the trial's log stops here: %s", problem)

    def close(self) -> None:
        with self._lock, contextlib.suppress(OSError):
            self._file.close()


class _Tee:
    """A stream that writes to the console as before and to the trial's log."""

    def __init__(self, console: TextIO, sink: _Sink) -> None:
        self._console = console
        self._sink = sink

    def write(self, text: str) -> int:
        written = self._console.write(text)
        self._sink.write(text)
        return written

    def flush(self) -> None:
        self._console.flush()

    def __getattr__(self, name: str) -> object:  # fileno, encoding, isatty, … of the console
        return getattr(self._console, name)


class _Handler(logging.Handler):
    def __init__(self, sink: _Sink, thread: int) -> None:
        super().__init__(logging.DEBUG)
        self._sink = sink
        self.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        )
        # The trial's own thread: the worker's other threads (heartbeat, stale-trial watch)
        # log about other things.
        self.addFilter(lambda record: record.thread == thread)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._sink.write(self.format(record) + "\n")
        except Exception:  # a log line must never fail a trial
            self.handleError(record)


class _Capture:
    """An in-process trial's prints and log records, into its log file."""

    def __init__(self, path: Path, loggers: tuple[str, ...]) -> None:
        self._loggers = (*loggers, *CAPTURED)
        self._sink = _Sink(path)
        self._handler = _Handler(self._sink, threading.get_ident())
        self._saved: list[tuple[logging.Logger, int]] = []
        self._console_levels: list[tuple[logging.Handler, int]] = []
        self._streams = (sys.stdout, sys.stderr)

    def start(self) -> None:
        for name in self._loggers:
            logger = logging.getLogger(name)
            self._saved.append((logger, logger.level))
            # The console keeps showing what it showed; the log gets every level.
            for handler in logger.handlers:
                if handler.level == logging.NOTSET:
                    self._console_levels.append((handler, handler.level))
                    handler.setLevel(logger.getEffectiveLevel())
            if name:  # the root keeps its level: every library's debug lines would flood in
                logger.setLevel(logging.DEBUG)
            logger.addHandler(self._handler)
        sys.stdout = cast(TextIO, _Tee(self._streams[0], self._sink))
        sys.stderr = cast(TextIO, _Tee(self._streams[1], self._sink))

    def stop(self) -> None:
        sys.stdout, sys.stderr = self._streams
        for logger, level in self._saved:
            logger.removeHandler(self._handler)
            logger.setLevel(level)
        for handler, level in self._console_levels:
            handler.setLevel(level)
        self._sink.close()


class TrialLog:
    """A trial's log file, captured (in-process objectives) and shipped to the database."""

    def __init__(
        self,
        directory: Path,
        blobs: BlobStore | None,
        trial_id: int,
        study_id: int,
        *,
        capture: tuple[str, ...] | None,
    ) -> None:
        """``capture``: the objective's loggers, for one run in this process (None: a command,
        whose output is its log already)."""
        self.path = directory / LOG_FILE
        self._blobs = blobs
        self._name = log_name(trial_id)
        self._study_id = study_id
        self._loggers = capture
        self._capture: _Capture | None = None
        # A retry in the same directory appends to the earlier attempt's file: ship only this
        # attempt's part (the earlier one was shipped as that trial's log).
        self._offset = self.path.stat().st_size if self.path.exists() else 0
        self._shipped = 0
        self.kept = False  # the whole log is in the study's database
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._ship_periodically, daemon=True)

    def __enter__(self) -> TrialLog:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self._loggers is not None:
            self._capture = _Capture(self.path, self._loggers)
            self._capture.start()
        if self._blobs is not None:
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._capture is not None:
            self._capture.stop()
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()

    def ship(self, *, final: bool = True) -> None:
        """Append what the file gained since the last call to the trial's log in the database
        (``final``: the trial is over, so past HEAD_BYTES its tail goes too)."""
        if self._blobs is None or not self.path.exists():
            return
        with self._lock:
            size = self.path.stat().st_size
            if size < self._offset:  # the file was replaced (a command truncated it)
                self._offset = 0
            end = min(size, self._offset + max(0, HEAD_BYTES - self._shipped))
            data = _read(self.path, self._offset, end)
            left_out = size - end
            if final and left_out > 0:
                tail_start = max(end, size - TAIL_BYTES)
                skipped = tail_start - end
                marker = f"\n[hpo: {skipped} bytes of this log left out]\n" if skipped else ""
                data += marker.encode() + _read(self.path, tail_start, size)
                end = size
            if data:
                self._blobs.append(LOG, self._name, data, self._study_id)
                self._shipped += end - self._offset
                self._offset = end
            self.kept = final

    def _ship_periodically(self) -> None:
        while not self._stopped.wait(SHIP_EVERY):
            try:
                self.ship(final=False)
            except Exception as exc:  # an outage: the next round or the final ship sends it
                log.debug("shipping the trial's log failed: %s", exc)


def _read(path: Path, start: int, end: int) -> bytes:
    if end <= start:
        return b""
    with path.open("rb") as file:
        file.seek(start)
        return file.read(end - start)
