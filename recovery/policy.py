"""The utility's policy: rating scales, penalty rates, deposit rules … as configuration, not code.

One TOML file (`RECOVERY_POLICY`, default `instance/policy.toml` when it exists) holds a section per
domain. Each domain declares its section with a marshmallow schema whose fields carry the defaults,
so an empty file (or none) is the documented default policy, and a section with a typo or a bad
value fails at start-up with the section and field named. `recovery policy show` prints the policy
in force; tests pass `POLICY` in the app's config.
"""

from __future__ import annotations

import os
import tomllib
from importlib import import_module
from pathlib import Path
from typing import Any

from flask import current_app
from marshmallow import Schema, ValidationError

from recovery import context
from recovery.errors import Invalid

# Section name -> "module:SchemaClass". One table, so `policy show` and start-up see every section.
SECTIONS: dict[str, str] = {}


def register_section(name: str, schema_path: str) -> None:
    """Declare a policy section (called from the table below, never at import time of a domain)."""
    SECTIONS[name] = schema_path


def read_policy_file(instance: Path) -> dict[str, Any]:
    """The raw policy from RECOVERY_POLICY or instance/policy.toml; {} when there is none."""
    path = os.environ.get("RECOVERY_POLICY")
    file = Path(path) if path else instance / "policy.toml"
    if not file.exists():
        if path:
            raise Invalid(f"RECOVERY_POLICY names a file that does not exist: {file}")
        return {}
    try:
        with file.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise Invalid(f"{file}: not valid TOML: {e}") from e


def _schema(name: str) -> Schema:
    module, _, cls = SECTIONS[name].partition(":")
    return getattr(import_module(module), cls)()


def section(name: str, raw: dict[str, Any] | None = None) -> Any:
    """The validated policy section `name` (defaults filled in), as the schema's load() returns it: from `raw`
    when given, else from the active context (recovery.context), else from the application's config."""
    if raw is None and (given := context.active()) is not None:
        if name not in given.loaded:
            given.loaded[name] = section(name, dict(given.policy))
        return given.loaded[name]
    if raw is None:
        in_force = current_app.config.get("POLICY_IN_FORCE")
        if in_force is not None and name in in_force:
            return in_force[name]
        raw = current_app.config.get("POLICY", {})
    try:
        return _schema(name).load(raw.get(name, {}))
    except ValidationError as e:
        raise Invalid(f"policy section [{name}]: {e.messages}") from e


def validate_all(raw: dict[str, Any]) -> dict[str, Any]:
    """Every section validated; unknown sections refused (a typo must not silently mean 'default')."""
    unknown = set(raw) - set(SECTIONS)
    if unknown:
        raise Invalid(f"policy: unknown section(s) {sorted(unknown)}; known: {sorted(SECTIONS)}")
    return {name: section(name, raw) for name in SECTIONS}


# The sections of the policy. Each domain adds its line here.
register_section("jobs", "recovery.jobs.table:JobsPolicySchema")
register_section("deposit", "recovery.credit.security.policy:DepositPolicySchema")
register_section("guarantee", "recovery.credit.security.policy:GuaranteePolicySchema")
register_section("qualification", "recovery.credit.security.policy:QualificationPolicySchema")
register_section("rating", "recovery.credit.rating.policy:RatingPolicySchema")
register_section("settlement", "recovery.credit.rating.policy:SettlementPolicySchema")
register_section("penalty", "recovery.billing.penalty_policy:PenaltyPolicySchema")
register_section("allocation", "recovery.billing.penalty_policy:AllocationPolicySchema")
register_section("direct_debit", "recovery.payments.direct_debit.service:DirectDebitPolicySchema")
register_section("payments", "recovery.payments.policy:PaymentsPolicySchema")
register_section("prepayment", "recovery.payments.prepaid:PrepaymentPolicySchema")
register_section("cards", "recovery.payments.channels.cards:CardsPolicySchema")
register_section("reconcile", "recovery.reconcile.policy:ReconcilePolicySchema")
register_section("dunning", "recovery.collections.policy:DunningPolicySchema")
register_section("notifications", "recovery.notifications.texts:NotificationsPolicySchema")
register_section("assessment", "recovery.assessment.policy:AssessmentPolicySchema")
register_section("segments", "recovery.worklist.policy:SegmentsPolicySchema")
register_section("coverage", "recovery.worklist.policy:CoveragePolicySchema")
register_section("worklist", "recovery.worklist.policy:WorklistPolicySchema")
register_section("disputes", "recovery.disputes.policy:DisputesPolicySchema")
register_section("loss", "recovery.loss.policy:LossPolicySchema")
register_section("big_customers", "recovery.bigcustomers.policy:BigCustomersPolicySchema")
register_section("agents", "recovery.payments.terms:AgentsPolicySchema")
