"""Customer-written text (reviews, tickets, imported rows) made inert before any screen renders it as
Markdown: no HTML, no images (tracking pixels), no links, no emphasis or headings that could pose as the
product's own words. The words stay readable; only their power to render is taken away."""

from __future__ import annotations

import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>])")
_LINKISH = re.compile(r"(?i)\b(https?|ftp|file|javascript|data|mailto)(:)|\b(www)(\.)")
ZERO_WIDTH = "\u200b"


def inert(text: str) -> str:
    """`text` as Markdown that renders exactly these characters: HTML escaped, Markdown syntax escaped,
    URLs broken so no renderer turns them into links (a zero-width space after the scheme or `www`)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return _defang(text)


def _defang(text: str) -> str:
    """`https://x` -> `https:\u200b//x`, `www.x` -> `www\u200b.x`: no linkifier matches them."""
    return _LINKISH.sub(lambda m: f"{m.group(1)}:{ZERO_WIDTH}" if m.group(1) else f"www{ZERO_WIDTH}.", text)


def inert_cell(text: str) -> str:
    """A table cell's text: no HTML, images or links, and no `|` to break the table; other characters kept
    (ids and labels such as late_delivery read the same)."""
    text = " ".join(text.split())  # a cell is one line
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "/")
    text = re.sub(r"([\[\]!`*~#])", r"\\\1", text)
    return _defang(text)
