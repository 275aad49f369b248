"""The utility's policy: rating scales, penalty rates, deposit rules … as configuration, not code.

One TOML file (`RECOVERY_POLICY`, default `instance/policy.toml` when it exists) holds a section per
domain. Each domain declares its section with a marshmallow schema whose fields carry the defaults,
so an empty file (or none) is the documented default policy, and a section with a typo or a bad
value fails at start-up with the section and field named. `recovery policy show` prints the policy
in force; tests pass `POLICY` in the app's config.
"""

from __future__ import annotations

import os
import pkgutil
import tomllib
from importlib import import_module
from pathlib import Path
from typing import Any

from flask import current_app
from marshmallow import Schema, ValidationError

from recovery import context
from recovery.errors import Invalid

# Section name -> "module:SchemaClass", gathered from every package's POLICY_SECTIONS (its `__init__.py`) the
# first time a section is asked for, so that `policy show`, start-up and a script see every section.
SECTIONS: dict[str, str] = {}


def register_section(name: str, schema_path: str) -> None:
    """Declare a policy section; two packages may not claim one name."""
    if SECTIONS.get(name, schema_path) != schema_path:
        raise ValueError(f"policy section [{name}] is declared twice: {SECTIONS[name]} and {schema_path}")
    SECTIONS[name] = schema_path


def sections() -> dict[str, str]:
    """Every section of the policy, found in the packages of recovery that declare POLICY_SECTIONS."""
    if not SECTIONS:
        for found in pkgutil.iter_modules([str(Path(__file__).parent)]):
            if found.ispkg:
                package = import_module(f"recovery.{found.name}")
                for name, schema_path in getattr(package, "POLICY_SECTIONS", {}).items():
                    register_section(name, schema_path)
    return SECTIONS


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
    module, _, cls = sections()[name].partition(":")
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
    known = sections()
    unknown = set(raw) - set(known)
    if unknown:
        raise Invalid(f"policy: unknown section(s) {sorted(unknown)}; known: {sorted(known)}")
    return {name: section(name, raw) for name in known}
