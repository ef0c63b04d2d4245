"""Who may log in to the web UI, with which role: a TOML file of users and scrypt password hashes
(`<data dir>/users.toml`, or WINBACK_USERS_FILE). The first start creates an `admin` with a random
password, printed once; `winback users add` adds more. Passwords are never stored."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from winback.errors import UserError
from winback.roles import Role, parse_role

# OWASP's password storage cheat sheet (2025): scrypt N=2^17, r=8, p=1 (128 MiB, ~0.3 s here); hashes made
# with older parameters still verify and are rehashed at the next sign-in
SCRYPT = {"n": 2**17, "r": 8, "p": 1}
SCRYPT_MAXMEM = 256 * 1024 * 1024
NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD = 10


class UserStoreError(UserError, ValueError):
    pass


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    password_hash: str
    changed_at: float = 0.0  # when the password or role was last set (time.time()): older sessions end


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **SCRYPT, maxmem=SCRYPT_MAXMEM, dklen=32)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(
        password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), maxmem=SCRYPT_MAXMEM, dklen=32
    )
    return hmac.compare_digest(candidate.hex(), digest)


class UserStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def users(self) -> dict[str, User]:
        if not self.path.is_file():
            return {}
        try:
            spec = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise UserStoreError(f"{self.path}: {exc}") from None
        out = {}
        for name, entry in (spec.get("users") or {}).items():
            out[name] = User(
                name,
                parse_role(entry.get("role", "")),
                str(entry.get("password", "")),
                float(entry.get("changed_at", 0.0)),
            )
        return out

    def _write(self, users: dict[str, User]) -> None:
        lines = ["# winback web UI users: role and scrypt password hash (see `winback users --help`)", ""]
        for user in sorted(users.values(), key=lambda u: u.name):
            lines += [
                f'[users."{user.name}"]',
                f'role = "{user.role.value}"',
                f'password = "{user.password_hash}"',
                f"changed_at = {user.changed_at!r}",
                "",
            ]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".tmp")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write("\n".join(lines))
        partial.chmod(0o600)
        partial.replace(self.path)

    def add(self, name: str, role: str | Role, password: str | None = None, replace: bool = False) -> str:
        """Add (or with `replace`, reset) a user; returns the password (generated when not given)."""
        if not NAME.match(name):
            raise UserStoreError(f"invalid user name {name!r}: letters, digits and _ . @ - only, at most 64")
        users = self.users()
        if name in users and not replace:
            raise UserStoreError(f"user {name!r} exists (use --replace to reset the password or role)")
        password = password or secrets.token_urlsafe(12)
        if len(password) < MIN_PASSWORD:
            raise UserStoreError(f"passwords need at least {MIN_PASSWORD} characters")
        users[name] = User(name, parse_role(role), hash_password(password), time.time())
        self._write(users)
        return password

    def remove(self, name: str) -> None:
        users = self.users()
        if users.pop(name, None) is None:
            raise UserStoreError(f"no user {name!r}")
        self._write(users)

    def authenticate(self, name: str, password: str) -> User | None:
        user = self.users().get(name)
        if user is None:
            hash_password(password)  # same work for unknown names: no timing hint
            return None
        if not verify_password(password, user.password_hash):
            return None
        if not user.password_hash.startswith(f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}$"):
            users = self.users()  # made with older parameters: rehash now, sessions stay (same password)
            users[name] = User(name, user.role, hash_password(password), user.changed_at)
            self._write(users)
        return user

    def ensure_admin(self) -> str | None:
        """On first start: create `admin` with a random password and return it (to print once)."""
        if self.users():
            return None
        return self.add("admin", Role.ADMIN)
