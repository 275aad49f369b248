"""The table of nightly jobs. Each job is a service function `func(session, day) -> dict` that the
CLI can also run for any past day; the scheduler calls it at `at` (business time) for `day_offset`
days from today (-1: the day that just ended)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from marshmallow import Schema, ValidationError, fields, validates_schema


@dataclass(frozen=True)
class Job:
    id: str
    func: str  # "module:function", imported when the job runs (no import cycles through this table)
    at: str  # "HH:MM", business time zone
    description: str
    day_offset: int = -1
    # How long a run may hold its lock before another process may take the job over.
    lease_minutes: int = 180


JOBS: tuple[Job, ...] = (
    Job("risk.score", func="recovery.risk.jobs:nightly_score", at="04:30", day_offset=0,
        description="score every customer's arrears risk as of today (trains a first model if none is active)"),
)


def job(job_id: str) -> Job:
    """The job with this id; KeyError names the ones there are."""
    for j in JOBS:
        if j.id == job_id:
            return j
    raise KeyError(f"no job {job_id!r}; jobs: {', '.join(j.id for j in JOBS) or '(none)'}")


_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class JobsPolicySchema(Schema):
    """[jobs] in the policy: `at` overrides a job's time of day; `disabled` lists jobs the scheduler skips."""

    at = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    disabled = fields.List(fields.String(), load_default=list)

    @validates_schema
    def _check(self, data, **_kw):
        known = {j.id for j in JOBS}
        for name in [*data["at"], *data["disabled"]]:
            if name not in known:
                raise ValidationError(f"unknown job {name!r}")
        for name, value in data["at"].items():
            if not _HHMM.match(value):
                raise ValidationError(f"{name}: not a time of day HH:MM: {value!r}")
