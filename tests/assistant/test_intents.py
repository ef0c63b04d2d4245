"""The router's intents file and the Intent names agree, and every intent's tool exists."""

from __future__ import annotations

from winback.assistant.intents import Intent
from winback.assistant.planning import load_intents
from winback.tools.names import ToolName


def test_intents_file_matches_the_intent_names() -> None:
    intents = load_intents()
    assert set(intents.names) == set(Intent) - {Intent.CLARIFY}
    for name, tool in intents.tools.items():
        assert tool in set(ToolName) or (name in (Intent.RESPOND, Intent.CHANGE_DATA) and tool == ""), (name, tool)
