"""The generator LLM: the shipped model's files, the local vLLM server, and the LangChain chat model
the rest of the code talks to (any OpenAI-compatible server)."""
