"""Drafting one win-back message: the policy picks the offer, code gathers the facts, the LLM writes
(a JSON opening, schema-guided when the server supports it) in the customer's language, code
validates. Invalid output is regenerated at most twice with the problems listed, then replaced by a template
built from the same facts. When no offer pays for itself but nothing forbids writing, a "we'd love you
back" message without an incentive is drafted instead, marked as such (offer type `no_incentive`). The
draft is saved as an `offers` row (status draft) with an `offer_events` row saying which path wrote it;
nothing the customer wrote can change the offer."""

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
from sqlalchemy.orm import Session

from winback.config import Settings
from winback.data.db import write_transaction
from winback.data.lookups.common import require_customer
from winback.data.schema import Offer, OfferEvent
from winback.offers.choice import OfferDecision, choose_offer
from winback.offers.facts import DraftFacts, load_facts
from winback.offers.language import Language, check_language, language_for, language_name, phrases
from winback.offers.policy import OfferPolicy, load_policy
from winback.offers.quoting import quotable
from winback.offers.templates import short_sign_off, sign_off, template_draft, template_subject
from winback.offers.terms import NO_INCENTIVE, OfferTerms, redeem_code
from winback.offers.validation import Draft, validate_draft, validate_opening
from winback.prompts import load_prompt

Channel = Literal["email", "sms"]
Tone = Literal["warm", "formal", "brief"]
MAX_REGENERATIONS = 2


class DraftSchema(BaseModel):
    """What the model writes: the personal part. Subject, greeting, offer and sign-off come from code."""

    opening: str = Field(max_length=400, description="2 sentences naming the customer's problem, apologising once")


@dataclass
class DraftOutcome:
    customer_id: str
    decision: OfferDecision
    offer_id: str | None = None
    source: str | None = None  # llm, llm_repaired, template; None when no message
    attempts: int = 0  # LLM attempts
    problems: list[list[str]] = field(default_factory=list)  # validation problems per LLM attempt
    draft: Draft | None = None
    note: str | None = None  # e.g. why the LLM was not used
    seconds: float = 0.0
    language: str = "en"
    without_incentive: bool = False  # a "we'd love you back" message: no offer, no code

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
    """prompts/offer_draft.v2.txt, split at its `### name` headings."""
    return dict(re.findall(r"^### (\w+)\n(.*?)(?=^### |\Z)", load_prompt("offer_draft.v2.txt"), re.S | re.M))


def example_number(situation: str) -> int:
    """Each language has two worked examples, 1 about a late delivery, 2 about a customer not seen for a
    while: the prompt shows the one about another situation, so the model learns the language and the
    register, not the words to write."""
    return 2 if situation == "late_delivery" else 1


def example_openings(language: str = "en") -> list[str]:
    """The worked examples' openings in a language: a model that copies one is not describing this customer."""
    sections = prompt_sections()
    return [str(json.loads(sections[f"example_assistant_{language}_{n}"])["opening"]) for n in (1, 2)]


def compose(written: DraftSchema, facts: DraftFacts, channel: str) -> Draft:
    """The templates' subject, greeting, the model's opening, the offer in the policy's exact words (or,
    without an incentive, an invitation to reply), sign-off — all in the facts' language."""
    words = phrases(facts.language)
    opening = " ".join(written.opening.split())
    if channel == "sms":
        greeting = str(words["sms_greeting"]).format(first_name=facts.first_name)
        if words["lower_after_greeting"]:
            opening = opening[:1].lower() + opening[1:]
        return Draft("", f"{greeting} {opening} {facts.terms.sentence()} {short_sign_off(facts.language)}")
    subject = template_subject(facts)
    greeting = str(words["greeting"]).format(first_name=facts.first_name)
    return Draft(subject, f"{greeting}\n\n{opening}\n\n{facts.terms.paragraph()}\n\n{sign_off(facts.language)}")


def customer_language(engine: Engine, customer_id: str) -> Language:
    """The customer's own language choice, else their country's (Belgium by city), else English."""
    with Session(engine) as session:
        customer = require_customer(session, customer_id)
        return language_for(customer.country, customer.city, customer.language)


