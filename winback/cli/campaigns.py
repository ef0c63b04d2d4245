"""`winback campaign create|list|show|approve|send|report` and `winback demo advance|truth`: campaigns with
holdout groups, sending through a real channel, and the measured lift (docs/campaigns.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from winback.cli.common import JsonFlag, console, emit_json, engine, err, note, say
from winback.cli.offers import DRAFTING_COLUMNS, drafting_backend
from winback.config import get_settings
from winback.errors import UserError

campaign_app = typer.Typer(
    help="Win-back campaigns with holdout groups: create, approve, send, report.", no_args_is_help=True
)
demo_app = typer.Typer(help="The demo shop's clock: advance it, and read the planted truth.", no_args_is_help=True)

FAILURES_LISTED = 20  # failed messages named one per line after a send; --json carries every one
BandOption = Annotated[list[str] | None, typer.Option("--band", help="Only this risk band (repeatable).")]


@campaign_app.command("create")
def campaign_create(
    name: Annotated[str, typer.Argument(help="The campaign's name, e.g. october-gold.")],
    top: Annotated[int, typer.Option(min=1, max=100_000, help="Cohort size: the N highest-ranked customers.")],
    holdout: Annotated[
        float | None, typer.Option(min=0.0, max=0.95, help="Share kept out as holdout (default: the policy's, 0.2).")
    ] = None,
    segment: Annotated[str | None, typer.Option(help="Only this segment.")] = None,
    country: Annotated[str | None, typer.Option(help="Only this country.")] = None,
    band: BandOption = None,
    min_value: Annotated[float | None, typer.Option(help="Only customers who paid at least this much.")] = None,
    inactive_days: Annotated[int | None, typer.Option(help="Only customers with no order for N days.")] = None,
    rank: Annotated[
        str,
        typer.Option(
            help="probability, revenue_at_risk, incremental_value (the policy's save rates) or uplift (the uplift "
            "model: estimated lift x value - cost, never a negative lift)."
        ),
    ] = "probability",
    seed: Annotated[int, typer.Option(help="Seed of the holdout split (recorded; the split can be recomputed).")] = 0,
    window_days: Annotated[int | None, typer.Option(min=1, max=365, help="Outcome window after the send.")] = None,
    user: Annotated[str, typer.Option(help="Recorded as the creator and drafter.")] = "assistant",
    no_llm: Annotated[bool, typer.Option("--no-llm", help="Draft from templates only, no model.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Choose a cohort, split off a random holdout per risk band, draft offers for the treatment arm."""
    from pydantic import ValidationError

    from winback.offers.campaigns import CohortArgs, create_campaign
    from winback.offers.drafting import OfferDrafter
    from winback.offers.policy import load_policy
    from winback.offers.uplift import load_uplift

    try:
        cohort = CohortArgs(
            top=top,
            rank=rank,
            segment=segment,
            country=country,
            bands=band or None,
            min_lifetime_value=min_value,
            inactive_days=inactive_days,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise UserError(f"--{first['loc'][0]}: {first['msg']}") from None
    settings = get_settings()
    db = engine()
    policy = load_policy(settings.data_dir)
    backend = drafting_backend(settings, no_llm)
    drafter = OfferDrafter(db, settings, backend.llm, structured=backend.structured, model=backend.model)
    uplift = load_uplift(settings.data_dir) if rank == "uplift" else None
    try:
        with Progress(*DRAFTING_COLUMNS, console=err, disable=as_json) as bar:
            task = bar.add_task("drafting", total=None)
            created = create_campaign(
                db,
                policy,
                drafter,
                name,
                cohort,
                holdout,
                seed,
                window_days,
                user,
                progress=lambda _: bar.advance(task),
                uplift=uplift,
            )
    finally:
        backend.close(settings)
    result = {
        "campaign": created.campaign_id,
        "members": created.members,
        "arms": created.arms,
        "by_band": created.by_band,
        "drafted": created.drafts.drafted,
        "no_offer": dict(created.drafts.no_offer),
        "already_offered": created.drafts.already_offered,
        "planned_offer_types": dict(created.planned),
        "excluded_in_open_campaigns": created.excluded_in_other_campaigns,
        "written_by": dict(created.drafts.sources),
    }
    if as_json:
        emit_json(result)
        return
    say(
        f"campaign {created.campaign_id}: {created.members} members, {created.arms['treatment']} treatment, "
        f"{created.arms['holdout']} holdout; {created.drafts.drafted} offers drafted for the treatment arm"
    )
    for reason, n in created.drafts.no_offer.most_common():
        say(f"  no offer ({n}): {reason}")
    say(f"next: a manager approves them — winback campaign approve {created.campaign_id} --user NAME --role manager")


@campaign_app.command("uplift")
def campaign_uplift(
    learner: Annotated[str, typer.Option(help="x (X-learner, the default) or t (T-learner).")] = "x",
    seed: Annotated[int, typer.Option(help="Seed of the tree models.")] = 7,
    as_json: JsonFlag = False,
) -> None:
    """Fit the uplift model on every closed campaign with a holdout, for `campaign create --rank uplift`."""
    from winback.offers.uplift import train_uplift

    if learner not in ("x", "t"):
        raise UserError("--learner: x or t")
    model, folder = train_uplift(engine(), get_settings().data_dir, learner, seed)  # type: ignore[arg-type]
    if as_json:
        emit_json({"folder": str(folder), **model.meta, "offer_types": model.offer_types})
        return
    m = model.meta
    say(
        f"uplift model ({learner.upper()}-learner) from {len(m['campaigns'])} campaign(s): "
        f"{m['members']['treated']:,} treated, {m['members']['holdout']:,} holdout members; ordered in the window "
        f"{m['saved_rate']['treated']:.1%} vs {m['saved_rate']['holdout']:.1%}; offer types: "
        + ", ".join(model.offer_types)
    )
    say(f"saved to {folder}; use it with `winback campaign create NAME --top N --rank uplift`")


@campaign_app.command("list")
def campaign_list(as_json: JsonFlag = False) -> None:
    """Every campaign, newest first."""
    from winback.offers.campaign_store import list_campaigns

    rows: list[dict[str, Any]] = [
        {
            "campaign": c.campaign_id,
            "created_at": c.created_at.isoformat(),
            "created_by": c.created_by,
            "holdout_share": c.holdout_share,
            "window_days": c.window_days,
            "started_at": c.started_at.isoformat() if c.started_at else None,
        }
        for c in list_campaigns(engine())
    ]
    if as_json:
        emit_json(rows)
        return
    table = Table("campaign", "created", "by", "holdout", "window", "sent from")
    for r in rows:
        table.add_row(
            r["campaign"],
            r["created_at"][:10],
            r["created_by"],
            f"{r['holdout_share']:.0%}",
            f"{r['window_days']} d",
            (r["started_at"] or "not sent")[:10],
        )
    console.print(table)


@campaign_app.command("show")
def campaign_show(name: Annotated[str, typer.Argument()], as_json: JsonFlag = False) -> None:
    """A campaign's cohort, split and offers by status."""
    from winback.offers.campaign_store import campaign_status

    status = campaign_status(engine(), name)
    if as_json:
        emit_json(status)
        return
    say(f"campaign {status['campaign']}: {status['members']} members, cohort {status['cohort']}")
    say(f"holdout {status['holdout_share']:.0%} (seed {status['seed']}), window {status['window_days']} days")
    table = Table("arm", "members", *status["offer_statuses"])
    for arm, row in status["arms"].items():
        table.add_row(arm, str(row["members"]), *(str(row["offers"].get(s, 0)) for s in status["offer_statuses"]))
    console.print(table)


@campaign_app.command("approve")
def campaign_approve(
    name: Annotated[str, typer.Argument()],
    user: Annotated[str, typer.Option(help="Who approves (never the drafter of an offer).")],
    role: Annotated[str, typer.Option(help="manager or admin.")],
    as_json: JsonFlag = False,
) -> None:
    """Approve every draft of the campaign that passes the policy check (never the approver's own)."""
    from winback.offers.campaigns import approve_campaign
    from winback.offers.policy import load_policy

    settings = get_settings()
    result = approve_campaign(engine(), load_policy(settings.data_dir), name, user, role)
    out = {"approved": result.approved, "refused": dict(result.refused), "not_drafts": result.not_drafts}
    if as_json:
        emit_json(out)
        return
    say(f"approved {result.approved} offers of {name}")
    for reason, n in result.refused.most_common():
        say(f"  not approved ({n}): {reason}")


@campaign_app.command("send")
def campaign_send(
    name: Annotated[str, typer.Argument()],
    smtp: Annotated[str | None, typer.Option(help="Send through this SMTP server (default WINBACK_SMTP_URL).")] = None,
    outbox: Annotated[Path | None, typer.Option(help="Write one .eml file per message here instead.")] = None,
    webhook: Annotated[str | None, typer.Option(help="POST each message as signed JSON to this URL instead.")] = None,
    retry_unconfirmed: Annotated[
        bool, typer.Option("--retry-unconfirmed", help="Send again messages an interrupted run may have sent.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Send the approved treatment offers, each at most once (a re-run resumes where a run stopped)."""
    from winback.offers.channels import Channel, OutboxChannel, SmtpChannel, WebhookChannel
    from winback.offers.policy import load_policy
    from winback.offers.sending import send_campaign

    settings = get_settings()
    smtp = smtp or (settings.smtp_url if outbox is None and webhook is None else None)
    chosen = [c for c in (smtp, outbox, webhook) if c]
    if len(chosen) != 1:
        raise UserError("choose one channel: --smtp URL (or WINBACK_SMTP_URL), --outbox DIR or --webhook URL")
    channel: Channel
    if outbox is not None:
        channel = OutboxChannel(outbox)
    elif webhook is not None:
        channel = WebhookChannel(webhook, settings)
    else:
        channel = SmtpChannel(str(smtp), settings)
    columns = (SpinnerColumn(), TextColumn("sending"), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, disable=as_json) as bar:
        task = bar.add_task("sending", total=None)
        report = send_campaign(
            engine(),
            settings,
            load_policy(settings.data_dir),
            name,
            channel,
            retry_unconfirmed,
            progress=lambda _: bar.advance(task),
        )
    out: dict[str, Any] = {
        "campaign": report.campaign_id,
        "channel": report.channel,
        "sent": report.sent,
        "already_sent": report.already_sent,
        "skipped": dict(report.skipped),
        "failed": report.failed,
        "unconfirmed": report.unconfirmed,
        "stopped": report.stopped,
        "seconds": round(report.seconds, 2),
    }
    if as_json:
        emit_json(out)
    else:
        skipped = sum(report.skipped.values())
        say(
            f'campaign "{report.campaign_id}": {report.sent} sent through {report.channel}, {len(report.failed)} '
            f"failed, {skipped} skipped"
            + (f" ({report.already_sent} sent by an earlier run)" if report.already_sent else "")
        )
        for reason, n in report.skipped.most_common():
            say(f"  skipped ({n}): {reason}")
        if report.unconfirmed:
            note(
                f"{len(report.unconfirmed)} messages were claimed by a run that stopped before the channel confirmed "
                "them; they are not sent again (check the channel, then --retry-unconfirmed if they never arrived)"
            )
        if report.stopped:
            note(f"stopped: {report.stopped}; nothing else was tried, run it again later")
        elif report.failed:
            note(f"failed, not delivered ({len(report.failed)}):")
        for offer_id, reason in list(report.failed.items())[:FAILURES_LISTED]:
            note(f"  {offer_id}: {reason}")
        if len(report.failed) > FAILURES_LISTED:
            note(f"  ... and {len(report.failed) - FAILURES_LISTED} more (--json lists them all)")
        if report.failed and not report.stopped:
            note(
                "what to do: where the reason is in a customer's record (an address, a name) or an offer's text, "
                "have it corrected (a support agent), then send again: only what was not delivered goes out"
            )
    if report.stopped or report.failed:  # 1: something was not delivered (the rest went out once each)
        raise typer.Exit(1)


@campaign_app.command("report")
def campaign_report_command(name: Annotated[str, typer.Argument()], as_json: JsonFlag = False) -> None:
    """Per arm, risk band and offer type: members, saved, rate, lift with its 95 % interval, revenue, cost."""
    from winback.offers.outcomes import campaign_report

    report = campaign_report(engine(), name)
    data = report.as_dict()
    if as_json:
        emit_json(data)
        return
    table = Table(
        "group",
        "treatment saved",
        "holdout saved",
        "lift",
        "95 % interval",
        "incr. revenue",
        "cost / incr. save",
        title=f"campaign {name}: {data['window_days']}-day window from {str(data['started_at'])[:10]}",
    )
    for row in [report.overall.as_dict(), *data["by_band"], *data["by_offer_type"]]:
        t, h = row["treatment"], row["holdout"]
        shown = data["window_closed"]
        table.add_row(
            row["group"],
            f"{t['saved']}/{t['members']}",
            f"{h['saved']}/{h['members']}",
            f"{row['lift']:+.1%}" if shown and row["lift"] is not None else "-",
            f"{row['ci'][0]:+.1%} … {row['ci'][1]:+.1%}" if shown and row["ci"] else "-",
            f"{row['incremental_revenue']:.0f}" if shown and row["incremental_revenue"] is not None else "-",
            f"{row['cost_per_incremental_save']:.2f}" if shown and row["cost_per_incremental_save"] else "-",
        )
    console.print(table)
    say(data["note"])


@demo_app.command("advance")
def demo_advance(
    days: Annotated[int, typer.Option(min=1, max=366, help="Days to simulate after the demo's clock.")],
    as_json: JsonFlag = False,
) -> None:
    """Simulate the next N days of the demo shop: every customer's orders, tickets and reviews, and the
    orders the offers they were sent cause (demo databases only)."""
    from winback.data.demo.advance import advance_demo

    report = advance_demo(engine(), days)
    out = {
        "from": report.start.isoformat(),
        "to": report.end.isoformat(),
        "rows": report.rows,
        "orders_caused_by_offers": report.caused_orders,
        "delivered": report.delivered,
        "closed": report.closed,
        "seconds": round(report.seconds, 2),
    }
    if as_json:
        emit_json(out)
        return
    say(f"the demo shop now stands at {report.end:%Y-%m-%d}: {report.rows.get('orders', 0)} new orders")


@demo_app.command("truth")
def demo_truth(name: Annotated[str, typer.Argument()], as_json: JsonFlag = False) -> None:
    """The simulator's planted expected lift for a campaign's members (for checking the estimate only)."""
    from winback.data.demo.campaign_truth import expected_lift

    truth = expected_lift(engine(), name)
    if as_json:
        emit_json(truth)
        return
    say(f"planted expected lift of {name}: {truth['expected_lift']:+.1%} over {truth['members']} treatment members")
