"""Policy sections [deposit], [guarantee] and [qualification]: every number of the security rules.

An empty policy file gives the documented defaults below. Amounts are yuan strings (as everywhere
outside the service); multiples and rates are decimals (`2`, `"1.5"`); everything is loaded into fen
and exact Decimals here, so the rules never see a float.

    [deposit]
    multiple = 2            # times the average monthly bill of the last `months` months
    cap = "500000.00"       # never recommend more than this ("" for no cap)
    tolerance = "100.00"    # a shortfall up to this asks for no top-up
    [deposit.by_class.industrial]
    multiple = 3
    [deposit.required]      # security a grade requires, as a multiple of the recommended deposit
    A = 0
    B = 0
    C = 1
"""

from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from recovery.credit.security.models import GuaranteeKind
from recovery.customers.models import CustomerClass
from recovery.money import parse_yuan

OUTCOMES = ("none", "deposit", "guarantee", "prepayment")


class Yuan(fields.Field):
    """A yuan amount in the policy file ("100.00" or a whole number) loaded as integer fen; "" is None."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValidationError("a yuan amount as a string, e.g. \"100.00\"")
        try:
            return parse_yuan(str(value))
        except Exception as e:
            raise ValidationError(str(e)) from e


def _non_negative(value: Decimal) -> None:
    if value < 0:
        raise ValidationError("must not be negative")


class DepositClassSchema(Schema):
    """Per customer class overrides of the deposit rule (anything left out takes the section's value)."""

    multiple = fields.Decimal(validate=_non_negative)
    cap = Yuan(allow_none=True)
    minimum = Yuan()


class DepositPolicySchema(Schema):
    """[deposit]: the recommended deposit, the top-up tolerance, release after good behaviour, interest,
    and the security each grade requires."""

    months = fields.Integer(load_default=12, validate=validate.Range(min=1, max=60))
    multiple = fields.Decimal(load_default=Decimal("2"), validate=_non_negative)
    cap = Yuan(load_default=parse_yuan("500000.00"), allow_none=True)
    # A floor for customers with little or no billing history (a new enterprise at sign-up).
    minimum = Yuan(load_default=0)
    # Recommended amounts are rounded up to this step (whole yuan by default).
    round_to = Yuan(load_default=100, validate=validate.Range(min=1))
    tolerance = Yuan(load_default=parse_yuan("100.00"))
    by_class = fields.Dict(keys=fields.String(validate=validate.OneOf([c.value for c in CustomerClass])),
                           values=fields.Nested(DepositClassSchema), load_default=dict)
    # Required security as a multiple of the recommended deposit, per grade; customers without a
    # rating count as `unrated`; cash-only customers need at least `cash_only` times it.
    required = fields.Dict(keys=fields.String(), values=fields.Decimal(validate=_non_negative),
                           load_default=lambda: {"A": Decimal(0), "B": Decimal(0), "C": Decimal(1)})
    unrated = fields.Decimal(load_default=Decimal(0), validate=_non_negative)
    cash_only = fields.Decimal(load_default=Decimal(1), validate=_non_negative)
    # Release after good behaviour: held this many years, with at most `release_max_late` bills paid
    # late in that time and (if set) none of them paid only in a later month than it fell due.
    release_after_years = fields.Integer(load_default=3, validate=validate.Range(min=0, max=30))
    release_max_late = fields.Integer(load_default=3, validate=validate.Range(min=0))
    release_none_into_next_month = fields.Boolean(load_default=True)
    # Simple annual interest on what is held, accrued per calendar month; 0 turns it off.
    interest_rate_percent = fields.Decimal(load_default=Decimal(0), validate=validate.Range(min=0, max=100))

    @post_load
    def _fill_classes(self, data, **_kw):
        # Each class's effective rule, so callers never merge defaults themselves.
        data["classes"] = {
            c.value: {"multiple": data["multiple"], "cap": data["cap"], "minimum": data["minimum"]}
            | {k: v for k, v in data["by_class"].get(c.value, {}).items()}
            for c in CustomerClass
        }
        return data


class GuaranteePolicySchema(Schema):
    """[guarantee]: when an expiry task is raised, and how much of each kind counts as security."""

    expiry_notice_days = fields.Integer(load_default=30, validate=validate.Range(min=0, max=366))
    # Percent of the face amount counted when checking adequacy (a mortgage may be worth less than its face).
    count_percent = fields.Dict(keys=fields.String(validate=validate.OneOf([k.value for k in GuaranteeKind])),
                                values=fields.Integer(validate=validate.Range(min=0, max=100)), load_default=dict)

    @post_load
    def _fill_kinds(self, data, **_kw):
        data["count_percent"] = {k.value: 100 for k in GuaranteeKind} | data["count_percent"]
        return data


class QualificationPolicySchema(Schema):
    """[qualification]: registered-capital thresholds per class and what a customer short of them provides."""

    # Classes not listed are not checked for capital. Yuan amounts.
    capital_thresholds = fields.Dict(
        keys=fields.String(validate=validate.OneOf([c.value for c in CustomerClass])), values=Yuan(),
        load_default=lambda: {"commercial": parse_yuan("500000"), "industrial": parse_yuan("1000000"),
                              "property_mgmt": parse_yuan("1000000")})
    # What a customer below its threshold (or with no capital on record) must provide.
    below_threshold = fields.String(load_default="deposit", validate=validate.OneOf(OUTCOMES[1:]))
    by_class = fields.Dict(keys=fields.String(validate=validate.OneOf([c.value for c in CustomerClass])),
                           values=fields.String(validate=validate.OneOf(OUTCOMES[1:])), load_default=dict)
    # Security a customer the review asked for a deposit or a guarantee must hold at least, whatever
    # its bills (a new enterprise has none to average).
    minimum_security = Yuan(load_default=parse_yuan("10000.00"))
    # An identity number (resident ID or unified social credit code) that fails its check characters,
    # or is of the wrong kind for the class; and none on record (the import contract makes it optional,
    # so by default a missing number is only reported).
    invalid_identity = fields.String(load_default="prepayment", validate=validate.OneOf(OUTCOMES))
    missing_identity = fields.String(load_default="none", validate=validate.OneOf(OUTCOMES))
    # Which identity each class must carry: resident ID (ric), credit code (uscc), or either.
    identity = fields.Dict(keys=fields.String(validate=validate.OneOf([c.value for c in CustomerClass])),
                           values=fields.String(validate=validate.OneOf(["ric", "uscc", "either"])),
                           load_default=lambda: {"residential": "ric", "agricultural": "either"})

    @validates_schema
    def _thresholds_set(self, data, **_kw):
        for name, value in data.get("capital_thresholds", {}).items():
            if value is None:
                raise ValidationError(f"capital_thresholds.{name}: a yuan amount is required")
