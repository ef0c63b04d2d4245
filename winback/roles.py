"""Who may do what: the four roles of the product and the personal-data rule, enforced in code.

Roles travel with every call (CLI option, logged-in UI user, agent session); no prompt can change them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from winback.errors import UserError


class Role(StrEnum):
    CS_STAFF = "cs_staff"  # customer-success staff: lists, drivers, themes; no personal data
    SUPPORT_AGENT = "support_agent"  # talks to customers: sees names and emails, drafts offers
    MANAGER = "manager"  # analytics and free SQL; no personal data
    ADMIN = "admin"  # everything


ROLES_WITH_PII = frozenset({Role.SUPPORT_AGENT, Role.ADMIN})
ROLES_WITH_FREE_SQL = frozenset({Role.MANAGER, Role.ADMIN})  # model-written SQL (run_sql_question)
# win-back offers: drafted by people who see the customer's name (the text greets them), decided by a
# different person with an approver role; nobody approves an offer they drafted or last edited
ROLES_THAT_DRAFT = frozenset({Role.SUPPORT_AGENT, Role.ADMIN})
ROLES_THAT_APPROVE = frozenset({Role.MANAGER, Role.ADMIN})
# campaigns: a manager decides who is targeted (the drafts are theirs, so another approver decides them)
ROLES_THAT_RUN_CAMPAIGNS = frozenset({Role.MANAGER, Role.ADMIN})


class UnknownRole(UserError, ValueError):
    pass


def parse_role(value: str | Role) -> Role:
    try:
        return Role(str(value).strip().lower())
    except ValueError:
        raise UnknownRole(f"unknown role {value!r} (known: {', '.join(r.value for r in Role)})") from None


def may_see_pii(role: str | Role) -> bool:
    return parse_role(role) in ROLES_WITH_PII


def mask_email(email: str) -> str:
    """`jane.doe@example.com` -> `j•••@e•••.com`: enough to recognise a row, not to write to it."""
    local, _, domain = email.partition("@")
    host, dot, tld = domain.rpartition(".")
    if not domain:
        return (local[:1] + "•••") if local else ""
    return f"{local[:1]}•••@{(host or tld)[:1]}•••{dot}{tld if host else ''}"


def mask_name(name: str) -> str:
    """`Jane Doe` -> `J. D.`."""
    return " ".join(f"{part[0]}." for part in name.split() if part) or ""


def name_parts(names: Iterable[str], flags: int = 0) -> re.Pattern[str] | None:
    """The parts of these names longer than one letter (`Jane`, `Doe`) as whole words, longest first; None
    when there are none."""
    parts = sorted({p for name in names for p in (name or "").split() if len(p) > 1}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, parts)) + r")(?!\w)", flags) if parts else None


def mask_name_in_text(text: str, name: str) -> str:
    """Each part of `name` in `text` as its initial (`Dear Jane,` -> `Dear J.,`), for readers of an offer
    who may not see personal data; whole words only, any case."""
    pattern = name_parts([name], re.IGNORECASE)
    if pattern is None:
        return text
    initials = {part.lower(): f"{part[0]}." for part in name.split() if len(part) > 1}
    return pattern.sub(lambda m: initials[m.group(0).lower()], text)
