"""JSON API for staff: customers, their bills, payments and ledger."""

from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from recovery.auth.views import api_login_required
from recovery.extensions import db
from recovery.portfolio import service
from recovery.portfolio.schemas import (
    BillSchema,
    CustomerPageSchema,
    LedgerEntrySchema,
    PageArgs,
    PaymentSchema,
    PositionSchema,
)
from recovery.timeutil import today

api_bp = Blueprint("customers", __name__, url_prefix="/api/v1/customers",
                   description="Customers of the signed-in officer's grids, with their accounts.")


@api_bp.route("")
class Customers(MethodView):
    decorators = (api_login_required,)

    @api_bp.arguments(PageArgs, location="query")
    @api_bp.response(200, CustomerPageSchema)
    def get(self, args):
        """List customers with balance, overdue amount and days overdue."""
        return service.customer_page(db.session, current_user, today(), **args)


@api_bp.route("/<code>")
class CustomerOne(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, PositionSchema)
    def get(self, code: str):
        """One customer with where their account stands today."""
        customer = service.get_customer(db.session, current_user, code)
        pos = service.position(db.session, customer, today())
        return {**{c: getattr(customer, c) for c in (
            "code", "name", "customer_class", "id_number", "registered_capital_fen", "opened_on", "phone")},
            "grid": customer.grid.code, **pos}


@api_bp.route("/<code>/bills")
class CustomerBills(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, BillSchema(many=True))
    def get(self, code: str):
        """The customer's bills with what was paid on each and when it was fully paid."""
        return service.bills(db.session, service.get_customer(db.session, current_user, code))


@api_bp.route("/<code>/payments")
class CustomerPayments(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, PaymentSchema(many=True))
    def get(self, code: str):
        """The customer's payments and the bills each settled."""
        return service.payments(db.session, service.get_customer(db.session, current_user, code))


@api_bp.route("/<code>/ledger")
class CustomerLedger(MethodView):
    decorators = (api_login_required,)

    @api_bp.response(200, LedgerEntrySchema(many=True))
    def get(self, code: str):
        """The customer's ledger entries with the running balance."""
        return service.ledger(db.session, service.get_customer(db.session, current_user, code))
