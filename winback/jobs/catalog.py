"""The jobs winback runs on its own, each defined once: what it does, its default schedule, and the code.
`run_job` is the one way any of them runs — from the scheduler, `winback schedule run`, or the UI — and it
records the run (job_runs) after claiming its slot."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from winback.config import Settings
from winback.errors import UserError
from winback.jobs.runs import RunRecord, claim, finish, utc_now
from winback.roles import Role
from winback.tools import Services, ToolContext, default_registry
from winback.tools.names import ToolName

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobOutcome:
    rows: int | None
    detail: str


@dataclass(frozen=True)
class JobSpec:
    name: str
    description: str
    schedule: str  # the default: a crontab line ("0 5 * * *") or "every 30m" (schedule.py reads both)
    run: Callable[[Services], JobOutcome]


def _score(services: Services) -> JobOutcome:
    """Score every customer with the latest model, then evaluate the alert rules against the new run."""
    from winback.jobs.alerts import evaluate
    from winback.model.scoring import ChurnScorer, score_all

    settings = services.settings
    scorer = ChurnScorer.load(settings.data_dir)
    report = score_all(services.engine, scorer, drivers_top=settings.score_drivers_top)
    services.forget("drivers:")  # group drivers are cached per run
    alerts = evaluate(services.engine, settings)
    notes = f"; {'; '.join(alerts.notes)}" if alerts.notes else ""
    return JobOutcome(
        report.customers,
        f"{report.customers:,} customers scored by {report.model_version} as of {report.as_of:%Y-%m-%d}; "
        f"{alerts.summary()}{notes}",
    )


def _index(services: Services) -> JobOutcome:
    """Bring the search index up to date (new, changed and deleted texts; each text's risk band) and
    compute the default complaint themes once, so the first person to ask does not wait for them."""
    from winback.search.indexer import index_feedback

    collection, embedder = services.feedback()
    report = index_feedback(services.engine, collection, embedder, keyword=services.keyword_index())
    services.forget("feedback")  # the next search opens the index as it is now
    themes = default_registry().call(
        ToolName.COMPLAINT_THEMES, {"kind": "review"}, ToolContext(services, Role.ADMIN, actor="scheduler")
    )
    return JobOutcome(
        report.added + report.updated + report.deleted,
        f"index: {report.added:,} added, {report.updated:,} updated, {report.deleted:,} deleted, "
        f"{report.bands_updated:,} risk bands refreshed; themes: {themes.result.summary}",
    )


def _campaigns(services: Services) -> JobOutcome:
    """Close the campaigns whose outcome window has ended, recording the report as it stands then."""
    from winback.offers.outcomes import close_finished_campaigns

    closed = close_finished_campaigns(services.engine)
    return JobOutcome(len(closed), f"{len(closed)} campaign(s) closed" + (f": {', '.join(closed)}" if closed else ""))


def _briefing(services: Services) -> JobOutcome:
    """Send today's briefing to every subscriber who has not had it yet."""
    from winback.jobs.briefing import send_briefings

    report = send_briefings(services)
    return JobOutcome(report.sent, report.summary())


JOBS: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec("index", "refresh the search index and the complaint themes", "30 4 * * *", _index),
        JobSpec("score", "re-score every customer, then evaluate the alert rules", "0 5 * * *", _score),
        JobSpec(
            "campaigns", "close campaign windows that have ended and record their outcome", "30 5 * * *", _campaigns
        ),
        JobSpec("briefing", "e-mail the daily briefing to its subscribers", "0 7 * * *", _briefing),
    )
}


class JobError(UserError, ValueError):
    pass


def job(name: str) -> JobSpec:
    try:
        return JOBS[name]
    except KeyError:
        raise JobError(f"no job named {name!r} (jobs: {', '.join(JOBS)})") from None


def run_job(
    name: str,
    settings: Settings,
    trigger: str = "manual",
    slot: datetime | None = None,
    services: Services | None = None,
) -> RunRecord | None:
    """Run a job once for `slot` (a manual run: now) and record it; None when that slot was already run (by
    this or another process). A failure is recorded with its one-line error, never raised."""
    spec = job(name)
    services = services or Services(settings)
    engine = services.engine
    run_id = claim(engine, name, slot or utc_now(), trigger)
    if run_id is None:
        log.info("job %s: slot %s already taken by another run", name, slot)
        return None
    log.info("job %s: slot %s claimed", name, slot)
    ok, rows, detail = True, None, ""
    try:
        outcome = spec.run(services)
        rows, detail = outcome.rows, outcome.detail
    except Exception as exc:  # a job's failure is a row in job_runs, not a crashed scheduler
        ok, detail = False, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:2_000]
        log.warning("job %s failed: %s", name, detail)
    return finish(engine, run_id, ok, rows, detail)


def describe() -> list[dict[str, Any]]:
    return [{"job": s.name, "does": s.description, "default_schedule": s.schedule} for s in JOBS.values()]
