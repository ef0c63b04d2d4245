"""The data dir holds personal data (the SQLite file, exports, the audit log, users): only its owner may
read it. Folders are made 0700 and files 0600, whatever the umask; `winback` itself also runs with umask
077 (winback.cli), so every file it writes there starts private."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_UMASK = 0o077


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) if needed; make it 0700 when it is ours."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def private_file(path: Path) -> Path:
    """Create an empty `path` 0600 if it does not exist (never through a symlink), its missing folders 0700;
    tighten the file when it is ours. An existing folder is left as it is (it may be the user's home)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600))
    elif path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return path
