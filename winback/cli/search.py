"""`winback index`, `winback search`, `winback themes`: what customers wrote, indexed and searched."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, get_args

import typer

from winback.cli.common import JsonFlag, counting, emit_json, engine, print_tool, say
from winback.config import get_settings
from winback.tools.names import ToolName

commands = typer.Typer()


def feedback_collection(create: bool = True) -> tuple[Any, Any]:
    from winback.search.embeddings import search_embedder
    from winback.search.store import chroma_client, open_collection

    settings = get_settings()
    client = chroma_client(settings)  # a server that is down fails here, before seconds of model loading
    embedder = search_embedder(settings)
    return open_collection(settings, embedder, create=create, client=client), embedder


@commands.command("index")
def index_command(as_json: JsonFlag = False) -> None:
    """Index reviews and support tickets for search (incremental: only new, changed or deleted rows)."""
    from winback.search.indexer import count_sources, index_feedback
    from winback.search.store import open_keyword_index

    db = engine()
    collection, embedder = feedback_collection()
    keyword = open_keyword_index(get_settings())
    with counting("indexing reviews and tickets", count_sources(db)) as advance:
        report = index_feedback(db, collection, embedder, progress=advance, keyword=keyword)
    counts = {
        "added": report.added,
        "updated": report.updated,
        "deleted": report.deleted,
        "unchanged": report.unchanged,
        "skipped_empty": report.skipped_empty,
        "chunks_written": report.chunks_written,
        "text_signals_written": report.signals_written,
        "risk_bands_updated": report.bands_updated,
        "keyword_index_repaired": report.keyword_repaired,
        "embedding_backend": embedder.backend,
        "chunks_in_index": collection.count(),
        "seconds": round(report.seconds, 2),
    }
    if as_json:
        emit_json(counts)
        return
    say(
        f"index: {report.added:,} added, {report.updated:,} updated, {report.deleted:,} deleted, "
        f"{report.unchanged:,} unchanged, {report.skipped_empty:,} empty skipped; {report.chunks_written:,} chunks "
        f"embedded ({embedder.backend}) in {report.seconds:.1f} s ({report.texts_per_second:,.0f} texts/s); "
        f"{counts['chunks_in_index']:,} chunks in the index; topics and sentiment of {report.signals_written:,} "
        f"texts read for the churn model; risk band refreshed on {report.bands_updated:,} unchanged texts"
    )


@commands.command("search")
def search_command(
    query: Annotated[
        str, typer.Argument(help='What to look for, in plain words; ids and "quoted phrases" match exactly.')
    ],
    k: Annotated[int, typer.Option("-k", "--top", min=1, max=100, help="How many results.")] = 10,
    mode: Annotated[str, typer.Option(help="hybrid, semantic or keyword.")] = "hybrid",
    customer: Annotated[str | None, typer.Option(help="Only this customer.")] = None,
    kind: Annotated[str | None, typer.Option(help="review or ticket.")] = None,
    min_rating: Annotated[int | None, typer.Option()] = None,
    max_rating: Annotated[int | None, typer.Option()] = None,
    since: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"])] = None,
    until: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"])] = None,
    segment: Annotated[str | None, typer.Option()] = None,
    risk_band: Annotated[str | None, typer.Option()] = None,
    topic: Annotated[str | None, typer.Option(help="Ticket topic, e.g. refund.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Search reviews and tickets (customer-written text, shown quoted); more filters and modes than the
    assistant's search tool, for people who know what they are after."""
    from winback.search.search import SearchMode, feedback_hits
    from winback.search.store import open_keyword_index

    modes = get_args(SearchMode)
    if mode not in modes:
        raise typer.BadParameter(f"choose {', '.join(modes)}", param_hint="--mode")
    collection, embedder = feedback_collection(create=False)
    values = {
        "customer_id": customer,
        "kind": kind,
        "min_rating": min_rating,
        "max_rating": max_rating,
        "since": since.date() if since else None,
        "until": until.date() if until else None,
        "segment": segment,
        "risk_band": risk_band,
        "topic": topic,
    }
    filters = {key: value for key, value in values.items() if value is not None}
    keyword = open_keyword_index(get_settings(), create=False)
    hits = feedback_hits(collection, embedder, query, filters, k, mode, keyword)  # type: ignore[arg-type]  # checked above
    results = hits.snippets
    if as_json:
        emit_json(
            {
                "results": [{"score": round(r.score, 4), **r.to_dict()} for r in results],
                "stance": hits.stance,
                "matching": hits.matching,
                "matching_low_rated": hits.matching_low_rated,
            }
        )
        return
    if hits.matching is not None or hits.stance != "any":
        say(hits.summary(query))
    if not results:
        say("no matching reviews or tickets")
    for r in results:
        say(f"{r.score:.2f}  {r.quoted()}")


@commands.command("themes")
def themes_command(
    max_rating: Annotated[int, typer.Option(help="Reviews rated at most this count as complaints.")] = 2,
    kind: Annotated[str, typer.Option(help="review or ticket.")] = "review",
    since: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"])] = None,
    segment: Annotated[str | None, typer.Option()] = None,
    risk_band: Annotated[str | None, typer.Option()] = None,
    themes: Annotated[int | None, typer.Option(help="Number of themes (default: chosen by silhouette).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Complaint themes in what a group of customers wrote, with size, trend, quotes and churn rate."""
    args = {
        "kind": kind,
        "max_rating": max_rating,
        "since": since.date().isoformat() if since else None,
        "segment": segment,
        "risk_band": risk_band,
        "themes": themes,
    }
    print_tool(ToolName.COMPLAINT_THEMES, args, "admin", as_json)
