"""The policy file: defaults when absent, every section validated at start-up, typos refused."""

from __future__ import annotations

import json

import pytest

from recovery import create_app
from recovery.errors import Invalid
from recovery.policy import read_policy_file, validate_all


def test_no_policy_file_means_the_documented_defaults(tmp_path, monkeypatch):
    monkeypatch.delenv("RECOVERY_POLICY", raising=False)
    assert read_policy_file(tmp_path) == {}
    assert validate_all({})["jobs"] == {"at": {}, "disabled": []}


def test_a_policy_file_named_but_missing_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("RECOVERY_POLICY", str(tmp_path / "nope.toml"))
    with pytest.raises(Invalid, match="does not exist"):
        read_policy_file(tmp_path)


def test_a_policy_file_that_is_not_toml_names_the_file(tmp_path, monkeypatch):
    bad = tmp_path / "policy.toml"
    bad.write_text("[jobs\nat = 1", encoding="utf-8")
    monkeypatch.delenv("RECOVERY_POLICY", raising=False)
    with pytest.raises(Invalid, match=r"policy\.toml: not valid TOML"):
        read_policy_file(tmp_path)


def test_an_unknown_section_is_refused_rather_than_silently_ignored():
    with pytest.raises(Invalid, match=r"unknown section\(s\) \['ratng'\]"):
        validate_all({"ratng": {"start": 80}})


def test_a_bad_value_fails_when_the_app_starts_naming_section_and_field(tmp_path):
    settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite", "SECRET_KEY": "t"}
    with pytest.raises(Invalid, match=r"\[jobs\].*unknown job 'penalty'"):
        create_app(settings | {"POLICY": {"jobs": {"disabled": ["penalty"]}}})
    with pytest.raises(Invalid, match=r"\[jobs\].*disabled.*Not a valid list"):
        create_app(settings | {"POLICY": {"jobs": {"disabled": "all"}}})


def test_policy_show_prints_the_policy_in_force_with_defaults(recovery):
    result = recovery("policy", "show")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["jobs"] == {"at": {}, "disabled": []}


def test_the_readmes_example_policy_is_valid_and_means_what_it_says():
    import re
    import tomllib
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    example = tomllib.loads(re.search(r"```toml\n(.*?)```", readme, re.S).group(1))
    in_force = validate_all(example)
    assert in_force["allocation"]["order"] == "penalties_first"
    assert in_force["jobs"]["at"] == {"reconcile.daily": "02:30"}
    assert tuple(in_force["penalty"]["rates_ppm"]["commercial"]) == (2000, 3000)


def test_each_domain_declares_its_own_sections_and_a_name_may_be_claimed_once():
    import recovery.billing
    import recovery.credit
    from recovery import policy

    found = policy.sections()
    assert found["penalty"] == recovery.billing.POLICY_SECTIONS["penalty"] == \
        "recovery.billing.penalty_policy:PenaltyPolicySchema"
    assert found["rating"] == recovery.credit.POLICY_SECTIONS["rating"]
    # The 23 sections the service has, each from the package that owns it.
    assert len(found) == 23 and {"jobs", "dunning", "big_customers", "notifications", "agents"} <= set(found)
    with pytest.raises(ValueError, match=r"\[penalty\] is declared twice"):
        policy.register_section("penalty", "recovery.loss.policy:LossPolicySchema")
    assert policy.sections()["penalty"] == "recovery.billing.penalty_policy:PenaltyPolicySchema"
