"""The record of every job run (job_runs): a run claims its (job, slot) pair before it starts, so the slot
runs once whichever process fires first; the others find it taken and do nothing."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from winback.data.schema import JobRun

RUN_COLUMNS = ["job", "slot", "started", "seconds", "trigger", "status", "rows", "detail", "host"]


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:128]


@dataclass(frozen=True)
class RunRecord:
    run_id: int
    job: str
    slot: datetime
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    rows: int | None
    detail: str | None
    host: str

    @property
    def seconds(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None

    def cells(self) -> list[Any]:
        """The run as a row under RUN_COLUMNS (numbers stay numbers, so a screen sorts them)."""
        return [
            self.job,
            f"{self.slot:%Y-%m-%d %H:%M:%S}",
            f"{self.started_at:%Y-%m-%d %H:%M:%S}",
            None if self.seconds is None else round(self.seconds, 1),
            self.trigger,
            self.status,
            self.rows,
            self.detail or "",
            self.host,
        ]


def claim(engine: Engine, job: str, slot: datetime, trigger: str) -> int | None:
    """A new run of `job` for `slot`, or None when that slot was already claimed (by this or another process)."""
    try:
        with engine.begin() as connection:
            return int(
                connection.execute(
                    insert(JobRun).values(
                        job=job,
                        slot=slot,
                        trigger=trigger,
                        started_at=utc_now(),
                        status="running",
                        host=this_process(),
                    )
                ).inserted_primary_key[0]  # type: ignore[index]  # a single-row insert has its key
            )
    except IntegrityError:
        return None


def finish(engine: Engine, run_id: int, ok: bool, rows: int | None, detail: str | None) -> RunRecord:
    """Record how a run ended; the finished record."""
    with engine.begin() as connection:
        connection.execute(
            update(JobRun)
            .where(JobRun.run_id == run_id)
            .values(finished_at=utc_now(), status="ok" if ok else "failed", rows=rows, detail=(detail or "")[:2_000])
        )
        return RunRecord(
            **connection.execute(select(*JobRun.__table__.c).where(JobRun.run_id == run_id)).one()._mapping
        )


def recent_runs(engine: Engine, job: str | None = None, limit: int = 50) -> list[RunRecord]:
    query = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.run_id.desc()).limit(limit)
    if job is not None:
        query = query.where(JobRun.job == job)
    with engine.connect() as connection:
        return [RunRecord(**row._mapping) for row in connection.execute(query.with_only_columns(*JobRun.__table__.c))]


def last_runs(engine: Engine) -> dict[str, RunRecord]:
    """The latest run of each job."""
    latest = select(JobRun.job, func.max(JobRun.run_id).label("run_id")).group_by(JobRun.job).subquery()
    query = select(*JobRun.__table__.c).join(latest, latest.c.run_id == JobRun.run_id)
    with engine.connect() as connection:
        return {row.job: RunRecord(**row._mapping) for row in connection.execute(query)}
