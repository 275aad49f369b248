"""scripts/audit-deps: a known vulnerability fails the build; a service that cannot be reached only warns."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "scripts" / "audit-deps"


def _judge(tmp_path: Path, report: str) -> subprocess.CompletedProcess:
    path = tmp_path / "report.json"
    path.write_text(report)
    return subprocess.run([str(SCRIPT), str(path)], capture_output=True, text=True, timeout=30)


def test_a_known_vulnerability_fails_and_a_clean_report_passes(tmp_path):
    vulnerable = {"dependencies": [
        {"name": "flask", "version": "0.12", "vulns": [{"id": "PYSEC-2018-66", "fix_versions": ["0.12.3"]}]},
        {"name": "click", "version": "8.1.7", "vulns": []}]}
    found = _judge(tmp_path, json.dumps(vulnerable))
    assert found.returncode == 1 and "flask 0.12: PYSEC-2018-66 (fixed in 0.12.3)" in found.stdout
    clean = _judge(tmp_path, json.dumps({"dependencies": [{"name": "click", "version": "8.1.7", "vulns": []}]}))
    assert clean.returncode == 0 and "no known vulnerabilities" in clean.stdout


def test_an_unreachable_service_warns_and_passes(tmp_path):
    nothing = _judge(tmp_path, "")
    assert nothing.returncode == 0 and "WARNING" in nothing.stdout
    skipped = _judge(tmp_path, json.dumps({"dependencies": [
        {"name": "click", "skip_reason": "Dependency not found on PyPI and could not be audited"}]}))
    assert skipped.returncode == 0 and "WARNING" in skipped.stdout