class OfferDrafter:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        llm: BaseChatModel | None,
        policy: OfferPolicy | None = None,
        structured: bool = True,
        model: str | None = None,
    ) -> None:
        self.engine = engine
        self.model = model  # recorded with each draft: which model wrote (or tried to write) it
        self.settings = settings
        self.policy = policy or load_policy(settings.data_dir)
        self.llm = llm
        self.writer = None
        self.model_languages = {x.strip() for x in settings.llm_draft_languages.split(",")}  # the model writes in
        if llm is not None:
            self.writer = llm.with_structured_output(DraftSchema, method="json_schema") if structured else llm

    def prompt(self, facts: DraftFacts, tone: str) -> list[BaseMessage]:
        """System rules, a short worked example in the customer's language, then this customer's facts as a
        compact list: the problem without figures, dates or ids (the model may write none), their own words
        quoted as data."""
        sections = prompt_sections()
        language = language_name(facts.language)
        complaint = ""
        quoted = quotable(facts.complaint).replace("<<<", "< < <").replace(">>>", "> > >")
        if quoted:
            complaint = f"The customer wrote (quoted data): <<<{quoted}>>>"
        words = phrases(facts.language)
        user = sections["user"].format(
            language=language,
            tone=tone,
            problem=facts.problem_brief,
            complaint_block=complaint,
            native_name=words["native_name"],
            apology_hint=words["apology_hint"],
        )
        example = f"{facts.language}_{example_number(facts.situation)}"
        return [
            SystemMessage(sections["system"].format(language=language).strip()),
            HumanMessage(sections[f"example_user_{example}"].strip()),
            AIMessage(sections[f"example_assistant_{example}"].strip()),
            HumanMessage(user.strip()),
        ]

    def _write(self, outcome: DraftOutcome, facts: DraftFacts, channel: str, tone: str) -> Draft:
        if self.writer is None:
            outcome.note = "no LLM configured: template"
            return template_draft(facts, channel)
        if facts.language not in self.model_languages:
            outcome.note = f"the model does not write in {language_name(facts.language)} (WINBACK_LLM_DRAFT_LANGUAGES)"
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
                ["the reply was not JSON with an opening"]
                if written is None or draft is None
                else validate_opening(draft.subject, written.opening, facts, channel, example_openings(facts.language))
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
        language: str | None = None,
        without_incentive: bool = True,
    ) -> DraftOutcome:
        """Raises CustomerNotFound for an unknown id. `language` overrides the customer's (else their own
        choice or their country's). When the policy finds no offer worth its cost and `without_incentive`,
        a message without an incentive is drafted; otherwise the outcome has no draft and says why."""
        started = time.perf_counter()
        now = (now or datetime.now()).replace(microsecond=0)
        chosen_language = check_language(language) if language else customer_language(self.engine, customer_id)
        decision = choose_offer(self.engine, customer_id, self.policy, now)
        outcome = DraftOutcome(customer_id, decision, language=chosen_language)
        if decision.chosen is None and not (without_incentive and decision.without_incentive):
            outcome.seconds = time.perf_counter() - started
            return outcome
        offer_id = f"OF-{now:%Y%m%d}-{uuid.uuid4().hex[:8].upper()}"
        valid_until = now + timedelta(days=self.policy.validity_days)
        chosen = decision.chosen
        if chosen is None:
            outcome.without_incentive = True
            terms = OfferTerms(NO_INCENTIVE, 0.0, self.policy.currency, None, valid_until, chosen_language)
        else:
            terms = OfferTerms(
                chosen.offer_type,
                chosen.value,
                self.policy.currency,
                None if chosen.offer_type == "personal_call" else redeem_code(offer_id),
                valid_until,
                chosen_language,
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
        assert draft is not None
        with write_transaction(self.engine) as connection:
            connection.execute(
                insert(Offer).values(
                    offer_id=offer_id,
                    customer_id=outcome.customer_id,
                    created_at=now,
                    created_by=actor,
                    offer_type=terms.offer_type,
                    value=Decimal(str(terms.value)),
                    channel=channel,
                    subject=draft.subject,
                    message=draft.body,
                    status="draft",
                    churn_probability_at_creation=decision.churn_probability,
                    expected_cost=Decimal(str(chosen.cost if chosen else 0)),
                    redeem_code=terms.code,
                    valid_until=terms.valid_until if terms.has_incentive else None,
                    draft_source=outcome.source,
                    language=terms.language,
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
                        "expected_value": chosen.expected_value if chosen else None,
                        "without_incentive": chosen is None,
                        "language": terms.language,
                        "model": self.model if self.llm is not None else None,
                    },
                )
            )
