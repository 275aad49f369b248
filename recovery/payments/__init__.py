"""Payments from every channel and their allocation to bills."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click
    from flask import Flask

    from recovery.domains import Apis


# This package's sections of the policy file: name -> "module:Schema" (recovery.policy finds them here).
POLICY_SECTIONS = {
    "direct_debit": "recovery.payments.direct_debit.service:DirectDebitPolicySchema",
    "payments": "recovery.payments.policy:PaymentsPolicySchema",
    "prepayment": "recovery.payments.prepaid:PrepaymentPolicySchema",
    "cards": "recovery.payments.channels.cards:CardsPolicySchema",
    "agents": "recovery.payments.terms:AgentsPolicySchema",
}


def init_app(app: Flask, apis: Apis) -> None:
    """The channels' pages (counter, cards, kiosks, direct debit, agents' terms), the staff payment APIs, and the
    signed APIs of agents and kiosks."""
    from recovery.payments import terms_views, views
    from recovery.payments.channels import views as channel_views
    from recovery.payments.direct_debit import views as debit_views

    for blueprint in (channel_views.pages_bp, debit_views.bp, terms_views.pages):
        app.register_blueprint(blueprint)
    apis.staff(channel_views.staff_bp, terms_views.api_bp)
    apis.signed(views.api_bp, "X-Agent-Id")
    apis.signed(channel_views.kiosk_bp, "X-Kiosk-Id")


def init_cli(cli: click.Group) -> None:
    """`recovery penalties|debit|kiosk|cards|counter|prepaid …`, and the agent actions under `recovery agent`."""
    from recovery.payments import terms_cli
    from recovery.payments.channels import cli as channel_cli
    from recovery.payments.direct_debit import cli as debit_cli

    for group in (debit_cli.penalties_group, debit_cli.debit_group, channel_cli.kiosk_group, channel_cli.cards_group,
                  channel_cli.counter_group, channel_cli.prepaid_group):
        cli.add_command(group)
    agent = cli.commands["agent"]
    # suspend, reinstate, forfeit: each requests a supervisor's approval; the month's commission, the deposit
    for command in (channel_cli.agent_suspend, channel_cli.agent_reinstate, channel_cli.agent_forfeit,
                    terms_cli.agent_commission, terms_cli.agent_deposit):
        agent.add_command(command)
    channel_cli.cards_group.add_command(terms_cli.distributor_areas)
