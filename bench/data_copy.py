"""A private copy of a demo data dir for a benchmark that writes (conversations, drafts, planted reviews):
the database and offer policy are copied, the read-only parts (model artefacts, the converted LLM, caches
when asked) are linked. The Chroma index stays where it is: point WINBACK_CHROMA at the original."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path


def copy_data_dir(source: Path, prefix: str, links: tuple[str, ...] = ("models", "llm")) -> Path:
    target = Path(tempfile.mkdtemp(prefix=prefix))
    shutil.copy2(source / "winback.db", target / "winback.db")
    for name in links:
        if (source / name).exists():
            (target / name).symlink_to((source / name).resolve())
    if (source / "offer_policy.toml").exists():
        shutil.copy2(source / "offer_policy.toml", target / "offer_policy.toml")
    return target
