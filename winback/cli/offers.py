"""`winback offers list|draft`: offer history and outcomes, and batch drafting within the policy."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, get_args

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from winback.cli.common import JsonFlag, RoleOption, console, emit_json, engine, err, note, print_tool, say
from winback.config import Settings, get_settings
from winback.errors import UserError
from winback.tools.names import ToolName

if TYPE_CHECKING:
    from winback.llm.backend import LlmBackend

DRAFTING_COLUMNS = (SpinnerColumn(), TextColumn("drafting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


def drafting_backend(settings: Settings, no_llm: bool) -> LlmBackend:
    """The LLM that writes drafts (or none, with --no-llm), saying on stderr what is happening."""
    from winback.llm.backend import LlmBackend, connect_llm

    if no_llm:
        backend = LlmBackend(None, "none", False, "--no-llm: templates only")
    else:
        note("connecting to the LLM (the embedded server takes about a minute to start; --no-llm: templates)...")
        backend = connect_llm(settings, "draft", max_tokens=160)
    if backend.note:
        note(f"note: {backend.note}")
    return backend


offers_app = typer.Typer(
    help="Retention offers: history, outcomes and drafting within the policy.", no_args_is_help=True
)


@offers_app.command("list")
def offers_list(
    customer: Annotated[str | None, typer.Option(help="Only offers to this customer.")] = None,
    status: Annotated[str | None, typer.Option(help="draft, approved, sent, rejected or redeemed.")] = None,
    offer_type: Annotated[str | None, typer.Option("--type", help="Only this kind of offer.")] = None,
    since: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Created on or after.")] = None,
    limit: Annotated[int, typer.Option(help="How many offers to list.")] = 20,
    role: RoleOption = "cs_staff",
    as_json: JsonFlag = False,
) -> None:
    """Offers made so far and how they turned out."""
    args = {
        "customer_id": customer,
        "status": status,
        "offer_type": offer_type,
        "since": since.isoformat() if since else None,
        "limit": limit,
    }
    print_tool(ToolName.OFFER_HISTORY, args, role, as_json)


@offers_app.command("draft")
def offers_draft(
    top: Annotated[
        int, typer.Option(min=1, max=10_000, help="Draft for the N customers with the most revenue at risk.")
    ] = 20,
    segment: Annotated[str | None, typer.Option(help="Only this segment.")] = None,
    channel: Annotated[str, typer.Option(help="email or sms.")] = "email",
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Requests in flight (vLLM batches them).")] = 8,
    actor: Annotated[str, typer.Option(help="Recorded as the drafter.")] = "assistant",
    no_llm: Annotated[bool, typer.Option("--no-llm", help="Templates only, no model.")] = False,
    language: Annotated[
        str | None,
        typer.Option(help="Write every draft in this language (en, fr, de, es, it, nl); default: each customer's."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Draft win-back offers within the policy for the top-N at-risk customers (resumable)."""
    from winback.offers.batch import draft_batch
    from winback.offers.drafting import Channel, OfferDrafter

    channels = get_args(Channel)
    if channel not in channels:
        raise UserError(f"channel must be {' or '.join(channels)}, not {channel!r}")
    checked: Channel = "sms" if channel == "sms" else "email"
    if language is not None:
        from winback.offers.language import check_language

        language = check_language(language)
    settings = get_settings()
    db = engine()
    backend = drafting_backend(settings, no_llm)
    drafter = OfferDrafter(db, settings, backend.llm, structured=backend.structured, model=backend.model)
    try:
        with Progress(*DRAFTING_COLUMNS, console=err, disable=as_json) as bar:
            task = bar.add_task("drafting", total=top)
            report = draft_batch(
                db,
                drafter,
                top,
                segment,
                checked,
                concurrency,
                actor,
                progress=lambda _: bar.advance(task),
                language=language,
            )
    finally:
        backend.close(settings)
    share = report.first_try_valid_share
    if as_json:
        emit_json(
            {
                "asked": report.asked,
                "drafted": report.drafted,
                "written_by": dict(report.sources),
                "languages": dict(report.languages),
                "already_offered": report.already_offered,
                "no_offer": dict(report.no_offer),
                "notes": dict(report.notes),
                "failed": report.failed,
                "llm": backend.kind if backend.llm is not None else None,
                "first_try_valid_share": share,
                "model_written_share": report.model_written_share,
                "seconds": round(report.seconds, 2),
            }
        )
        return
    table = Table("outcome", "customers", title=f"{report.asked} customers in {report.seconds:.0f} s")
    table.add_row("drafted", str(report.drafted))
    for source, n in sorted(report.sources.items()):
        table.add_row(f"  written by {source}", str(n))
    for code, n in report.languages.most_common():
        table.add_row(f"  in {code}", str(n))
    table.add_row("skipped: already have an offer", str(report.already_offered))
    for reason, n in report.no_offer.most_common():
        table.add_row(f"no offer: {reason}", str(n))
    for text, n in report.notes.most_common():
        table.add_row(f"note: {text}", str(n))
    if report.failed:
        table.add_row("failed", str(len(report.failed)))
    console.print(table)
    if share is not None and backend.llm is not None:
        written = report.model_written_share or 0.0
        say(
            f"written by {backend.model} ({backend.kind}): model text valid at first try {share:.0%}, "
            f"after repair {written:.0%}; the rest from templates"
        )
    for failure in report.failed[:5]:
        note(f"failed: {failure}")
