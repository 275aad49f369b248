"""`recovery night --date D` (contracts.md, "Nightly run"): every nightly job for business day D, in the job
table's order, each through the job runner (its lock, its run history), timed, with the rows it went through.

Every job runs for D itself, as `recovery jobs run ID --date D` would run it. A job that fails is recorded
as failed in the history and the night goes on with the next one (the scheduler, too, runs each job on its
own); the night as a whole then fails. Jobs the policy disables ([jobs] disabled) are not run.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from recovery import policy
from recovery.jobs import runner
from recovery.jobs.table import JOBS, Job


@dataclass
class Step:
    """One job of the night: how it ended, the rows it went through and its seconds."""

    job: str
    status: str  # succeeded | failed | busy | done_already | disabled
    rows: int | None
    seconds: float
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"job": self.job, "status": self.status, "rows": self.rows, "seconds": round(self.seconds, 3),
                "error": self.error}


def rows_of(job: Job, summary: dict[str, Any] | None) -> int | None:
    """The sum of the job's row keys in its summary ("a.b" reaches into nested dicts); None if it has none."""
    if not job.rows or summary is None:
        return None
    total, found = 0, False
    for key in job.rows:
        value: Any = summary
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            total, found = total + value, True
    return total if found else None


def run_night(session: Session, day: dt.date, *, actor: str, resume: bool = False,
              on_step: Callable[[Job, Step | None], None] | None = None) -> list[Step]:
    """Run every job for `day` in the table's order; returns one Step per job.

    `resume=True` leaves out the jobs that already succeeded for the day (the scheduler's rule);
    by default every job runs again (each is rerunnable: the same day gives the same result).
    `on_step(job, None)` is called before a job starts, `on_step(job, step)` when it ends.
    """
    disabled = set(policy.section("jobs")["disabled"])
    steps: list[Step] = []
    for job in JOBS:
        if on_step:
            on_step(job, None)
        started = time.perf_counter()
        if job.id in disabled:
            step = Step(job.id, "disabled", None, 0.0)
        else:
            try:
                record = runner.run(session, job, day, trigger="night", actor=actor, force=not resume)
                step = (Step(job.id, "done_already", None, time.perf_counter() - started) if record is None else
                        Step(job.id, "succeeded", rows_of(job, record.summary), time.perf_counter() - started))
            except runner.JobBusy as e:
                step = Step(job.id, "busy", None, time.perf_counter() - started, e.message)
            except Exception as e:  # recorded as failed by the runner; the night goes on
                first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                step = Step(job.id, "failed", None, time.perf_counter() - started, f"{type(e).__name__}: {first}")
        steps.append(step)
        if on_step:
            on_step(job, step)
    return steps


def table(day: dt.date, steps: list[Step]) -> str:
    """The night as a plain-text table: each job, how it ended, its rows and seconds, then the whole night."""
    width = max(len(s.job) for s in steps) if steps else 10
    lines = [f"{'job':<{width}}  {'status':<12}  {'rows':>10}  {'seconds':>9}"]
    for s in steps:
        rows = "-" if s.rows is None else f"{s.rows:,}"
        lines.append(f"{s.job:<{width}}  {s.status:<12}  {rows:>10}  {s.seconds:>9.2f}")
    failed = [s for s in steps if s.status in ("failed", "busy")]
    total = sum(s.seconds for s in steps)
    verdict = f"{len(failed)} failed" if failed else "succeeded"
    lines.append(f"{'night ' + day.isoformat():<{width}}  {verdict:<12}  {'':>10}  {total:>9.2f}")
    return "\n".join(lines)
