"""optuna-dashboard's notes as it stores them: every trial's note in its study's system
attributes (``dashboard:<trial id>:note_ver`` and the body in pieces), read here at once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optuna_dashboard._note import get_note_from_system_attrs

NOTE_VERSION = ":note_ver"


def trial_notes(study_system_attrs: Mapping[str, Any]) -> dict[int, str]:
    """Each trial's note body by trial id, from one read of the study's system attributes."""
    attrs = dict(study_system_attrs)
    ids = set()
    for key in attrs:
        prefix, _, rest = key.partition(":")
        trial, _, tail = rest.partition(":")
        if prefix == "dashboard" and trial.isdigit() and tail == "note_ver":
            ids.add(int(trial))
    return {i: str(get_note_from_system_attrs(attrs, i)["body"]) for i in ids}
