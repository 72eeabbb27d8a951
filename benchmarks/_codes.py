"""Seeded, distinct, valid customer codes shared by the benchmark workloads."""

from __future__ import annotations

import random

import numpy as np

from kam.uscc import make_uscc


def unique_codes(n: int, seed: int) -> np.ndarray:
    """n distinct valid USCCs, the same for the same seed."""
    rnd = random.Random(seed)
    keys: dict[str, None] = {}
    while len(keys) < n:
        keys[make_uscc(rnd)] = None
    return np.array(list(keys), dtype=object)
