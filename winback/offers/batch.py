"""Drafting for the top-N at-risk customers at once: concurrent requests (so vLLM batches them), resumable
(customers with an offer inside the cooldown are skipped, so a re-run completes a batch without
duplicates), and a summary of what happened to each."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from winback.data.lookups import AtRiskArgs, at_risk_customers
from winback.data.schema import Offer
from winback.offers.drafting import Channel, DraftOutcome, OfferDrafter


@dataclass
class BatchReport:
    asked: int = 0
    drafted: int = 0
    already_offered: int = 0  # skipped: an offer inside the cooldown (e.g. from an earlier run)
    no_offer: Counter[str] = field(default_factory=Counter)  # policy reasons
    sources: Counter[str] = field(default_factory=Counter)  # llm / llm_repaired / template
    languages: Counter[str] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0
    outcomes: list[DraftOutcome] = field(default_factory=list)

    @property
    def first_try_valid_share(self) -> float | None:
        return self.sources["llm"] / self.drafted if self.drafted else None

    @property
    def model_written_share(self) -> float | None:
        """Drafts whose personal part the model wrote, at the first try or after a repair."""
        return (self.sources["llm"] + self.sources["llm_repaired"]) / self.drafted if self.drafted else None


def reason_kind(reason: str) -> str:
    for fragment, kind in (
        ("worth", "no offer worth its cost"),
        ("cooldown", "offer inside the cooldown"),
        ("not eligible", "no eligible offer type"),
        ("no offer type", "no eligible offer type"),
        ("closed", "account closed"),
        ("no churn score", "not scored"),
    ):
        if fragment in reason:
            return kind
    return reason


def recently_offered(engine: Engine, customer_ids: list[str], cooldown_days: int, now: datetime) -> set[str]:
    with engine.connect() as connection:
        return set(
            connection.scalars(
                select(Offer.customer_id).where(
                    Offer.customer_id.in_(customer_ids),
                    Offer.status != "rejected",
                    Offer.created_at > now - timedelta(days=cooldown_days),
                )
            )
        )


def draft_batch(
    engine: Engine,
    drafter: OfferDrafter,
    top: int,
    segment: str | None = None,
    channel: Channel = "email",
    concurrency: int = 8,
    actor: str = "assistant",
    progress: Callable[[DraftOutcome | None], None] | None = None,
    language: str | None = None,
) -> BatchReport:
    started = time.perf_counter()
    # ranked by revenue at risk: the customers whose loss costs most are the ones an offer can pay for
    ranked = at_risk_customers(
        engine, AtRiskArgs(segment=segment, limit=top, sort="revenue_at_risk"), role="admin"
    ).rows
    report = draft_for_customers(
        engine, drafter, [r.customer_id for r in ranked], channel, concurrency, actor, progress, language
    )
    report.seconds = time.perf_counter() - started
    return report


def draft_for_customers(
    engine: Engine,
    drafter: OfferDrafter,
    ids: list[str],
    channel: Channel = "email",
    concurrency: int = 8,
    actor: str = "assistant",
    progress: Callable[[DraftOutcome | None], None] | None = None,
    language: str | None = None,
    now: datetime | None = None,
) -> BatchReport:
    """Draft for these customers (in this order), skipping those with an offer inside the cooldown."""
    started = time.perf_counter()
    now = (now or datetime.now()).replace(microsecond=0)
    report = BatchReport(asked=len(ids))
    done = recently_offered(engine, ids, drafter.policy.cooldown_days, now)
    report.already_offered = len(done)
    todo = [c for c in ids if c not in done]
    for _ in done:
        if progress:
            progress(None)

    def one(customer_id: str) -> DraftOutcome | None:
        try:
            # a batch drafts offers; a message without an incentive is a person's call, one customer at a time
            return drafter.draft(
                customer_id, channel=channel, actor=actor, language=language, without_incentive=False, now=now
            )
        except Exception as exc:
            report.failed.append(f"{customer_id}: {type(exc).__name__}: {exc}")
            return None

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for outcome in pool.map(one, todo):
            if outcome is not None:
                report.outcomes.append(outcome)
                if outcome.offer_id:
                    report.drafted += 1
                    report.sources[outcome.source or "template"] += 1
                    report.languages[outcome.language] += 1
                    if outcome.note:
                        report.notes[outcome.note.split(" (")[0].split(";")[0]] += 1
                else:
                    report.no_offer[reason_kind(outcome.decision.reason)] += 1
            if progress:
                progress(outcome)
    report.seconds = time.perf_counter() - started
    return report
