"""The assistant: planning (router / model), tools through the registry, grounded answers, memory."""

from winback.assistant.agent import Assistant, Event, Turn

__all__ = ["Assistant", "Event", "Turn"]
