"""Files a run writes (its training state, its model), on a disk that fills up midway.

The disk here is this test's own: every byte past a limit is refused with ENOSPC, as a full
filesystem refuses it (``tests/worker/test_environment_failures.py`` does the same on a real
small filesystem, where the machine lets it mount one).
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest
import torch

from training.checkpoint import save_checkpoint
from training.models import ModelSpec, build_model
from training.state import UnwritableError, read_state, write_state

ROOM = 10_000  # bytes the disk takes before it is full: less than either file needs


class _FullDisk:
    """A file whose writes fail with ENOSPC once ``ROOM`` bytes are written."""

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file
        self._written = 0

    def write(self, data: bytes) -> int:
        self._written += len(data)
        if self._written > ROOM:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self._file.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = Path.open

    def open_on_full_disk(path: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        file = real_open(path, mode, *args, **kwargs)
        return _FullDisk(file) if "w" in mode else file

    monkeypatch.setattr(Path, "open", open_on_full_disk)


def _state(path: Path) -> None:
    write_state(str(path), {"fingerprint": "f", "weights": torch.zeros(100_000)})


def _model(path: Path) -> None:
    spec = ModelSpec(num_classes=10, in_channels=1, resolution=32)
    save_checkpoint(str(path), build_model("simple_cnn", spec), "simple_cnn", spec)


@pytest.mark.parametrize(
    ("write", "what"), [(_state, "training state"), (_model, "model checkpoint")]
)
def test_a_full_disk_is_one_clear_error_naming_the_file_and_leaves_nothing(
    tmp_path: Path, full_disk: None, write: Callable[[Path], None], what: str
) -> None:
    target = tmp_path / "trial-3" / "state.pt"
    with pytest.raises(UnwritableError) as raised:
        write(target)
    # Before: "RuntimeError: [enforce fail at inline_container.cc:672] . unexpected pos …",
    # and the partial temporary file stayed.
    assert str(raised.value) == f"cannot write the {what} {target}: no space left on device"
    assert raised.value.errno == errno.ENOSPC and raised.value.filename == str(target)
    assert list(target.parent.iterdir()) == []


def test_a_state_is_written_whole(tmp_path: Path) -> None:
    target = tmp_path / "trial-3" / "state.pt"
    _state(target)
    state = read_state(str(target), "f", torch.device("cpu"))
    assert state is not None and torch.equal(state["weights"], torch.zeros(100_000))
    assert [p.name for p in target.parent.iterdir()] == ["state.pt"]
