"""The resumable training state: one file, written whole or not at all.

A run that finds a state written with the same params (its fingerprint) continues after the
saved epoch; anything else (a torn file, other params) is ignored with a warning and the run
starts afresh.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import torch

log = logging.getLogger("training")


def write_state(path: str, state: dict[str, Any]) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    torch.save(state, tmp)
    tmp.replace(target)  # a reader never sees half a state


def read_state(path: str | None, fingerprint: str, device: torch.device) -> dict[str, Any] | None:
    if not path or not Path(path).exists():
        return None
    try:
        state: dict[str, Any] = torch.load(path, map_location=device, weights_only=False)
    except Exception as exc:
        log.warning("ignoring unreadable training state %s: %s", path, exc)
        return None
    if state.get("fingerprint") != fingerprint:
        log.warning("ignoring training state %s: it belongs to other params", path)
        return None
    return state
