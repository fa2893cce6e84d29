"""Paths a user wrote, in a config or on the command line, made absolute (every worker finds
them, whatever its working directory) or refused with the reason: ``~name`` of a user this
machine does not know, a NUL, a name longer than the file system takes were tracebacks."""

from __future__ import annotations

from pathlib import Path


def user_path(text: str, base: str | Path = ".") -> Path:
    """``text`` (``~`` for a home directory) relative to ``base``, as written otherwise (links
    not resolved); ValueError, with a reason to show, when no path can be that."""
    if "\0" in text:
        raise ValueError("a path cannot hold a NUL character")
    try:
        return Path(base) / Path(text).expanduser()
    except RuntimeError:  # Path.expanduser: "Could not determine home directory."
        user = text.split("/", 1)[0]
        raise ValueError(f"{user} is the home directory of no user of this machine") from None


def absolute_path(text: str, base: str | Path = ".") -> Path:
    """``user_path``, absolute and with its links resolved."""
    try:
        return user_path(text, base).resolve()
    except OSError as exc:  # a name longer than the file system takes, a loop of links
        raise ValueError(exc.strerror or str(exc)) from None


def is_directory(path: Path) -> bool:
    """Whether ``path`` is a directory; False where the file system cannot even look it up."""
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False
