"""The offer engine's tests use the tool tests' small critical-risk shop."""

from tests.tools.conftest import shop

__all__ = ["shop"]
