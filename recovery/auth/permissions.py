"""Who may do what: one table from each action to the roles allowed to take it.

Every check of a role against a set of roles goes through this table: the views and the API with `require`
(or the `permits` decorator), page templates and services with `may`. The commands act as an admin through
the same services. A check of who someone is rather than what they may do (an officer's grids, a cashier's
own drawer, the inspector a task is assigned to) stays where it is: it is not a permission.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from functools import wraps
from types import MappingProxyType
from typing import ParamSpec, TypeVar

from flask_login import current_user

from recovery.auth.models import Role, User
from recovery.errors import Forbidden


class Action(StrEnum):
    """What one may do, named by the work it lets one do."""

    # The officers' work on their grids' customers: the worklist, collections (visits, promises, pay plans,
    # holds, carrying out a disconnection, asking for a write-off), credit (recomputing a rating, proposing
    # terms), security (asking for deposits and guarantees), buildings' residents, big customers' contacts.
    work_customers = "work_customers"
    read_dashboard = "read_dashboard"
    read_activity = "read_activity"
    read_assessment = "read_assessment"
    # Every officer's and grid's rows of the assessment and the activity report (an officer reads their own).
    read_all_results = "read_all_results"
    # Who may be a customer's account manager or deputy (recovery.worklist.coverage).
    manage_accounts = "manage_accounts"
    # Supervising the worklist: any officer's list, the team's load, naming a customer's manager.
    supervise_worklist = "supervise_worklist"
    # Deciding the approval requests (deposits, guarantees, terms, agents, write-offs, disconnections, theft).
    decide_approvals = "decide_approvals"
    override_credit = "override_credit"
    # Money received on a deposit: the officers', and the clerks' who see it arrive.
    receive_deposits = "receive_deposits"
    # Exempting a customer from dunning and withdrawing a disconnection order.
    decide_dunning = "decide_dunning"
    # Referring a debt to a collection agency and closing the referral.
    refer_debts = "refer_debts"
    # Registering a complaint: whoever hears it, the service hall's cashiers included.
    register_disputes = "register_disputes"
    # Owning a dispute and answering it (the owner's own; a supervisor's, any).
    answer_disputes = "answer_disputes"
    # Answering any owner's dispute and giving a dispute to another owner.
    supervise_disputes = "supervise_disputes"
    # Stopping a property company's collecting; flagging demolition and clearance sites.
    supervise_buildings = "supervise_buildings"
    flag_strategic = "flag_strategic"
    reconcile = "reconcile"
    run_direct_debit = "run_direct_debit"
    # The partner agents' terms: reading them, and setting an agent's deposit.
    read_terms = "read_terms"
    set_terms = "set_terms"
    # The cashier's own counter drawer: opening it, taking payments, closing it.
    work_counter = "work_counter"
    redeem_cards = "redeem_cards"
    # Line loss: the areas, suspects, inspections and tip-offs.
    read_loss = "read_loss"
    screen_suspects = "screen_suspects"
    # Sending an inspector: supervisors, and inspectors taking a case themselves.
    assign_inspections = "assign_inspections"
    # Recording the outcome of any inspection, not only one's own.
    record_any_inspection = "record_any_inspection"


_OFFICERS = frozenset({Role.officer, Role.supervisor, Role.admin})
_SUPERVISORS = frozenset({Role.supervisor, Role.admin})
_FINANCE = frozenset({Role.clerk, Role.supervisor, Role.admin})
_INSPECTING = frozenset({Role.inspector, Role.supervisor, Role.admin})

PERMISSIONS: Mapping[Action, frozenset[Role]] = MappingProxyType({
    Action.work_customers: _OFFICERS,
    Action.read_dashboard: _OFFICERS,
    Action.read_activity: _OFFICERS,
    Action.read_assessment: _OFFICERS,
    Action.read_all_results: _SUPERVISORS,
    Action.manage_accounts: frozenset({Role.officer, Role.supervisor}),
    Action.supervise_worklist: _SUPERVISORS,
    Action.decide_approvals: _SUPERVISORS,
    Action.override_credit: _SUPERVISORS,
    Action.receive_deposits: _OFFICERS | {Role.clerk},
    Action.decide_dunning: _SUPERVISORS,
    Action.refer_debts: _SUPERVISORS,
    Action.register_disputes: _OFFICERS | {Role.cashier},
    Action.answer_disputes: _OFFICERS,
    Action.supervise_disputes: _SUPERVISORS,
    Action.supervise_buildings: _SUPERVISORS,
    Action.flag_strategic: _SUPERVISORS,
    Action.reconcile: _FINANCE,
    Action.run_direct_debit: _FINANCE,
    Action.read_terms: _FINANCE,
    Action.set_terms: _SUPERVISORS,
    Action.work_counter: frozenset({Role.cashier}),
    Action.redeem_cards: _FINANCE | {Role.cashier},
    Action.read_loss: _INSPECTING,
    Action.screen_suspects: _INSPECTING,
    Action.assign_inspections: _INSPECTING,
    Action.record_any_inspection: _SUPERVISORS,
})


def may(who: User | str, action: Action) -> bool:
    """Whether this user (or a user of this role: the commands act as "admin") may take `action`; someone
    signed out (no role) may take none."""
    role = who if isinstance(who, str) else getattr(who, "role", None)
    return role in PERMISSIONS[action]


def allowed(action: Action) -> str:
    """The roles that may take `action`, for a refusal's message: "admin or supervisor"."""
    return " or ".join(sorted(PERMISSIONS[action]))


def require(action: Action, message: str | None = None) -> None:
    """Refuse the signed-in user unless their role may take `action`: Forbidden (403) with code
    role_not_allowed, which the API answers as JSON and a page as its 403 page (recovery.errors)."""
    if not may(current_user, action):
        role = getattr(current_user, "role", None) or "user who is not signed in"
        raise Forbidden(message or f"a {role} may not do this", code="role_not_allowed")


P = ParamSpec("P")
R = TypeVar("R")


def permits(action: Action) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A view that only the roles allowed `action` reach (`require` before it runs); put it under the
    sign-in check, so that someone signed out is sent to sign in rather than refused."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            require(action)
            return view(*args, **kwargs)

        return wrapper

    return decorator
