"""`winback llm prepare|serve|stop|status`: the embedded generator model and its local vLLM server."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from winback.cli.common import JsonFlag, emit_json, note, say
from winback.config import get_settings

llm_app = typer.Typer(help="The generator LLM: the embedded model and its local vLLM server.", no_args_is_help=True)


@llm_app.command("prepare")
def llm_prepare(as_json: JsonFlag = False) -> None:
    """Join, verify and convert the shipped model into the data dir (once; about a minute on 2 cores)."""
    from winback.llm.model_files import prepare_model

    prepared = prepare_model(get_settings().data_dir)
    if as_json:
        emit_json({"folder": str(prepared.folder), "seconds": prepared.seconds})
        return
    took = f"converted in {prepared.seconds:.0f} s" if prepared.seconds else "already prepared"
    say(f"{prepared.folder} ({took})")


@llm_app.command("serve")
def llm_serve(
    foreground: Annotated[bool, typer.Option(help="Stay attached and stop the server on Ctrl-C.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Start the embedded vLLM server on 127.0.0.1 (preparing the model first if needed)."""
    from winback.llm.model_files import prepare_model
    from winback.llm.server import start_server, stop_server

    settings = get_settings()
    prepare_model(settings.data_dir)
    note("starting the embedded LLM server (about a minute on 2 cores)...")
    handle = start_server(settings)
    if as_json:
        emit_json({"base_url": handle.base_url, "pid": handle.pid, "seconds_to_ready": handle.seconds_to_ready})
    elif handle.seconds_to_ready:
        say(
            f"LLM server ready in {handle.seconds_to_ready:.0f} s at {handle.base_url} (pid {handle.pid}, "
            f"log {handle.log})"
        )
    else:
        say(f"an LLM server is already answering at {handle.base_url}; using it")
    if foreground:
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            stop_server(settings)


@llm_app.command("stop")
def llm_stop() -> None:
    """Stop the embedded server started from this data dir."""
    from winback.llm.server import stop_server

    say("stopped" if stop_server(get_settings()) else "no embedded LLM server was running")


@llm_app.command("status")
def llm_status(as_json: JsonFlag = False) -> None:
    """Probe the LLM server: model, context length, tool calling, structured output, tokens/s."""
    from winback.llm.probe import probe

    caps = probe(get_settings())
    if as_json:
        emit_json(caps.to_dict())
    else:
        for key, value in caps.to_dict().items():
            if value is not None:
                say(f"{key:<18} {value}")
    if not caps.reachable:
        raise typer.Exit(3)
