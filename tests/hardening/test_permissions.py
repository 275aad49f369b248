"""The permission table (recovery.auth.permissions) is the one place that says who may do what: every action
has its row, no other module keeps a set of roles of its own, and `require` refuses a role not in the row
with the 403 the API answers as JSON and a page as its error page."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask_login import login_user

import recovery
from recovery.auth.models import Role, User
from recovery.auth.permissions import PERMISSIONS, Action, may, permits, require
from recovery.auth.service import create_user
from recovery.errors import Forbidden
from recovery.extensions import db
from tests.web.data import PASSWORD, cheap_password_hashing

PACKAGE = Path(recovery.__file__).parent
ROLE_NAMES = {role.value for role in Role}


def test_every_action_has_a_row_of_known_roles():
    assert set(PERMISSIONS) == set(Action)
    for action, roles in PERMISSIONS.items():
        assert roles, f"no role may {action}"
        assert isinstance(roles, frozenset) and roles <= set(Role), action


def _is_role(node: ast.expr) -> bool:
    """`Role.officer`, or the string "officer"."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Role":
        return True
    return isinstance(node, ast.Constant) and node.value in ROLE_NAMES


def _role_sets(tree: ast.AST) -> list[int]:
    """The lines of set, tuple and list displays (and frozenset/set/tuple calls on one) made of roles only:
    a Role member among them, or at least two role names as strings."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in (
                "frozenset", "set", "tuple") and node.args and isinstance(node.args[0], (ast.Set, ast.Tuple, ast.List)):
            continue  # its argument is looked at on its own
        if not isinstance(node, (ast.Set, ast.Tuple, ast.List)) or not node.elts:
            continue
        if all(_is_role(e) for e in node.elts) and (
                len(node.elts) >= 2 or any(isinstance(e, ast.Attribute) for e in node.elts)):
            lines.append(node.lineno)
    return sorted(lines)


def test_no_module_outside_auth_keeps_a_set_of_roles_of_its_own():
    """A check of a role against several roles goes through the table; a module with its own set would let the
    two drift apart. (Comparing with one role is who someone is, not a permission, and stays where it is.)"""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in ("auth", "migrations"):
            continue
        lines = _role_sets(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        if lines:
            found[str(relative)] = lines
    assert found == {}, "use recovery.auth.permissions (may, require) instead of these sets of roles"


def test_the_scan_finds_the_sets_it_forbids():
    source = ("A = frozenset({Role.supervisor, Role.admin})\nif user.role in (Role.officer, Role.admin): pass\n"
              "B = {'clerk', 'admin'}\nC = [Role.cashier]\nD = ('officer', 'grid')\nif role == Role.officer: pass\n")
    assert _role_sets(ast.parse(source)) == [1, 2, 3, 4]


@pytest.mark.parametrize("action", list(Action))
def test_may_follows_the_row(action):
    for role in Role:
        assert may(role.value, action) is (role in PERMISSIONS[action])
        assert may(User(role=role.value), action) is (role in PERMISSIONS[action])


@pytest.mark.parametrize("action", list(Action))
def test_require_refuses_a_role_not_in_the_row_and_lets_the_others_through(app, action):
    for role in Role:
        with app.test_request_context("/api/v1/anything"):
            login_user(User(username=f"a-{role}", role=role.value, active=True))
            if role in PERMISSIONS[action]:
                require(action)
                assert permits(action)(lambda: "done")() == "done"
                continue
            with pytest.raises(Forbidden) as refused:
                require(action)
            assert (refused.value.status, refused.value.code) == (403, "role_not_allowed")
            with pytest.raises(Forbidden):
                permits(action)(lambda: "done")()


def test_someone_signed_out_may_do_nothing(app):
    with app.test_request_context("/"):
        from flask_login import current_user

        assert not any(may(current_user, action) for action in Action)
        with pytest.raises(Forbidden) as refused:  # a refusal, never an error over the missing role
            require(Action.read_dashboard)
        assert refused.value.status == 403


def test_a_refused_role_gets_the_apis_json_and_a_pages_error_page(app, client, monkeypatch):
    cheap_password_hashing(monkeypatch)
    create_user(db.session, "cashier", role="cashier", password=PASSWORD)
    db.session.commit()
    assert client.post("/login", data={"username": "cashier", "password": PASSWORD}).status_code == 302
    page = client.get("/reconcile")
    assert page.status_code == 403 and page.mimetype == "text/html"
    api = client.get("/api/v1/property-companies")
    assert api.status_code == 403 and api.get_json()["code"] == "role_not_allowed"
