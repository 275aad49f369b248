"""JSON shapes of the worklist API: work items, their completion, account managers and coverage."""

from __future__ import annotations

import datetime as dt

from marshmallow import Schema, fields, validate

from recovery.bounds import BoundedDate
from recovery.collections.visits import OUTCOMES
from recovery.customers.schemas import Instant, Yuan


class WorklistArgs(Schema):
    date = BoundedDate(validate=validate.Range(min=dt.date(2000, 1, 1), max=dt.date(2099, 12, 31)),
                       metadata={"description": "business date (default today)"})
    officer = fields.String(metadata={"description": "supervisors: items assigned to this username"})
    grid = fields.String(metadata={"description": "grid code"})


class WorkItemOut(Schema):
    id = fields.Integer()
    customer_id = fields.String(metadata={"description": "the customer's code"})
    customer_name = fields.String()
    grid = fields.String()
    due_on = BoundedDate()
    kind = fields.String(metadata={"description": "call, visit, notice, promise_followup or plan_followup"})
    reason = fields.String(metadata={"description": "e.g. promise_due, plan_due, segment_call, follow_up, "
                                                   "early_warning_zero_consumption, early_warning_first_late"})
    priority = Yuan(attribute="priority_fen", metadata={"type": "string", "example": "1234.56",
                                                        "description": "expected recoverable amount, yuan"})
    assigned_to = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "open, done or dismissed"})
    outcome = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    done_by = fields.String(allow_none=True)
    done_at = Instant(allow_none=True)
    source_type = fields.String(allow_none=True)
    source_id = fields.Integer(allow_none=True)


class WorklistOut(Schema):
    date = BoundedDate()
    open = fields.List(fields.Nested(WorkItemOut), metadata={"description": "by expected recoverable amount"})
    done = fields.List(fields.Nested(WorkItemOut), metadata={"description": "done or dismissed that day"})


class DoneIn(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    note = fields.String(validate=validate.Length(max=2000))


class DismissIn(Schema):
    note = fields.String(validate=validate.Length(max=2000))


class ManagerIn(Schema):
    manager = fields.String(required=True, metadata={"description": "username of the account manager"})
    deputy = fields.String(allow_none=True, metadata={"description": "username of the deputy (not the manager)"})


class ManagerOut(Schema):
    customer_id = fields.String()
    manager = fields.String(allow_none=True)
    deputy = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True, metadata={"description": "who gets the work now"})


class OrphanOut(Schema):
    code = fields.String(data_key="customer_id")
    grid = fields.String()
    manager = fields.String(allow_none=True)
    deputy = fields.String(allow_none=True)
    why = fields.String(metadata={"description": "unassigned or manager_and_deputy_gone"})


class LoadOut(Schema):
    manager = fields.String()
    active = fields.Boolean()
    customers = fields.Integer()
    high_value = fields.Integer()
    potential = fields.Integer()
    medium = fields.Integer()
    low = fields.Integer()
    load = fields.Float(metadata={"description": "managers' worth of customers by the coverage rule (1.0: full)"})
    deputy_for = fields.Integer()


class CoverageOut(Schema):
    orphans = fields.List(fields.Nested(OrphanOut))
    without_deputy = fields.Integer()
    managers = fields.List(fields.Nested(LoadOut))
