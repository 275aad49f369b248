"""Vendored front-end files are exactly those recorded, with their licence, and the app serves them itself."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[2] / "recovery" / "static" / "vendor"


def _recorded() -> dict[str, str]:
    rows = re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", (VENDOR / "VENDORED.md").read_text(), re.M)
    return dict(rows)


def test_every_vendored_file_matches_its_recorded_sha256():
    recorded = _recorded()
    on_disk = {str(p.relative_to(VENDOR)) for p in VENDOR.rglob("*") if p.is_file() and p.name != "VENDORED.md"}
    assert set(recorded) == on_disk == {"echarts/echarts.common.min.js", "echarts/LICENSE", "echarts/NOTICE"}
    for name, digest in recorded.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    assert "Apache License" in (VENDOR / "echarts" / "LICENSE").read_text()


def test_the_app_serves_the_chart_library_itself(client):
    response = client.get("/static/vendor/echarts/echarts.common.min.js")
    assert response.status_code == 200
    assert hashlib.sha256(response.data).hexdigest() == _recorded()["echarts/echarts.common.min.js"]
