"""Reading a command trial's pipes: its stdout, its stderr, its guard's status lines.

One thread reads them all, line by line, as they come, so that a command never blocks on a
full pipe while the worker waits for its storage. The reading stops when every pipe has
ended, or when the worker stops it: a process outside the trial may hold a pipe open for ever
(one that was handed the pipe and escaped the guard), and the worker must not wait for it.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

#: A line longer than this is passed on in pieces (a command printing binary data).
MAX_LINE = 1 << 20
#: How often the reading thread looks whether it was told to stop.
STOP_POLL = 0.1


def _nothing() -> None:
    return None


@dataclass
class Stream:
    """One pipe to read: what to do with each line (decoded, with its newline) and at its end."""

    fd: int
    on_line: Callable[[str], None]
    on_end: Callable[[], None] = _nothing
    pending: bytes = field(default=b"", repr=False)


class Pump:
    """Reads its streams in a thread of its own until each ends or :meth:`finish` stops it."""

    def __init__(self, streams: list[Stream]) -> None:
        self._streams = streams
        self._stop = threading.Event()
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._read, name="command-output", daemon=True)
        self._thread.start()

    def finish(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for every stream to end, then stop reading and close
        the pipes. True when they all ended (nothing was left unread)."""
        ended = self.done.wait(timeout)
        self._stop.set()
        self._thread.join()
        return ended

    def _read(self) -> None:
        selector = selectors.DefaultSelector()
        try:
            for stream in self._streams:
                selector.register(stream.fd, selectors.EVENT_READ, stream)
            while selector.get_map() and not self._stop.is_set():
                for key, _ in selector.select(STOP_POLL):
                    stream = key.data
                    data = os.read(stream.fd, 65536)
                    if data:
                        self._lines(stream, data)
                    else:
                        selector.unregister(stream.fd)
                        self._end(stream)
            if not selector.get_map():
                self.done.set()
        finally:
            for key in list(selector.get_map().values()):
                selector.unregister(key.fd)
                self._end(key.data)
            selector.close()

    def _lines(self, stream: Stream, data: bytes) -> None:
        stream.pending += data
        *lines, stream.pending = stream.pending.split(b"\n")
        for line in lines:
            stream.on_line((line + b"\n").decode("utf-8", errors="replace"))
        while len(stream.pending) > MAX_LINE:
            piece, stream.pending = stream.pending[:MAX_LINE], stream.pending[MAX_LINE:]
            stream.on_line(piece.decode("utf-8", errors="replace"))

    def _end(self, stream: Stream) -> None:
        with contextlib.suppress(OSError):
            os.close(stream.fd)
        if stream.pending:
            stream.on_line(stream.pending.decode("utf-8", errors="replace"))
            stream.pending = b""
        stream.on_end()
