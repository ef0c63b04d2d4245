"""winback: a retention assistant.

Layers import one way only: ui/cli -> assistant -> tools -> model -> data -> config.
"""

__version__ = "0.1.0"
