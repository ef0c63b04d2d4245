"""The base of errors that are the user's to fix: the CLI prints them as one line, the agent as a message."""


class UserError(Exception):
    """A problem with input, data or setup, stated in one line (not a bug in winback)."""
