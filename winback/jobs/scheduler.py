"""When the jobs run: APScheduler 3 with its SQLAlchemy job store in winback's own database, so schedules,
changes to them and pauses survive a restart of `winback serve` (or `winback schedule serve`).

Why APScheduler and not cron: one process to deploy (the UI's), schedules changed from the CLI or UI
without editing a crontab, missed runs caught up once after downtime (coalesce). What APScheduler 3 does
not do is stop two processes sharing a job store from both firing a job; the job_runs table does: every
firing claims its (job, slot) pair first — the slot is the scheduled time the firing stands for — and a
claim that exists already means the other process has it (winback/jobs/runs.py).

Schedules are crontab lines ("0 5 * * *", in WINBACK_SCHEDULE_TIMEZONE) or intervals ("every 30m",
"every 2h", "every 10s")."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from winback.config import Settings, get_settings
from winback.data.db import make_engine
from winback.jobs.catalog import JOBS, JobError, job, run_job
from winback.jobs.runs import RunRecord, last_runs

log = logging.getLogger(__name__)
TABLE = "winback_schedule"  # APScheduler's own table (it creates it); job_runs is winback's record
EVERY = re.compile(r"^\s*every\s+(\d+)\s*(s|sec|seconds?|m|min|minutes?|h|hours?|d|days?)\s*$", re.IGNORECASE)
CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
JOB_COLUMNS = ["job", "does", "schedule", "next run", "last run", "status", "rows", "detail"]
MISFIRE_GRACE_S = 12 * 3600  # a run missed while no process was up is caught up (once) within this


def parse_schedule(spec: str, timezone: tzinfo | str) -> BaseTrigger:
    """A crontab line or "every N<s|m|h|d>"; a bad one is a one-line error."""
    if m := EVERY.match(spec):
        n, unit = int(m.group(1)), {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[m.group(2)[0].lower()]
        if n <= 0:
            raise JobError(f"schedule {spec!r}: the interval must be positive")
        return IntervalTrigger(**{unit: n}, timezone=timezone)
    fields = spec.split()
    if len(fields) == 5:  # crontab counts days of the week from Sunday = 0; APScheduler from Monday = 0
        fields[4] = re.sub(
            r"(?<!/)\d+", lambda m: CRON_DAYS[int(m.group(0)) % 7] if int(m.group(0)) <= 7 else m.group(0), fields[4]
        )
    try:
        return CronTrigger.from_crontab(" ".join(fields), timezone=timezone)
    except ValueError as exc:
        raise JobError(f"schedule {spec!r}: {exc} (a crontab line such as '0 5 * * *', or 'every 30m')") from None


def latest_slot(trigger: BaseTrigger, now: datetime) -> datetime:
    """The last time at or before `now` the trigger fires: the slot a firing stands for. Two processes
    firing the same schedule compute the same slot, whatever their clocks' few milliseconds."""
    for back in (timedelta(minutes=2), timedelta(hours=2), timedelta(days=2), timedelta(days=40), timedelta(days=400)):
        fire = trigger.get_next_fire_time(None, now - back)
        if fire is None or fire > now:
            continue
        while True:
            following = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
            if following is None or following > now:
                return _naive_utc(fire)
            fire = following
    return _naive_utc(now)


def _naive_utc(value: datetime) -> datetime:
    """job_runs keeps naive UTC, as every timestamp in the contract."""
    return value.astimezone(UTC).replace(tzinfo=None, microsecond=0) if value.tzinfo else value.replace(microsecond=0)


def fire(name: str) -> None:
    """What the scheduler calls (by reference, so the job store keeps no code): run `name` for its slot."""
    settings = get_settings()
    scheduler = _running.get(str(settings.database_url))
    stored = scheduler.get_job(name) if scheduler is not None else None
    now = datetime.now(UTC)
    slot = latest_slot(stored.trigger, now) if stored is not None else _naive_utc(now)
    run_job(name, settings, "schedule", slot)


_running: dict[str, BackgroundScheduler] = {}


def _job_store(settings: Settings) -> SQLAlchemyJobStore:
    return SQLAlchemyJobStore(engine=make_engine(settings=settings), tablename=TABLE)


def make_scheduler(settings: Settings) -> BackgroundScheduler:
    return BackgroundScheduler(
        jobstores={"default": _job_store(settings)},
        timezone=settings.schedule_timezone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_S},
    )


