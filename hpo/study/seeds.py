"""Seeds derived from the study seed.

Every random stream in a study descends from the one seed stored in its spec: worker ``i``
samples with ``derive_seed(study_seed, "worker", i)`` and trial ``n`` trains with
``derive_seed(study_seed, "trial", n)``. Distinct inputs give independent streams (a hash of
the three), so parallel workers never repeat each other, and a study can be rerun.
"""

from __future__ import annotations

import hashlib
import secrets


def derive_seed(study_seed: int, purpose: str, index: int) -> int:
    """A 31-bit seed for ``purpose`` number ``index`` of the study seeded with ``study_seed``."""
    data = f"{study_seed}:{purpose}:{index}".encode()
    # blake2b rather than NumPy's SeedSequence: this module stays importable without NumPy and
    # the result is the same on every platform and Python version.
    digest = hashlib.blake2b(data, digest_size=8).digest()
    return int.from_bytes(digest, "little") % (2**31 - 1)


def new_study_seed() -> int:
    """A fresh seed for a study created without one."""
    return secrets.randbelow(2**31 - 1)
