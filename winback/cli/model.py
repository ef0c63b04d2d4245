"""`winback train`, `winback score`, `winback drivers`: the churn model."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from winback.cli.common import JsonFlag, console, emit_json, engine, print_tool, progress, run_tool, say
from winback.config import get_settings
from winback.errors import UserError
from winback.tools.names import ToolName

commands = typer.Typer()
METRICS = [
    ("roc_auc", "ROC-AUC"),
    ("pr_auc", "PR-AUC"),
    ("brier", "Brier score"),
    ("ece", "expected calibration error"),
    ("top_decile_lift", "top-decile lift"),
    ("positive_rate", "churn rate"),
]


@commands.command("train")
def train_command(
    horizon: Annotated[int, typer.Option(min=7, help="Churn = no order in this many days after a cutoff.")] = 90,
    cutoffs: Annotated[int, typer.Option(min=1, help="Historical training cutoffs, one horizon apart.")] = 3,
    members: Annotated[int, typer.Option(min=1, help="Networks in the ensemble.")] = 3,
    seed: Annotated[int, typer.Option(help="Seed: the same data and seed give the same model.")] = 7,
    device: Annotated[str | None, typer.Option(help="cpu or cuda (default: cuda when available).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Train the churn model on historical cutoffs, evaluate it out of time, save a versioned artefact."""
    from winback.model.pipeline import train_churn_model
    from winback.model.train import TrainConfig

    config = TrainConfig(members=members, seed=seed, device=device)
    with progress() as bar:
        task = bar.add_task("preparing", total=None)
        report = train_churn_model(
            engine(),
            get_settings().data_dir,
            horizon,
            cutoffs,
            config,
            progress=lambda step: bar.update(task, description=step),
            on_epoch=lambda: bar.advance(task),
        )
    drivers = list(report.global_drivers["feature"].head(6))
    if as_json:
        emit_json(
            {
                "version": report.version,
                "metrics": report.metrics,
                "model": report.model,
                "texts_read": report.texts_read,
                "top_drivers": drivers,
                "heads": report.heads,
                "notes": report.notes,
                "folder": str(report.folder),
            }
        )
        return
    m = report.metrics
    table = Table("metric", "value", title=f"model {report.version}: out-of-time test ({m['rows']:,} customers)")
    for name, label in METRICS:
        table.add_row(label, f"{m[name]:.3f}")
    console.print(table)
    weight = float(report.model["network_weight"] or 0.0)  # 1.0 when the trees were left out
    say(
        f"blend: networks {weight:.0%}, trees {1 - weight:.0%}"
        + (f" ({report.model['tree_iterations']} rounds)" if report.model["tree_iterations"] else "")
        + " (weight chosen on the early-stopping rows)"
    )
    say("top drivers: " + ", ".join(drivers))
    for line in heads_summary(report.heads):
        say(line)
    for note in report.notes:
        say(f"note: {note}")
    if not report.texts_read:
        say(
            "note: no text signals yet, so the model did not read what customers wrote; run `winback index`, then train again"
        )
    say(f"saved to {report.folder}")


def heads_summary(heads: dict) -> list[str]:
    """One line per head: its figures on the rows it was tested on (the protocol says which)."""
    lines = []
    if n := heads.get("next_order"):
        t = next(int(k[4:-1]) for k in n if k.startswith("ece_"))
        lines.append(
            f"next order ({n['rows']:,} customers; {n['protocol']}): concordance {n['concordance']:.3f}, "
            f"{t}-day calibration error {n[f'ece_{t}d']:.3f} (predicted {n[f'predicted_{t}d']:.1%}, "
            f"observed {n[f'observed_{t}d']:.1%})"
        )
    value = heads.get("value_12m")
    for v in (value, (value or {}).get("in_time")):
        if v:
            lines.append(
                f"12-month value ({v['rows']:,} customers; {v['protocol']}): mean absolute error {v['mae']:,.2f} "
                f"(last 12 months' spend as the guess: {v['last_12_months_spend_mae']:,.2f}), "
                f"total {v['total_bias']:+.1%}, rank correlation {v['spearman']:.3f}"
            )
    if value and value.get("shipped") != "this head":
        lines.append(f"the value head scoring uses was {value['shipped']}")
    return lines


@commands.command("score")
def score_command(
    as_of: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Score as of this date (default: latest order).")
    ] = None,
    chunk_size: Annotated[int, typer.Option(min=100, help="Customers per chunk (bounds memory).")] = 10_000,
    version: Annotated[str | None, typer.Option(help="Model version (default: the latest).")] = None,
    customer: Annotated[
        list[str] | None,
        typer.Option("--customer", help="Only score these customers now and say why (repeatable; latest model)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Score every customer into churn_scores (or score --customer ids now and explain them)."""
    from winback.data.risk_bands import RISK_BANDS
    from winback.model.scoring import ChurnScorer, score_all

    if customer:
        if as_of or version:
            raise UserError("--customer scores with the latest model as of the latest data; drop --as-of/--version")
        results = [run_tool(ToolName.EXPLAIN_RISK, {"customer_id": c}, "admin") for c in customer]
        if as_json:
            emit_json([r.data["score"] for r in results])
        else:
            say("\n\n".join(r.text for r in results))
        return
    settings = get_settings()
    scorer = ChurnScorer.load(settings.data_dir, version)
    with progress() as bar:
        task = bar.add_task("scoring customers", total=None)
        report = score_all(
            engine(),
            scorer,
            as_of,
            chunk_size,
            progress=lambda n: bar.advance(task, n),
            drivers_top=settings.score_drivers_top,
        )
    rate = report.customers / max(report.seconds, 1e-9)
    if as_json:
        emit_json(
            {
                "customers": report.customers,
                "as_of": report.as_of,
                "bands": report.bands,
                "model_version": report.model_version,
                "mean_probability": round(report.mean_probability, 4),
                "seconds": round(report.seconds, 2),
                "explained": report.explained,
                "stages": {k: round(v, 2) for k, v in report.stages.items()},
            }
        )
        return
    title = f"scored {report.customers:,} customers as of {report.as_of:%Y-%m-%d}"
    table = Table("risk band", "customers", "share", title=title)
    for band in RISK_BANDS:
        n = report.bands.get(band, 0)
        table.add_row(band, f"{n:,}", f"{n / report.customers:.1%}" if report.customers else "-")
    console.print(table)
    say(
        f"model {report.model_version}, mean probability {report.mean_probability:.3f}, "
        f"{report.seconds:.1f} s ({rate:,.0f} customers/s)"
    )
    if report.explained < report.customers:
        say(
            f"drivers stored for the {report.explained:,} riskiest active customers (WINBACK_SCORE_DRIVERS_TOP); "
            "the others are explained when someone opens them"
        )


@commands.command("drivers")
def drivers_command(
    segment: Annotated[str | None, typer.Option(help="Only this segment, e.g. gold.")] = None,
    country: Annotated[str | None, typer.Option(help="Only this country.")] = None,
    top: Annotated[int, typer.Option(min=1, max=30, help="How many drivers to list.")] = 10,
    as_json: JsonFlag = False,
) -> None:
    """What drives churn risk overall, or in a segment or country (mean contribution to the probability)."""
    print_tool(ToolName.CHURN_DRIVERS, {"segment": segment, "country": country, "top": top}, "admin", as_json)
