"""The exact terms of an offer, in words: the only offer a message may state."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime


def format_day(when: datetime) -> str:
    return f"{when.day} {when:%B %Y}"  # 23 December 2026


@dataclass(frozen=True)
class OfferTerms:
    offer_type: str
    value: float
    currency: str
    code: str | None  # None for a personal call: nothing to redeem
    valid_until: datetime

    @property
    def value_text(self) -> str:
        """The figure as a message must write it (checked verbatim)."""
        if self.offer_type == "percent_discount":
            return f"{self.value:g}%"
        if self.offer_type == "loyalty_points":
            return f"{self.value:,.0f} loyalty points"
        if self.offer_type == "free_shipping":
            return "free shipping"
        if self.offer_type == "gift":
            return "a free gift"
        return "a personal call"

    @property
    def what(self) -> str:
        return {
            "percent_discount": f"{self.value_text} off your next order",
            "free_shipping": "free shipping on your next order",
            "loyalty_points": f"{self.value_text} for your account",
            "gift": "a free gift with your next order",
            "personal_call": "a personal call from our support lead, at a time that suits you",
        }[self.offer_type]

    @property
    def how(self) -> str:
        day = format_day(self.valid_until)
        if self.code is None:
            return f"reply to this message before {day} and we will call you"
        if self.offer_type == "loyalty_points":
            return f"enter the code {self.code} in your account before {day} and the points are yours"
        if self.offer_type == "gift":
            return f"use the code {self.code} at checkout before {day} and we will add the gift to your parcel"
        return f"use the code {self.code} at checkout before {day}"

    def sentence(self) -> str:
        return f"{self.what[0].upper()}{self.what[1:]}: {self.how}."

    def required_phrases(self) -> list[str]:
        """What every message for this offer must contain, verbatim (case-insensitive)."""
        phrases = [self.value_text]
        if self.code:
            phrases.append(self.code)
        return phrases


def redeem_code(offer_id: str) -> str:
    return "WB-" + hashlib.sha256(offer_id.encode()).hexdigest()[:6].upper()
