"""What stored text may hold, checked where it enters (import, saving an offer) and again where it leaves
(building an e-mail): one-line fields (names, addresses, subjects, ids, labels) hold no control character at
all, so no CR/LF can start a new mail header or a new line in a file; long text (a message, a review) may
break lines and hold tabs, nothing else of the kind. An e-mail address is one plain `local@domain`, taken as
it is and never "repaired" into another address."""

from __future__ import annotations

import re
import unicodedata

LINE_KEEPS = frozenset("\n\t")  # what long text may hold besides printable characters (CR is normalised)
MAX_ADDRESS = 254  # RFC 5321's path limit less its angle brackets
_BREAKS = frozenset("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
_LOCAL = re.compile(r"[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*")  # RFC 5322 dot-atom, RFC 6531 letters
_LABEL = re.compile(r"(?!-)[^\W_](?:[\w-]{0,61}[^\W_])?", re.UNICODE)


def _is_control(character: str) -> bool:
    # Cc: C0/C1 controls (NUL, CR, LF, ESC, ...); Zl/Zp: Unicode's line and paragraph separators
    return unicodedata.category(character) in ("Cc", "Zl", "Zp")


def control_problem(text: str, long_text: bool = False) -> str | None:
    """None when `text` may be stored; else "contains a hidden line break (U+000A)" or the like, for the caller to
    prefix with the field's name."""
    allowed = LINE_KEEPS if long_text else frozenset()
    if long_text:
        text = text.replace("\r\n", "\n")
    for character in text:
        if _is_control(character) and character not in allowed:
            what = "line break" if character in _BREAKS else "control character"
            return f"contains a hidden {what} (U+{ord(character):04X})"
    return None


def address_problem(address: str) -> str | None:
    """None when `address` is one plain e-mail address (`local@domain.tld`); else why not, in one line."""
    if address != address.strip():
        return "the e-mail address starts or ends with a space"
    problem = control_problem(address)
    if problem:
        return "the e-mail address " + problem
    if len(address) > MAX_ADDRESS or address.count("@") != 1:
        return "not a valid e-mail address (expected one address, like name@example.com)"
    local, domain = address.split("@")
    if len(local) > 64 or not _LOCAL.fullmatch(local):
        return "not a valid e-mail address (the part before @ has spaces or characters an address cannot have)"
    labels = domain.rstrip(".").split(".") if domain else []
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return "not a valid e-mail address (the part after @ is not a domain name)"
    return None


def not_utf8(error: UnicodeDecodeError) -> str:
    """Where a file that is not UTF-8 first fails, as a person finds it in an editor."""
    before = bytes(error.object[: error.start])
    line = before.count(b"\n") + 1
    column = len(before) - (before.rfind(b"\n") + 1) + 1
    return f"not saved as UTF-8 (the first unreadable character is on line {line}, column {column}); save it as UTF-8"
