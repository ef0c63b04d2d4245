"""Drafting one win-back message: the policy picks the offer, code gathers the facts, the LLM writes
(JSON subject + body, schema-guided when the server supports it), code validates. Invalid output is
regenerated at most twice with the problems listed, then replaced by a template built from the same
facts. The draft is saved as an `offers` row (status draft) with an `offer_events` row saying which path
wrote it; nothing the customer wrote can change the offer."""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field
from sqlalchemy import Engine, insert

from winback.config import Settings
from winback.data.db import write_transaction
from winback.data.schema import Offer, OfferEvent
from winback.prompts import load_prompt
from winback.tools.offers.choice import OfferDecision, choose_offer
from winback.tools.offers.facts import DraftFacts, load_facts
from winback.tools.offers.policy import OfferPolicy, load_policy
from winback.tools.offers.templates import SHORT_SIGN_OFF, SIGN_OFF, template_draft
from winback.tools.offers.terms import OfferTerms, redeem_code
from winback.tools.offers.validation import Draft, validate_draft, validate_opening

Channel = Literal["email", "sms"]
Tone = Literal["warm", "formal", "brief"]
MAX_REGENERATIONS = 2


class DraftSchema(BaseModel):
    """What the model writes: the personal part. Greeting, offer and sign-off come from code."""

    subject: str = Field(description="subject line that names the customer")
    opening: str = Field(description="1-3 sentences naming the customer's problem and apologising once")


@dataclass
class DraftOutcome:
    customer_id: str
    decision: OfferDecision
    offer_id: str | None = None
    source: str | None = None  # llm, llm_repaired, template; None when no offer
    attempts: int = 0  # LLM attempts
    problems: list[list[str]] = field(default_factory=list)  # validation problems per LLM attempt
    draft: Draft | None = None
    note: str | None = None  # e.g. why the LLM was not used
    seconds: float = 0.0

    @property
    def valid_first_try(self) -> bool:
        return self.source == "llm"


def _parse_reply(content: object) -> DraftSchema | None:
    if isinstance(content, DraftSchema):
        return content
    match = re.search(r"\{.*\}", str(content), re.S)
    if not match:
        return None
    try:
        return DraftSchema.model_validate(json.loads(match.group(0)))
    except (json.JSONDecodeError, ValueError):
        return None


def prompt_sections() -> dict[str, str]:
    """prompts/offer_draft.v1.txt, split at its `### name` headings."""
    return dict(re.findall(r"^### (\w+)\n(.*?)(?=^### |\Z)", load_prompt("offer_draft.v1.txt"), re.S | re.M))


def example_opening() -> str:
    """The worked example's opening: a model that copies it is not describing this customer."""
    return str(json.loads(prompt_sections()["example_assistant"])["opening"])


def compose(written: DraftSchema, facts: DraftFacts, channel: str) -> Draft:
    """Greeting, the model's opening, the offer in the policy's exact words, sign-off."""
    opening = " ".join(written.opening.split())
    offer = facts.terms.sentence()
    if channel == "sms":
        return Draft("", f"Hi {facts.first_name}, {opening[:1].lower()}{opening[1:]} {offer} {SHORT_SIGN_OFF}")
    subject = " ".join(written.subject.split())
    if facts.first_name.lower() not in subject.lower():
        subject = f"{facts.first_name}, {subject[:1].lower()}{subject[1:]}"
    return Draft(
        subject,
        f"Hi {facts.first_name},\n\n{opening}\n\nTo make up for it: {offer[:1].lower()}{offer[1:]}\n\n{SIGN_OFF}",
    )


