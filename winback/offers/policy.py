"""The offer policy, loaded from one TOML file: offer types, eligibility, per-segment caps, cooldown and
monthly budget. Code enforces it; no prompt or model output can change it."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from winback.data.plain_text import not_utf8
from winback.data.private import private_file
from winback.data.risk_bands import RiskBand
from winback.errors import UserError

OfferType = Literal["percent_discount", "free_shipping", "loyalty_points", "gift", "personal_call"]
DEFAULT_POLICY = Path(__file__).with_name("default_policy.toml")
POLICY_FILE = "offer_policy.toml"


class PolicyError(UserError, ValueError):
    pass


class OfferRule(BaseModel, extra="forbid"):
    type: OfferType
    value: float = Field(gt=0)
    save_rate_prior: float = Field(gt=0, lt=1)
    requires_opt_in: bool = True
    bands: list[RiskBand] = Field(min_length=1)
    segments: list[str] = Field(default_factory=list)  # empty: every segment
    min_lifetime_value: float = Field(0, ge=0)
    point_value: float = Field(0.01, gt=0)  # loyalty points only
    monthly_limit: int | None = Field(None, ge=0)  # at most this many per calendar month (drafts count): capacity


class OfferPolicy(BaseModel, extra="forbid"):
    currency: str = "EUR"
    monthly_budget: float = Field(gt=0)
    cooldown_days: int = Field(ge=0)
    margin_rate: float = Field(gt=0, le=1)
    validity_days: int = Field(ge=1, le=365)
    min_outcomes: int = Field(30, ge=1)
    outcome_days: int = Field(90, ge=1)  # accepted from older policy files; outcomes now use campaign windows
    holdout_share: float = Field(0.2, ge=0, lt=1)  # of a campaign's cohort, kept out at random to measure lift
    campaign_window_days: int = Field(60, ge=1, le=365)  # a campaign's outcomes count this long after its send
    caps: dict[OfferType, dict[str, float]] = Field(default_factory=dict)
    offers: list[OfferRule] = Field(min_length=1)
    # links, e-mail addresses and phone numbers messages may carry (e.g. the shop's help page); any other is refused
    contacts_allowed: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_rule_per_type(self) -> OfferPolicy:
        types = [o.type for o in self.offers]
        if len(types) != len(set(types)):
            raise ValueError("each offer type may appear once")
        return self

    def rule(self, offer_type: str) -> OfferRule:
        for rule in self.offers:
            if rule.type == offer_type:
                return rule
        raise PolicyError(f"offer type {offer_type!r} is not in the policy")

    def capped_value(self, rule: OfferRule, segment: str) -> float:
        """The rule's value, lowered to the segment's cap for that type (a missing cap means no ceiling)."""
        cap = self.caps.get(rule.type, {}).get(segment)
        return min(rule.value, cap) if cap is not None else rule.value


def load_policy(data_dir: Path) -> OfferPolicy:
    """<data dir>/offer_policy.toml, created from the shipped defaults on first use."""
    path = data_dir / POLICY_FILE
    if not path.is_file():  # 0600 like everything in the data dir (a copy would keep the package's 0644)
        private_file(path).write_bytes(DEFAULT_POLICY.read_bytes())
    return read_policy(path)


def read_policy(path: Path) -> OfferPolicy:
    try:
        return OfferPolicy.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except UnicodeDecodeError as exc:
        raise PolicyError(f"{path}: {not_utf8(exc)}") from None
    except OSError as exc:
        raise PolicyError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PolicyError(f"{path}: {where}: {first['msg']}") from None
