"""Policy section [reconcile]: matching rules per channel and which bank account is which channel account.

    [reconcile]
    margin_hours = 24            # rows this far either side of the day are loaded to find timing differences
    suspense_channels = ["bank", "direct_debit"]   # their unmatched credits go to the suspense worklist
    remittance_days = 1          # an agent hands over each day's takings by the end of the next day
    [reconcile.accounts]         # a bank statement's account number -> "channel:channel_account"
    "6222020200112233445" = "bank:ICBC01"          # (or just "ICBC01": channel bank); kept in CNY
    "HK0012345678" = { channel_account = "bank:BOCHK01", currency = "HKD" }
    "NL26VAYB8060476890" = { currency = "EUR" }    # its own number as the account, in euros
    [reconcile.channels.agent]   # any field left out keeps that channel's default below
    passes = ["reference", "customer", "many_to_one"]
    amount_tolerance = "0.00"
    time_tolerance_minutes = 120
    cutoff_window_minutes = 30
    duplicate_window_minutes = 10
    group_by = []                # many-to-one over the whole account-day (an agent's daily total)

A bank statement whose account is not in [reconcile.accounts] is the channel account named by its
own account number (cut to 40 characters), in the channel the command names (default bank).

Every statement account has a currency: the one its [reconcile.accounts] entry gives (by the bank's
account number, or by the channel account it maps to), else CNY. A statement or a direct-debit result
file in another currency is refused: its amounts are not fen of yuan.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
from marshmallow import Schema, ValidationError, fields, validate

from reconciliation.matching import PASSES, Rules
from recovery import policy
from recovery.errors import Invalid
from recovery.money import parse_yuan
from recovery.payments.models import Channel

DEFAULTS: dict[str, dict[str, Any]] = {
    # Banks write the payment's reference (or put it in the description); lines carry no customer.
    "bank": {"passes": ["reference", "text_reference", "customer"], "group_by": ["customer"]},
    "direct_debit": {"passes": ["reference", "text_reference", "customer"], "group_by": ["customer"]},
    # An agent's statement lists each payment, or one daily total (many-to-one over the account-day).
    "agent": {"passes": ["reference", "customer", "many_to_one", "one_to_many"], "group_by": []},
    "card": {"passes": ["reference", "customer", "many_to_one"], "group_by": []},
    "kiosk": {"passes": ["reference", "customer", "many_to_one"], "group_by": []},
    "counter": {"passes": ["reference", "customer", "many_to_one"], "group_by": []},
}
BASE = {"amount_tolerance": "0.00", "time_tolerance_minutes": 120, "cutoff_window_minutes": 30,
        "duplicate_window_minutes": 10}


DEFAULT_CURRENCY = "CNY"
ACCOUNT_FIELDS = ("channel_account", "currency")


class AccountEntry(fields.Field):
    """A [reconcile.accounts] value: "channel:account" (or "account"), or a table of channel_account and
    currency; loaded as {"channel_account": str | None, "currency": str}."""

    def _deserialize(self, value, attr, data, **kwargs) -> dict[str, Any]:
        if isinstance(value, str):
            value = {"channel_account": value}
        if not isinstance(value, dict):
            raise ValidationError('expected "channel:account" or a table such as '
                                  '{ channel_account = "bank:ICBC01", currency = "CNY" }')
        unknown = sorted(set(value) - set(ACCOUNT_FIELDS))
        if unknown:
            raise ValidationError(f"unknown field(s) {unknown}; fields: {', '.join(ACCOUNT_FIELDS)}")
        target, currency = value.get("channel_account"), value.get("currency", DEFAULT_CURRENCY)
        if target is not None and (not isinstance(target, str) or not target.strip()):
            raise ValidationError(f"channel_account: a non-empty string, got {target!r}")
        if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
            raise ValidationError(f"currency: an ISO 4217 code such as CNY, got {currency!r}")
        return {"channel_account": target, "currency": currency}


def _yuan(text: str) -> None:
    try:
        parse_yuan(text)
    except Invalid as e:
        raise ValidationError(e.message) from None


class ChannelRulesSchema(Schema):
    """One channel's matching rules; every field optional (the channel's default applies)."""

    passes = fields.List(fields.String(validate=validate.OneOf(PASSES)))
    amount_tolerance = fields.String(validate=_yuan)
    time_tolerance_minutes = fields.Integer(validate=validate.Range(min=0))
    cutoff_window_minutes = fields.Integer(validate=validate.Range(min=0, max=720))
    duplicate_window_minutes = fields.Integer(validate=validate.Range(min=0))
    group_by = fields.List(fields.String(validate=validate.OneOf(["customer"])))


class ReconcilePolicySchema(Schema):
    """[reconcile] in the policy (see the module docstring)."""

    margin_hours = fields.Integer(load_default=24, validate=validate.Range(min=1, max=72))
    suspense_channels = fields.List(fields.String(validate=validate.OneOf([c.value for c in Channel])),
                                    load_default=lambda: ["bank", "direct_debit"])
    remittance_days = fields.Integer(load_default=1, validate=validate.Range(min=1, max=31))
    accounts = fields.Dict(keys=fields.String(), values=AccountEntry(), load_default=dict)
    channels = fields.Dict(keys=fields.String(validate=validate.OneOf([c.value for c in Channel])),
                           values=fields.Nested(ChannelRulesSchema), load_default=dict)


def settings() -> dict[str, Any]:
    """The [reconcile] section in force."""
    return policy.section("reconcile")


def rules_for(channel: str) -> Rules:
    """The matching rules of a channel: its default, overridden field by field by the policy."""
    given = {**BASE, **DEFAULTS.get(channel, DEFAULTS["counter"]), **settings()["channels"].get(channel, {})}
    return Rules(
        passes=tuple(given["passes"]),
        amount_tolerance_fen=parse_yuan(given["amount_tolerance"]),
        time_tolerance=pd.Timedelta(minutes=given["time_tolerance_minutes"]),
        cutoff_window=pd.Timedelta(minutes=given["cutoff_window_minutes"]),
        duplicate_window=pd.Timedelta(minutes=given["duplicate_window_minutes"]),
        group_by=tuple(given["group_by"]),
    )


def _target(mapped: str, channel: str | None) -> tuple[str, str]:
    ch, sep, acct = mapped.partition(":")
    return (ch, acct) if sep else (channel or "bank", mapped)


def channel_account_for(bank_account: str | None, channel: str | None) -> tuple[str, str]:
    """(channel, channel_account) of a bank statement's account number, by [reconcile.accounts]."""
    entry = settings()["accounts"].get(bank_account or "")
    if entry and entry["channel_account"]:
        return _target(entry["channel_account"], channel)
    return channel or "bank", (bank_account or "unknown")[:40]


def currency_for(bank_account: str | None, channel: str, channel_account: str) -> str:
    """The currency a statement account is kept in: its [reconcile.accounts] entry's, found by the bank's
    account number or by the channel account it maps to; else CNY."""
    accounts = settings()["accounts"]
    entry = accounts.get(bank_account or "")
    if entry is None:
        entry = next((e for e in accounts.values()
                      if e["channel_account"] and _target(e["channel_account"], channel) == (channel, channel_account)),
                     None)
    return entry["currency"] if entry else DEFAULT_CURRENCY

