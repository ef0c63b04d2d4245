"""The Gradio chat UI (talks to `winback.assistant` only)."""
