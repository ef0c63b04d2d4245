"""A reproducible random source built only on `random.Random.random()`.

Python guarantees that `random()` yields the same sequence for the same seed across releases, while
the module's other samplers may change; every draw here is derived from `random()` so a seed gives
the same demo shop, byte for byte, on every machine.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def stream_seed(seed: int, *parts: object) -> int:
    """A 64-bit seed for one independent stream (e.g. one customer), stable across runs and chunkings."""
    key = ":".join([str(seed), *map(str, parts)]).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")


class Rng:
    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed).random

    def uniform(self, low: float = 0.0, high: float = 1.0) -> float:
        return low + (high - low) * self._random()

    def chance(self, probability: float) -> bool:
        return self._random() < probability

    def exponential(self, mean: float) -> float:
        return -mean * math.log(1.0 - self._random())

    def normal(self, mean: float = 0.0, sd: float = 1.0) -> float:
        u1 = 1.0 - self._random()
        u2 = self._random()
        return mean + sd * math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def lognormal(self, median: float, sigma: float) -> float:
        return median * math.exp(self.normal(0.0, sigma))

    def kumaraswamy(self, a: float, b: float) -> float:
        """A Beta-like draw on (0, 1) with a closed-form inverse CDF (one uniform per draw)."""
        return (1.0 - (1.0 - self._random()) ** (1.0 / b)) ** (1.0 / a)

    def integer(self, low: int, high: int) -> int:
        """Uniform integer in [low, high]."""
        return low + int(self._random() * (high - low + 1))

    def choice(self, items: Sequence[T]) -> T:
        return items[int(self._random() * len(items))]

    def weighted(self, items: Sequence[T], cumulative_weights: Sequence[float]) -> T:
        """Pick with precomputed cumulative weights (last one is the total)."""
        target = self._random() * cumulative_weights[-1]
        for item, bound in zip(items, cumulative_weights, strict=True):
            if target < bound:
                return item
        return items[-1]

    def sample(self, items: Sequence[T], k: int) -> list[T]:
        """k distinct items, in the order drawn."""
        pool = list(items)
        out = []
        for _ in range(min(k, len(pool))):
            out.append(pool.pop(int(self._random() * len(pool))))
        return out