def _ensure_jobs(scheduler: BaseScheduler, settings: Settings) -> None:
    """Every job in the catalog is scheduled; one already in the store keeps its (changed) schedule and pause."""
    for spec in JOBS.values():
        if scheduler.get_job(spec.name) is None:
            scheduler.add_job(
                "winback.jobs.scheduler:fire",
                trigger=parse_schedule(spec.schedule, settings.schedule_timezone),
                args=[spec.name],
                id=spec.name,
                name=spec.description,
                replace_existing=False,
            )


def start(settings: Settings) -> BackgroundScheduler:
    """The scheduler running in the background of this process (`winback serve`, `winback schedule serve`)."""
    scheduler = make_scheduler(settings)
    scheduler.start(paused=True)
    _ensure_jobs(scheduler, settings)
    _running[str(settings.database_url)] = scheduler
    scheduler.resume()
    log.info("scheduler started: %s", ", ".join(f"{j.id} next {j.next_run_time}" for j in scheduler.get_jobs()))
    return scheduler


def stop(scheduler: BackgroundScheduler) -> None:
    for key, running in list(_running.items()):
        if running is scheduler:
            del _running[key]
    scheduler.shutdown(wait=False)


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    does: str
    schedule: str
    next_run: datetime | None  # None: paused
    last_run: RunRecord | None

    @property
    def paused(self) -> bool:
        return self.next_run is None

    def cells(self) -> list[Any]:
        """The job as a row under JOB_COLUMNS."""
        last = self.last_run
        return [
            self.name,
            self.does,
            self.schedule,
            "paused" if self.next_run is None else f"{self.next_run:%Y-%m-%d %H:%M %Z}",
            f"{last.started_at:%Y-%m-%d %H:%M}" if last else "never",
            last.status if last else "",
            last.rows if last else None,
            (last.detail or "") if last else "",
        ]

    def as_dict(self) -> dict[str, Any]:
        last = self.last_run
        return {
            "job": self.name,
            "does": self.does,
            "schedule": self.schedule,
            "paused": self.paused,
            "next_run": self.next_run.isoformat() if self.next_run else None,
            "last_run": None
            if last is None
            else {
                "started_at": last.started_at.isoformat(),
                "finished_at": last.finished_at.isoformat() if last.finished_at else None,
                "status": last.status,
                "rows": last.rows,
                "detail": last.detail,
                "trigger": last.trigger,
            },
        }


def _describe(trigger: BaseTrigger) -> str:
    if isinstance(trigger, IntervalTrigger):
        seconds = int(trigger.interval.total_seconds())
        for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
            if seconds % size == 0:
                return f"every {seconds // size}{unit}"
        return f"every {seconds}s"
    if isinstance(trigger, CronTrigger):
        fields = {f.name: str(f) for f in trigger.fields}
        return " ".join(fields[n] for n in ("minute", "hour", "day", "month", "day_of_week"))
    return str(trigger)


class _StoreEditor(BaseScheduler):
    """A scheduler with no thread: it reads and changes the job store and never runs a job (a background
    scheduler started paused still wakes up once more while it shuts down)."""

    def wakeup(self) -> None:
        return None

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)


class _Offline:
    """The job store opened for reading and changing schedules without running anything."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.scheduler = _StoreEditor(jobstores={"default": _job_store(settings)}, timezone=settings.schedule_timezone)

    def __enter__(self) -> BaseScheduler:
        self.scheduler.start(paused=True)
        _ensure_jobs(self.scheduler, self.settings)
        return self.scheduler

    def __exit__(self, *exc: object) -> None:
        self.scheduler.shutdown(wait=False)


def scheduled_jobs(settings: Settings) -> list[ScheduledJob]:
    with _Offline(settings) as scheduler:
        jobs: dict[str, Job] = {j.id: j for j in scheduler.get_jobs()}
    last = last_runs(make_engine(settings=settings))
    return [
        ScheduledJob(name, spec.description, _describe(jobs[name].trigger), jobs[name].next_run_time, last.get(name))
        for name, spec in JOBS.items()
        if name in jobs
    ]


def pause(settings: Settings, name: str) -> None:
    job(name)
    with _Offline(settings) as scheduler:
        scheduler.pause_job(name)


def resume(settings: Settings, name: str) -> None:
    job(name)
    with _Offline(settings) as scheduler:
        scheduler.resume_job(name)


def reschedule(settings: Settings, name: str, spec: str) -> str:
    """A new schedule for a job (kept in the store: it survives restarts); returns it as `list` shows it."""
    job(name)
    trigger = parse_schedule(spec, settings.schedule_timezone)
    with _Offline(settings) as scheduler:
        paused = scheduler.get_job(name).next_run_time is None
        scheduler.reschedule_job(name, trigger=trigger)
        if paused:
            scheduler.pause_job(name)
    return _describe(trigger)
