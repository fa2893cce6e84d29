"""The model names hpo checks at create-study (no torch) are the models training builds."""

from __future__ import annotations

from training.config import MODEL_NAMES
from training.models import MODELS


def test_the_torch_free_list_names_every_model() -> None:
    assert sorted(MODEL_NAMES) == sorted(MODELS)
