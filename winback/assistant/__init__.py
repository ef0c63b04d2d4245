"""The agent loop, conversation memory and routing (built on top of `winback.tools`)."""
