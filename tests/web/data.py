"""A small district for the page tests: three grids, a few customers in arrears, three users."""

from __future__ import annotations

from pathlib import Path

from recovery.auth.service import create_user
from recovery.extensions import db
from tests.factories import bill, customer, load, payment

PASSWORD = "correct horse battery"


def load_district(recovery, tmp_path: Path) -> None:
    """Customers of grids G1, G2 and G3 with bills long past due, and officers li (G1), wang (G1, G2)
    and supervisor zhao (every grid)."""
    load(
        recovery, tmp_path,
        customers=[
            customer("C1", "G1", name="王建国", phone="13800000001", opened_on="2019-05-06"),
            customer("C2", "G1", name="李秀英"),
            customer("C3", "G1", name="东方机械厂", customer_class="industrial"),
            customer("C5", "G1", name="张伟"),
            customer("C4", "G2", name="西城超市", customer_class="commercial"),
            customer("C6", "G3", name="南郊农场", customer_class="agricultural"),
        ],
        bills=[
            # C1: the January bill was paid, 1,234.56 from February is still owed.
            bill("B1-01", "C1", "100.00", "2025-01", "2025-01-03", "2025-01-20", kwh="180.5"),
            bill("B1-02", "C1", "1234.56", "2025-02", "2025-02-03", "2025-02-20", kwh="2100"),
            bill("B2-03", "C2", "50.00", "2025-03", "2025-03-03", "2025-03-20"),
            bill("B3-05", "C3", "3000.00", "2025-05", "2025-05-03", "2025-05-20"),
            bill("B4-02", "C4", "999.00", "2025-02", "2025-02-03", "2025-02-20"),
            bill("B6-02", "C6", "10.00", "2025-02", "2025-02-03", "2025-02-20"),
        ],
        payments=[
            # 23:30 UTC is 07:30 the next morning in Shanghai.
            payment("WX-0001", "C1", "100.00", paid_at="2025-01-15T23:30:00+00:00", channel="agent",
                    account="AG-17", payment_id="P-0001"),
        ],
    )
    create_user(db.session, "li", role="officer", password=PASSWORD, display_name="李明", grids=["G1"])
    create_user(db.session, "wang", role="officer", password=PASSWORD, display_name="王芳", grids=["G1", "G2"])
    create_user(db.session, "zhao", role="supervisor", password=PASSWORD, display_name="赵主任")
    db.session.commit()


def cheap_password_hashing(monkeypatch) -> None:
    """Hash test passwords with one PBKDF2 round instead of scrypt: sign-in still checks the real
    password, but each user costs microseconds instead of a fifth of a second."""
    import werkzeug.security

    import recovery.auth.models

    def cheap(password: str) -> str:
        return werkzeug.security.generate_password_hash(password, method="pbkdf2:sha256:1")

    monkeypatch.setattr(recovery.auth.models, "generate_password_hash", cheap)
