"""``nni.utils.merge_parameter``, as NNI trial scripts use it with argparse."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")


def merge_parameter(base_params: T, override_params: Mapping[str, Any] | None) -> T:
    """Set every override on ``base_params`` (an object such as an argparse Namespace, or a
    dict); each must exist there already with the same type, unless its default is None."""
    if override_params is None:
        return base_params
    for key, value in override_params.items():
        if isinstance(base_params, dict):
            if key not in base_params:
                raise ValueError(f"key {key!r} not found in base parameters")
            current = base_params[key]
        else:
            if not hasattr(base_params, key):
                raise ValueError(f"key {key!r} not found in base parameters")
            current = getattr(base_params, key)
        if current is not None and type(current) is not type(value):
            raise TypeError(
                f"expected {key!r} in override parameters to have type "
                f"{type(current).__name__!r}, but found {type(value).__name__!r}"
            )
        if isinstance(base_params, dict):
            base_params[key] = value
        else:
            setattr(base_params, key, value)
    return base_params
