"""Small builders of contract CSV files for tests."""

from __future__ import annotations

import csv
from pathlib import Path

CUSTOMER_COLUMNS = ["customer_id", "name", "customer_class", "grid", "id_number", "registered_capital",
                    "opened_on", "phone"]
BILL_COLUMNS = ["bill_id", "customer_id", "period", "kwh", "amount", "issued_on", "due_on"]
PAYMENT_COLUMNS = ["payment_id", "customer_id", "channel", "channel_account", "channel_ref", "amount", "paid_at"]
EVENT_COLUMNS = ["customer_id", "kind", "occurred_on", "amount"]


def write_csv(path: Path, columns: list[str], rows: list[dict], *, bom: bool = False) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        for row in rows:
            w.writerow(row)
    return path


def customer(code: str = "C1", grid: str = "G1", **kw) -> dict:
    return {"customer_id": code, "name": f"客户{code}", "customer_class": "residential", "grid": grid,
            "id_number": "", "registered_capital": "", "opened_on": "2024-01-01", "phone": ""} | kw


def bill(code: str, customer_id: str = "C1", amount: str = "100.00", period: str = "2026-01",
         issued_on: str = "2026-02-03", due_on: str = "2026-02-20", kwh: str = "200") -> dict:
    return {"bill_id": code, "customer_id": customer_id, "period": period, "kwh": kwh, "amount": amount,
            "issued_on": issued_on, "due_on": due_on}


def payment(ref: str, customer_id: str = "C1", amount: str = "100.00", paid_at: str = "2026-02-10T10:00:00+08:00",
            channel: str = "bank", account: str = "ICBC", payment_id: str = "") -> dict:
    return {"payment_id": payment_id, "customer_id": customer_id, "channel": channel, "channel_account": account,
            "channel_ref": ref, "amount": amount, "paid_at": paid_at}


def load(recovery, tmp_path: Path, *, customers=(), bills=(), payments=(), events=()) -> None:
    """Import the given rows through the CLI, asserting that each import succeeds."""
    for kind, columns, rows in (("customers", CUSTOMER_COLUMNS, customers), ("bills", BILL_COLUMNS, bills),
                                ("payments", PAYMENT_COLUMNS, payments), ("events", EVENT_COLUMNS, events)):
        if rows:
            path = write_csv(tmp_path / f"{kind}-load.csv", columns, list(rows))
            result = recovery("import", kind, path)
            assert result.exit_code == 0, result.output
