"""The exact terms of an offer, in words of the customer's language: the only offer a message may state.
A message without an incentive ("we'd love you back") has terms too: no value, no code, nothing to state."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from winback.offers.language import DEFAULT_LANGUAGE, format_count, format_day, phrases

NO_INCENTIVE = "no_incentive"  # the offer type of a message that offers nothing


@dataclass(frozen=True)
class OfferTerms:
    offer_type: str
    value: float
    currency: str
    code: str | None  # None for a personal call or no incentive: nothing to redeem
    valid_until: datetime
    language: str = DEFAULT_LANGUAGE

    @property
    def has_incentive(self) -> bool:
        return self.offer_type != NO_INCENTIVE

    @property
    def value_text(self) -> str:
        """The figure as a message must write it (checked verbatim)."""
        words = phrases(self.language)
        if self.offer_type == "percent_discount":
            return str(words["percent"]).format(value=f"{self.value:g}")
        if self.offer_type == "loyalty_points":
            return str(words["value"]["loyalty_points"]).format(n=format_count(self.value, self.language))
        if self.offer_type == NO_INCENTIVE:
            return ""
        return str(words["value"][self.offer_type])

    @property
    def what(self) -> str:
        if not self.has_incentive:
            return ""
        return str(phrases(self.language)["what"][self.offer_type]).format(value=self.value_text)

    @property
    def how(self) -> str:
        if not self.has_incentive:
            return ""
        how = phrases(self.language)["how"]
        template = how["personal_call"] if self.code is None else how.get(self.offer_type, how["code"])
        return str(template).format(code=self.code, day=format_day(self.valid_until, self.language))

    def sentence(self) -> str:
        """The offer as one sentence (SMS, the offer paragraph of a composed message)."""
        if not self.has_incentive:
            return str(phrases(self.language)["no_incentive_sms"])
        return str(phrases(self.language)["sms_offer"]).format(
            What=self.what[:1].upper() + self.what[1:], what=self.what, how=self.how
        )

    def paragraph(self) -> str:
        """The offer paragraph of an e-mail, in the policy's exact words."""
        words = phrases(self.language)
        if not self.has_incentive:
            return str(words["no_incentive_line"])
        return str(words["offer_line"]).format(what=self.what, how=self.how)

    def required_phrases(self) -> list[str]:
        """What every message for this offer must contain, verbatim (case-insensitive)."""
        phrases_ = [self.value_text] if self.value_text else []
        if self.code:
            phrases_.append(self.code)
        return phrases_


def redeem_code(offer_id: str) -> str:
    return "WB-" + hashlib.sha256(offer_id.encode()).hexdigest()[:6].upper()


__all__ = ["NO_INCENTIVE", "OfferTerms", "format_day", "redeem_code"]
