"""The grounding post-check: every figure and id in an answer must appear in what the tools returned
(this turn or earlier in the conversation) or in the question. Whatever does not is flagged; model
prose that fails is not shown."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ID = re.compile(r"\b(?:C-\d+|OF-\d{8}-[0-9A-F]{8}|O-\d+-\d+|T-\d+-\d+|R-\d+-\d+)\b", re.IGNORECASE)
DATE = re.compile(r"\b20\d\d-\d\d-\d\d\b")
VERSION = re.compile(r"\b\d{8}-\d{6}-[0-9a-f]{6}\b")  # model versions: checked as ids would be
NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?%?(?![\w])")


@dataclass
class GroundingReport:
    unsupported_numbers: list[str] = field(default_factory=list)
    unsupported_ids: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.unsupported_numbers or self.unsupported_ids)

    def to_dict(self) -> dict[str, list[str]]:
        return {"unsupported_numbers": self.unsupported_numbers, "unsupported_ids": self.unsupported_ids}


def _values(token: str) -> set[float]:
    text = token.replace(",", "").lstrip("+")
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        return set()
    values = {round(value, 6)}
    if text.endswith("%"):
        values.add(round(value / 100, 6))  # 41.0% may be quoted as 0.41
    return values


def _strip_ids(text: str) -> tuple[str, set[str], set[str]]:
    ids = {m.upper() for m in ID.findall(text)} | {m.lower() for m in VERSION.findall(text)}
    dates = set(DATE.findall(text))
    for pattern in (ID, VERSION, DATE):
        text = pattern.sub(" ", text)
    return text, ids, dates


def _numbers(text: str) -> set[float]:
    found: set[float] = set()
    for token in NUMBER.findall(text):
        found |= _values(token)
    return found


def _rounded_forms(values: set[float]) -> set[float]:
    """A figure may be rounded when quoted: 41.03 as 41.0 or 41, 1,636.52 as 1,637."""
    out = set(values)
    for v in values:
        out |= {round(v, 2), round(v, 1), float(round(v))}
    return out


def check_grounding(answer: str, evidence: list[str], question: str = "") -> GroundingReport:
    source = "\n".join([*evidence, question])
    source_text, source_ids, source_dates = _strip_ids(source)
    known = _rounded_forms(_numbers(source_text))
    answer_text, answer_ids, answer_dates = _strip_ids(answer)
    report = GroundingReport()
    report.unsupported_ids = sorted(
        (answer_ids - {i.upper() for i in source_ids} - {i.lower() for i in source_ids}) | (answer_dates - source_dates)
    )
    for token in NUMBER.findall(answer_text):
        values = _values(token)
        if values and not values & known:
            report.unsupported_numbers.append(token)
    return report