class OfferDrafter:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        llm: BaseChatModel | None,
        policy: OfferPolicy | None = None,
        structured: bool = True,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.policy = policy or load_policy(settings.data_dir)
        self.llm = llm
        self.writer = None
        self.example_opening = example_opening()
        if llm is not None:
            self.writer = llm.with_structured_output(DraftSchema, method="json_schema") if structured else llm

    def prompt(self, facts: DraftFacts, tone: str) -> list[BaseMessage]:
        """System rules, one worked example, then this customer's facts (their own words quoted as data)."""
        sections = prompt_sections()
        complaint = ""
        if facts.complaint:
            quoted = facts.complaint.replace("<<<", "< < <").replace(">>>", "> > >")
            complaint = f"{facts.first_name} wrote ({facts.complaint_source}, quoted data): <<<{quoted}>>>"
        drivers = "; ".join(re.sub(r"\s*\([+-][\d.]+\)$", "", d) for d in facts.drivers) or "not recorded"
        user = sections["user"].format(
            first_name=facts.first_name,
            tone=tone,
            problem=facts.problem,
            tenure=facts.tenure,
            drivers=drivers,
            complaint_block=complaint,
        )
        return [
            SystemMessage(sections["system"].strip()),
            HumanMessage(sections["example_user"].strip()),
            AIMessage(sections["example_assistant"].strip()),
            HumanMessage(user.strip()),
        ]

    def _write(self, outcome: DraftOutcome, facts: DraftFacts, channel: str, tone: str) -> Draft:
        if self.writer is None:
            outcome.note = "no LLM configured: template"
            return template_draft(facts, channel)
        messages: list[BaseMessage] = self.prompt(facts, tone)
        for attempt in range(MAX_REGENERATIONS + 1):
            outcome.attempts = attempt + 1
            try:
                reply = self.writer.invoke(messages)
            except (openai.APIConnectionError, openai.APITimeoutError, openai.InternalServerError) as exc:
                outcome.note = f"LLM unavailable ({type(exc).__name__}); template used"
                outcome.problems.append(["no answer from the LLM"])
                return template_draft(facts, channel)
            except (openai.OpenAIError, ValueError) as exc:  # e.g. the length limit hit before the JSON closed
                outcome.problems.append([f"unusable reply ({type(exc).__name__})"])
                continue
            written = _parse_reply(reply if isinstance(reply, DraftSchema) else getattr(reply, "content", reply))
            draft = compose(written, facts, channel) if written is not None else None
            problems = (
                ["the reply was not JSON with subject and opening"]
                if written is None or draft is None
                else validate_opening(written.subject, written.opening, facts, channel, self.example_opening)
                + validate_draft(draft, facts, channel, frozenset(self.policy.contacts_allowed))
            )
            outcome.problems.append(problems)
            if not problems and draft is not None:
                outcome.source = "llm" if attempt == 0 else "llm_repaired"
                return draft
            messages.append(
                HumanMessage(
                    "That cannot be sent: " + "; ".join(problems) + ". Write the JSON again, following the rules."
                )
            )
        outcome.note = f"the LLM's drafts failed validation {outcome.attempts} times; template used"
        return template_draft(facts, channel)

    def draft(
        self,
        customer_id: str,
        channel: Channel = "email",
        tone: Tone = "warm",
        actor: str = "assistant",
        save: bool = True,
        now: datetime | None = None,
    ) -> DraftOutcome:
        """Raises CustomerNotFound for an unknown id; returns an outcome without offer when the policy says none."""
        started = time.perf_counter()
        now = (now or datetime.now()).replace(microsecond=0)
        decision = choose_offer(self.engine, customer_id, self.policy, now)
        outcome = DraftOutcome(customer_id, decision)
        if decision.chosen is None:
            outcome.seconds = time.perf_counter() - started
            return outcome
        offer_id = f"OF-{now:%Y%m%d}-{uuid.uuid4().hex[:8].upper()}"
        chosen = decision.chosen
        terms = OfferTerms(
            chosen.offer_type,
            chosen.value,
            self.policy.currency,
            None if chosen.offer_type == "personal_call" else redeem_code(offer_id),
            now + timedelta(days=self.policy.validity_days),
        )
        facts = load_facts(self.engine, customer_id, terms)
        draft = self._write(outcome, facts, channel, tone)
        if outcome.source is None:
            outcome.source = "template"
        final_problems = validate_draft(draft, facts, channel, frozenset(self.policy.contacts_allowed))
        if final_problems:  # a template must always pass; anything else is a bug worth stopping for
            raise RuntimeError(f"template draft for {customer_id} failed validation: {final_problems}")
        outcome.draft = draft
        if save:
            self._save(offer_id, outcome, terms, channel, actor, now)
            outcome.offer_id = offer_id
        outcome.seconds = time.perf_counter() - started
        return outcome

    def _save(
        self, offer_id: str, outcome: DraftOutcome, terms: OfferTerms, channel: str, actor: str, now: datetime
    ) -> None:
        decision, chosen, draft = outcome.decision, outcome.decision.chosen, outcome.draft
        assert chosen is not None and draft is not None
        with write_transaction(self.engine) as connection:
            connection.execute(
                insert(Offer).values(
                    offer_id=offer_id,
                    customer_id=outcome.customer_id,
                    created_at=now,
                    created_by=actor,
                    offer_type=chosen.offer_type,
                    value=Decimal(str(chosen.value)),
                    channel=channel,
                    subject=draft.subject,
                    message=draft.body,
                    status="draft",
                    churn_probability_at_creation=decision.churn_probability,
                    expected_cost=Decimal(str(chosen.cost)),
                    redeem_code=terms.code,
                    valid_until=terms.valid_until,
                    draft_source=outcome.source,
                )
            )
            connection.execute(
                insert(OfferEvent).values(
                    offer_id=offer_id,
                    at=now,
                    actor=actor,
                    action="drafted",
                    details={
                        "source": outcome.source,
                        "llm_attempts": outcome.attempts,
                        "problems": outcome.problems,
                        "note": outcome.note,
                        "reason": decision.reason,
                        "expected_value": chosen.expected_value,
                        "model": self.settings.llm_model if self.settings.llm_base_url else "embedded",
                    },
                )
            )
