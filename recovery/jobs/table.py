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
    # The summary keys ("a.b" reaches into a nested dict) whose sum is the rows the job went through,
    # as `recovery night` reports them.
    rows: tuple[str, ...] = ()


JOBS: tuple[Job, ...] = (
    Job("billing.penalties", func="recovery.billing.penalties:nightly", at="00:30",
        description="accrue late-payment penalties to the day that ended (posts only the change; rerunnable)",
        rows=("bills_with_penalty",)),
    Job("payments.debit_batch", func="recovery.payments.direct_debit.service:nightly_batch", at="06:00", day_offset=0,
        description="create (or top up) today's direct-debit batch for the bills falling due today",
        rows=("items",)),
    Job("payments.prepaid_monitor", func="recovery.payments.prepaid:monitor", at="01:00",
        description="prepaid accounts: warn of low balances, stop below zero, order disconnection after the grace "
                    "period (latest data; rerunnable)",
        rows=("accounts",)),
    Job("credit.split_settlement", func="recovery.credit.terms:nightly_split", at="01:30", day_offset=0,
        description="true up split-settlement interim bills whose month-end bill arrived; issue today's interim bills",
        rows=("true_up.trued_up", "interim.interim_bills")),
    Job("reconcile.daily", func="recovery.reconcile.service:nightly", at="02:00",
        description="reconcile every channel for the day that ended: statements against the books, breaks, "
                    "suspense credits; reruns a neighbouring day that waited on a timing difference (rerunnable)",
        rows=("matched",)),
    Job("credit.ratings", func="recovery.credit.rating.ratings:nightly", at="03:30",
        description="recompute every customer's credit rating for the day that ended (history keeps changes only)",
        rows=("customers",)),
    Job("credit.terms_review", func="recovery.credit.terms:review", at="03:50",
        description="propose the settlement-term changes the ratings call for (for a supervisor to approve)",
        rows=("proposed",)),
    Job("credit.security_review", func="recovery.credit.security.review:security_review", at="04:00",
        description="guarantee statuses and expiry tasks; list customers whose held security falls short",
        rows=("qualified",)),
    Job("credit.deposit_release", func="recovery.credit.security.deposits:propose_releases", at="04:10",
        description="propose deposits held long enough with good behaviour for release; accrue deposit interest",
        rows=("proposed",)),
    Job("reports.dashboard", func="recovery.reports.dashboard:nightly_figures", at="05:20", day_offset=0,
        description="the dashboard's ageing and recovery trend per grid, for views over many customers (rerunnable)",
        rows=("rows",)),
    Job("risk.score", func="recovery.risk.jobs:nightly_score", at="04:30", day_offset=0,
        description="score every customer's arrears risk as of today (trains a first model if none is active)",
        rows=("scored",)),
    Job("collections.promises", func="recovery.collections.promises:nightly", at="04:35",
        description="promises to pay kept or broken; pay plans completed or broken (a broken plan costs rating "
                    "points); rerunnable",
        rows=("promises_kept", "promises_broken", "promises_open", "plans_completed", "plans_broken", "plans_active")),
    Job("collections.writeoff_recovery", func="recovery.collections.writeoff.service:recover", at="04:38",
        description="a credit on an account with written-off debt recovers that debt (rerunnable)",
        rows=("recovered",)),
    Job("customers.big", func="recovery.bigcustomers.service:nightly", at="04:20", day_offset=0,
        description="today's big customers (monthly bill over the policy's amount, or strategic); a first-contact "
                    "call within the deadline for new ones; first contacts made (rerunnable)",
        rows=("big",)),
    Job("collections.dunning", func="recovery.collections.dunning:nightly", at="04:40",
        description="recompute every customer's dunning step from the open items; notices, officer work, "
                    "disconnection orders (re-checked on the latest data), reconnections; rerunnable",
        rows=("on_ladder",)),
    Job("collections.worklist", func="recovery.worklist.build:nightly", at="05:00", day_offset=0,
        description="customer segments, account-manager coverage (deputies take over), early warnings and "
                    "today's work items ordered by expected recoverable amount; rerunnable",
        rows=("segments.customers",)),
    Job("assessment.close", func="recovery.assessment.service:nightly_close", at="05:40", day_offset=0,
        description="on [assessment] close_day, close the month before: keep its officers', grids' and "
                    "agents' tables as the figures pay is reckoned on (once; `recovery assessment --close` "
                    "recloses)"),
    Job("loss.screening", func="recovery.loss.suspects:monthly", at="05:45", day_offset=0,
        description="on or after [loss] screen_day, screen the month before for theft and line loss: its "
                    "suspect list, most suspect first (once; `recovery loss suspects` screens again)",
        rows=("customers",)),
    Job("agents.commission", func="recovery.payments.terms:nightly_close", at="05:45", day_offset=0,
        description="on [assessment] close_day, close the month before's agents' commissions: keep what the "
                    "utility pays each agent (once; `recovery agent commission --close` recloses)"),
    Job("notifications.send", func="recovery.notifications.senders:nightly", at="06:30", day_offset=0,
        description="deliver the outbox's unsent notices (SMS gateway or log); failures stay queued",
        rows=("sent", "failed")),
)


def job(job_id: str) -> Job:
    """The job with this id; KeyError names the ones there are."""
    for j in JOBS:
        if j.id == job_id:
            return j
    raise KeyError(f"no job {job_id!r}; jobs: {', '.join(j.id for j in JOBS) or '(none)'}")


_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]\Z")


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
