"""The domains the service is built of. Each domain package registers itself: `init_app(app, apis)` adds its pages
and JSON APIs to an application, `init_cli(cli)` its commands to the `recovery` command line (two hooks, because
click builds the command line before, and without, an application). `create_app` and the command line loop over
these lists; a new domain is one name here."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module
from types import ModuleType

import click
from flask import Blueprint, Flask
from flask_smorest import Api

from recovery.apidoc import CallerDoc
from recovery.extensions import csrf

DOMAINS = ("auth", "web", "approvals", "payments", "reconcile", "credit", "collections", "assessment", "worklist",
           "disputes", "reports", "loss", "buildings", "bigcustomers", "portfolio")
# Packages of the service's own machinery that add commands but no pages (ops, which adds neither, binds its pieces
# first of all, in create_app, before any route).
MACHINERY = ("jobs",)


def packages(names: tuple[str, ...] = DOMAINS) -> Iterator[ModuleType]:
    """The packages named, in that order."""
    for name in names:
        yield import_module(f"recovery.{name}")


def init_cli(cli: click.Group) -> None:
    """Every domain's commands, and the machinery's, on the `recovery` command line."""
    for package in packages(DOMAINS + MACHINERY):
        if hasattr(package, "init_cli"):
            package.init_cli(cli)


class Apis:
    """The JSON APIs the domains register, of two kinds:
    - staff APIs, for signed-in users: they take no CSRF token; instead every write must come as JSON
      (`auth.views.json_writes_only`): a page of another site cannot send that with the user's cookie without
      the browser asking first (CORS), and this app answers no such question;
    - signed APIs, for partner agents and kiosks, authenticated by an HMAC signature; `header` names the caller.
    """

    def __init__(self, app: Flask, api: Api) -> None:
        self.app, self.api = app, api
        self.staff_apis: list[Blueprint] = []
        self.signed_apis: dict[Blueprint, str] = {}

    def staff(self, *blueprints: Blueprint) -> None:
        self.staff_apis.extend(blueprints)

    def signed(self, blueprint: Blueprint, header: str) -> None:
        self.signed_apis[blueprint] = header

    def register(self, caller_doc: CallerDoc) -> None:
        """Register every API blueprint, described in the OpenAPI document by how its callers authenticate."""
        from recovery.auth.views import json_writes_only

        staff_names = frozenset(b.name for b in self.staff_apis)
        caller_doc.describe(signed={b.name: header for b, header in self.signed_apis.items()}, staff=staff_names)
        for blueprint in (*self.staff_apis, *self.signed_apis):
            csrf.exempt(blueprint)
            self.api.register_blueprint(blueprint)
        self.app.before_request(lambda: json_writes_only(staff_names))


def init_app(app: Flask, api: Api, caller_doc: CallerDoc) -> None:
    """Every domain's pages and APIs on `app`."""
    apis = Apis(app, api)
    for package in packages():
        if hasattr(package, "init_app"):
            package.init_app(app, apis)
    apis.register(caller_doc)
