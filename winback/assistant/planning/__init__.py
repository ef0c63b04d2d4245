"""Planning has one home: a question goes parse → candidates → decide (rules, or the model where they are
unsure) → build calls, and the trace says each step (pipeline.py has the overview)."""

from winback.assistant.planning.calls import CHANGE_REFUSAL, CLARIFY, RESPOND, Plan, PlannedCall, build_plan
from winback.assistant.planning.candidates import load_intents
from winback.assistant.planning.follow_ups import FOLLOWS
from winback.assistant.planning.pipeline import Planner
from winback.assistant.planning.router import Router
from winback.assistant.planning.rules import refine_intent
from winback.assistant.planning.slots import Vocabulary

__all__ = [
    "CHANGE_REFUSAL",
    "CLARIFY",
    "FOLLOWS",
    "RESPOND",
    "Plan",
    "PlannedCall",
    "Planner",
    "Router",
    "Vocabulary",
    "build_plan",
    "load_intents",
    "refine_intent",
]
