"""Fixture shops built once and kept on disk between test runs, keyed by a fingerprint of the code that builds
them: every file of the `winback` package, the test module that holds the builder, the builder's arguments, the
Python version and every installed distribution's version. Change any of those and the shop is built again;
change nothing and a later run (or the other pytest-xdist worker of this one) copies it instead of seeding,
training, scoring and indexing again. A file lock makes the two workers of one run build each shop once.

Tests never use the cached folder itself: the fixtures copy it into their own temporary folder, as they did
when they built it there (so a test that writes cannot change the cache). The cache lives in the checkout,
`.cache/test-shops` (WINBACK_TEST_SHOP_CACHE moves it), so a fresh clone starts without one.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import inspect
import os
import pickle
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("WINBACK_TEST_SHOP_CACHE") or ROOT / ".cache" / "test-shops")
RESULT = "builder-result.pickle"
COMPLETE = ".complete"


@functools.cache
def code_fingerprint() -> str:
    """A hash of what a shop depends on besides its builder: the package's files and the environment."""
    digest = hashlib.sha256(sys.version.encode())
    package = ROOT / "winback"
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    versions = sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions())
    digest.update("\n".join(versions).encode())
    return digest.hexdigest()


def _stem(name: str, params: dict[str, Any]) -> str:
    return name + "".join(f"-{key}{value}" for key, value in sorted(params.items()))


def builder_fingerprint(label: str, build: Callable[..., Any]) -> str:
    """A hash of what `build` makes under `label`: the code fingerprint, the builder's name and its module's
    text (the builder and the settings it uses, e.g. FAST)."""
    module = Path(inspect.getfile(build)).read_bytes()
    text = f"{code_fingerprint()}|{label}|{build.__module__}.{build.__qualname__}"
    return hashlib.sha256(text.encode() + module).hexdigest()


@dataclass(frozen=True)
class CachedShop:
    """A built shop: its folder in the cache (read-only), what the builder returned, and where it was built
    (paths in `result` point there)."""

    folder: Path
    result: Any
    built_in: Path

    def copy_to(self, target: Path) -> Path:
        """A private copy at `target` (which must not exist yet) that a test may open and change."""
        shutil.copytree(self.folder, target, ignore=shutil.ignore_patterns(COMPLETE, RESULT))
        return target

    def rebased(self, path: Path, copy: Path) -> Path:
        """`path` (under the folder the shop was built in) in the copy at `copy`."""
        return copy / path.relative_to(self.built_in)


def cached_shop(name: str, build: Callable[..., Any], **params: Any) -> CachedShop:
    """The shop `build(folder, **params)` makes, built on first use (once for all workers of a run) or read
    from the cache."""
    stem = _stem(name, params)
    target = CACHE / f"{stem}-{builder_fingerprint(stem, build)[:16]}"
    if not (target / COMPLETE).exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{target}.lock"):
            if not (target / COMPLETE).exists():
                _build(target, build, params)
                _forget_older(stem, keep=target)
    result, built_in = pickle.loads((target / RESULT).read_bytes())
    return CachedShop(target, result, built_in)


def _build(target: Path, build: Callable[..., Any], params: dict[str, Any]) -> None:
    building = target.with_name(f"{target.name}.building")
    shutil.rmtree(building, ignore_errors=True)
    shutil.rmtree(target, ignore_errors=True)
    building.mkdir(parents=True)
    result = build(building, **params)
    (building / RESULT).write_bytes(pickle.dumps((result, building)))
    building.rename(target)
    (target / COMPLETE).touch()


def _forget_older(stem: str, keep: Path) -> None:
    """The same shop built from older code is never used again: remove it."""
    for old in CACHE.glob(f"{stem}-*"):
        if old.is_dir() and old != keep and old.name.rsplit("-", 1)[0] == stem:
            shutil.rmtree(old, ignore_errors=True)
            Path(f"{old}.lock").unlink(missing_ok=True)
