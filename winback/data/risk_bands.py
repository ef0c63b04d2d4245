"""The four risk bands, defined once: their names (a type for pydantic arguments and a tuple for loops),
the probability each starts at, and which count as high risk. The database's check constraint, the
model's banding, the lookups, the tools' arguments, the router and the screens all read them from here.
(Migration 0001 spells the names out: a migration is frozen history and must not follow later edits.)"""

from __future__ import annotations

from typing import Literal, get_args

RiskBand = Literal["low", "medium", "high", "critical"]
RISK_BANDS: tuple[RiskBand, ...] = get_args(RiskBand)
BAND_STARTS: dict[RiskBand, float] = {"low": 0.0, "medium": 0.3, "high": 0.5, "critical": 0.7}
"""A band starts at its probability: low < 0.3 <= medium < 0.5 <= high < 0.7 <= critical."""
HIGH_RISK_BANDS: tuple[RiskBand, ...] = ("high", "critical")


def risk_band(probability: float) -> RiskBand:
    band: RiskBand = RISK_BANDS[0]
    for name in RISK_BANDS:
        if probability >= BAND_STARTS[name]:
            band = name
    return band
