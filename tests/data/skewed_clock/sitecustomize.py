"""Puts this process's wall clock HPO_TEST_CLOCK_SKEW seconds off (a node whose NTP is
broken), for tests of what counts time across machines. On PYTHONPATH only in those tests."""

import os
import time

_skew = float(os.environ.get("HPO_TEST_CLOCK_SKEW", "0"))
_real_time = time.time
_real_time_ns = time.time_ns


def _skewed_time() -> float:
    return _real_time() + _skew


def _skewed_time_ns() -> int:
    return _real_time_ns() + int(_skew * 1e9)


time.time = _skewed_time
time.time_ns = _skewed_time_ns
