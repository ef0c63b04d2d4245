"""The screens of what winback does on its own: alerts to acknowledge or snooze, the daily briefing (and
one's subscription to it), and the scheduled jobs with their runs. Computed without a screen (testable);
every function takes the signed-in user's role and refuses what that role may not do."""

from __future__ import annotations

import pandas as pd

from winback.errors import UserError
from winback.jobs.alerts import act_on, list_alerts
from winback.jobs.briefing import compose, subscribe, subscription, unsubscribe
from winback.jobs.catalog import run_job
from winback.jobs.runs import RUN_COLUMNS, recent_runs
from winback.jobs.scheduler import JOB_COLUMNS, pause, resume, scheduled_jobs
from winback.roles import Role
from winback.tools import Services

ALERT_COLUMNS = ["alert", "raised", "for", "status", "what", "customer"]
ROLES_THAT_SEE_JOBS = frozenset({Role.MANAGER, Role.ADMIN})
ROLES_THAT_RUN_JOBS = frozenset({Role.ADMIN})


class OperationRefused(UserError, PermissionError):
    pass


class Operations:
    def __init__(self, services: Services) -> None:
        self.services = services

    # -- alerts -------------------------------------------------------------------------------------
    def alerts(self, role: Role, include_done: bool = False) -> pd.DataFrame:
        rows = [
            [a.alert_id, f"{a.fired_at:%Y-%m-%d %H:%M}", a.role, a.status, a.title, a.customer_id or ""]
            for a in list_alerts(self.services.engine, role, include_done)
        ]
        return pd.DataFrame(rows, columns=ALERT_COLUMNS)

    def act(self, role: Role, user: str, alert_id: str, action: str, hours: float = 24.0) -> str:
        if not alert_id.strip():
            raise OperationRefused("pick an alert first (click its row)")
        if action not in ("acknowledge", "snooze", "reopen"):
            raise OperationRefused(f"unknown action {action!r}")
        status = act_on(self.services.engine, alert_id.strip(), user, role, action, hours)  # type: ignore[arg-type]
        return f"{alert_id.strip()}: {status}"

    # -- briefing -----------------------------------------------------------------------------------
    def briefing(self, role: Role, user: str) -> tuple[str, str]:
        """(the page as HTML, the subscription line)."""
        page = compose(self.services, role, user)
        email = subscription(self.services.engine, user)
        line = f"You get this briefing every morning at {email}." if email else "You are not subscribed."
        if not page.grounding.ok:  # never expected: every figure is a tool's; shown rather than hidden
            line += f" (Figures not found in the tools' outputs: {', '.join(page.grounding.unsupported_numbers)})"
        return page.html_on_screen(), line

    def subscribe(self, role: Role, user: str, email: str) -> str:
        subscribe(self.services.engine, user, role, email)
        return f"Subscribed: the {role.value.replace('_', ' ')} briefing goes to {email.strip()} every morning."

    def unsubscribe(self, user: str) -> str:
        return "Unsubscribed." if unsubscribe(self.services.engine, user) else "You were not subscribed."

    # -- jobs ---------------------------------------------------------------------------------------
    def jobs(self, role: Role) -> tuple[pd.DataFrame, pd.DataFrame]:
        if role not in ROLES_THAT_SEE_JOBS:
            raise OperationRefused(f"the {role.value} role does not see the scheduled jobs; a manager or admin does")
        jobs = [j.cells() for j in scheduled_jobs(self.services.settings)]
        runs = [r.cells() for r in recent_runs(self.services.engine, limit=50)]
        return pd.DataFrame(jobs, columns=JOB_COLUMNS), pd.DataFrame(runs, columns=RUN_COLUMNS)

    def control(self, role: Role, name: str, action: str) -> str:
        if role not in ROLES_THAT_RUN_JOBS:
            raise OperationRefused(f"the {role.value} role may not run or pause jobs; an admin does")
        name = name.strip()
        if action == "run":
            record = run_job(name, self.services.settings, services=self.services)
            assert record is not None
            return f"{name}: {record.status} in {record.seconds or 0:.1f} s — {record.detail}"
        if action == "pause":
            pause(self.services.settings, name)
            return f"{name}: paused"
        if action == "resume":
            resume(self.services.settings, name)
            return f"{name}: resumed"
        raise OperationRefused(f"unknown action {action!r}")
