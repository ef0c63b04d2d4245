"""One module per tool the agent can call; each wraps `winback.model` / `winback.data` functions."""
