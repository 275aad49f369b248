"""Settlement terms by risk: ordinary post-paid, prepayment (预购电) or split settlement (分次结算).

The rating (and credit-security's qualification review) set each customer's terms. A change is a
proposal, filed as an approval request of kind "terms.change" and carried out when a supervisor
approves it. The nightly review proposes what the rating and the customer's size call for:
- prepayment for the grades the policy names (C by default), and optionally for cash-only customers;
- split settlement for large customers (average bill of the last few bills at least the threshold);
- back to post-paid (or split) only when the terms in force were set by the review itself (basis
  rating or size): terms set by the qualification review or by hand are never relaxed by it.
A pending proposal is never filed twice, and a rejected one is not filed again for a while.

Split settlement: on each configured interim day the customer gets an interim bill — a real bill in
`bills` with its ledger entry — for the stretch of the month since the previous settlement, from a
meter reading when one is given, else estimated from the average daily amount of recent bills.
When the month-end bill for the period arrives (the billing system's reading) the interim bills are
trued up: each is reversed in the ledger (a new entry correcting the bill's entry) and its amount in
`bills` becomes 0, so the month-end bill is what the period costs and what was paid on the interim
bills is re-allocated to it (多退少补). The interim amounts stay in `interim_bills`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json

import numpy as np
import pandas as pd
from sqlalchemy import String, and_, func, insert, literal, select, true, type_coerce, update
from sqlalchemy.orm import Session

from recovery import bulk, ledger, policy
from recovery.approvals.models import ApprovalRequest, ApprovalStatus
from recovery.approvals.service import request_approval
from recovery.audit import service as audit
from recovery.audit.models import AuditEntry
from recovery.billing.models import Bill
from recovery.credit.models import InterimBill, SettlementTerms, Terms, TermsBasis
from recovery.credit.rating.policy import SettlementPolicy
from recovery.credit.rating.ratings import current_ratings
from recovery.customers.models import Customer
from recovery.errors import Invalid, NotFound
from recovery.ledger.allocations import reallocate
from recovery.ledger.models import EntryKind, LedgerEntry
from recovery.money import prorate_half_up
from recovery.timeutil import now, today

KIND = "terms.change"
REVIEWER = "system:credit.terms_review"


def settlement_policy() -> SettlementPolicy:
    """The [settlement] section in force."""
    return SettlementPolicy.of(policy.section("settlement"))


def _scope(column, customer_ids):
    return column.in_(customer_ids) if customer_ids is not None else true()


def current_terms(session: Session, customer_ids: list[int] | None = None) -> pd.DataFrame:
    """Each customer's terms in force, indexed by customer id: terms, basis, since (post-paid when never set)."""
    ids = bulk.read_frame(session, select(Customer.id.label("customer_id")).where(_scope(Customer.id, customer_ids)))
    stored = bulk.read_frame(session, select(
        SettlementTerms.customer_id, SettlementTerms.terms, SettlementTerms.basis, SettlementTerms.since,
    ).where(_scope(SettlementTerms.customer_id, customer_ids))).set_index("customer_id")
    out = stored.reindex(ids["customer_id"])
    out.index.name = "customer_id"
    out["terms"] = out["terms"].fillna(Terms.postpaid.value).astype(object)
    out["basis"] = out["basis"].astype(object).where(out["basis"].notna(), None)
    return out


def propose_terms(session: Session, customer_id: int, terms: str, reason: str, requested_by: str, *,
                  basis: str = TermsBasis.manual) -> ApprovalRequest:
    """File a proposal to change a customer's terms; a supervisor approves it (four eyes)."""
    if terms not in set(Terms):
        raise Invalid(f"terms must be one of {', '.join(Terms)}, not {terms!r}")
    if basis not in set(TermsBasis):
        raise Invalid(f"basis must be one of {', '.join(TermsBasis)}, not {basis!r}")
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer #{customer_id}")
    now_terms = current_terms(session, [customer_id]).iloc[0]["terms"]
    if now_terms == terms:
        raise Invalid(f"{customer.code} is already on {terms}")
    return request_approval(session, KIND, "customer", customer.code, reason=reason, requested_by=requested_by,
                            payload={"customer_id": customer_id, "terms": terms, "from": now_terms, "basis": basis})


def apply_terms_change(session: Session, request: ApprovalRequest, decided_by: str) -> dict:
    """Approval handler for terms.change: put the customer on the proposed terms from today."""
    payload = request.payload
    customer_id = int(payload["customer_id"])
    row = session.scalar(select(SettlementTerms).where(SettlementTerms.customer_id == customer_id))
    before = row.terms if row is not None else Terms.postpaid.value
    if before != payload.get("from", before):
        raise Invalid(f"the customer's terms changed to {before} since this was proposed; propose again")
    if row is None:
        row = SettlementTerms(customer_id=customer_id)
        session.add(row)
    row.terms, row.basis, row.since = payload["terms"], payload.get("basis", TermsBasis.manual), today()
    row.approval_id, row.approved_by, row.updated_at = request.id, decided_by, now()
    audit.record(session, "credit.terms_changed", "customer", request.subject_id, actor=decided_by,
                 terms=row.terms, previous=before, basis=row.basis, request_id=request.id)
    return {"terms": row.terms, "previous": before}


# ---------------------------------------------------------------------------------------------- review


def _average_bills(session: Session, months: int, customer_ids=None) -> pd.Series:
    """Average amount of each customer's last `months` month-end bills (interim bills excluded)."""
    ranked = (select(Bill.customer_id, Bill.amount_fen, func.row_number().over(
        partition_by=Bill.customer_id, order_by=(Bill.period.desc(), Bill.id.desc())).label("n"))
        .where(Bill.id.not_in(select(InterimBill.bill_id)), _scope(Bill.customer_id, customer_ids)).subquery())
    frame = bulk.read_frame(session, select(ranked.c.customer_id, func.avg(ranked.c.amount_fen).label("avg"))
                            .where(ranked.c.n <= months).group_by(ranked.c.customer_id))
    return frame.set_index("customer_id")["avg"].astype("float64")


def desired_terms(ratings: pd.DataFrame, average_fen: pd.Series, current: pd.DataFrame,
                  p: SettlementPolicy) -> pd.DataFrame:
    """What the rating and size call for, per customer, and whether the review may propose it (pure)."""
    prepay = ratings["grade"].isin(p.prepayment_grades)
    if p.prepayment_when_cash_only:
        prepay |= ratings["cash_only"].astype(bool)
    large = average_fen.reindex(ratings.index).fillna(0) >= p.split_min_monthly_fen
    want = np.where(prepay, Terms.prepayment.value, np.where(large, Terms.split.value, Terms.postpaid.value))
    basis = np.where(prepay, TermsBasis.rating.value, TermsBasis.size.value)
    cur = current.reindex(ratings.index)
    strictness = {Terms.postpaid.value: 0, Terms.split.value: 1, Terms.prepayment.value: 2}
    tighter = pd.Series(want, index=ratings.index).map(strictness) > cur["terms"].map(strictness)
    # Relaxing is proposed only for terms the review set itself.
    own = cur["basis"].isin([TermsBasis.rating.value, TermsBasis.size.value])
    propose = (want != cur["terms"].to_numpy()) & (tighter | own).to_numpy()
    return pd.DataFrame({"current": cur["terms"], "terms": want, "basis": basis, "grade": ratings["grade"],
                         "propose": propose}, index=ratings.index)


def review(session: Session, day: dt.date) -> dict:
    """Job credit.terms_review: file the term changes the rating calls for (never a duplicate pending one)."""
    p = settlement_policy()
    ratings = current_ratings(session)
    wanted = desired_terms(ratings, _average_bills(session, p.split_months), current_terms(session), p)
    wanted = wanted.loc[wanted["propose"]]
    codes = bulk.read_frame(session, select(Customer.id, Customer.code)).set_index("id")["code"]
    wanted = wanted.assign(code=codes.reindex(wanted.index).to_numpy())
    pending = set(session.scalars(select(ApprovalRequest.subject_id).where(
        ApprovalRequest.kind == KIND, ApprovalRequest.status == ApprovalStatus.pending)))
    since = now() - dt.timedelta(days=p.reproposal_days)
    rejected = {(s, (pl or {}).get("terms")) for s, pl in session.execute(select(
        ApprovalRequest.subject_id, ApprovalRequest.payload).where(
        ApprovalRequest.kind == KIND, ApprovalRequest.status == ApprovalStatus.rejected,
        ApprovalRequest.decided_at >= since))}
    was_rejected = [(c, t) in rejected for c, t in zip(wanted["code"], wanted["terms"], strict=True)]
    keep = ~wanted["code"].isin(pending) & ~pd.Series(was_rejected, index=wanted.index, dtype=bool)
    wanted = wanted.loc[keep]
    filed = _file(session, wanted, day)
    counts = wanted["terms"].value_counts()
    return {"day": day.isoformat(), "proposed": filed, **{f"to_{t}": int(counts.get(t, 0)) for t in Terms},
            "already_pending": int((~keep).sum())}


def _file(session: Session, wanted: pd.DataFrame, day: dt.date) -> int:
    """Bulk-file the proposals and their audit entries (set-based: one insert each)."""
    if wanted.empty:
        return 0
    stamp = pd.Timestamp(now())
    reasons = [f"nightly review {day.isoformat()}: grade {g} calls for {t}" if b == TermsBasis.rating
               else f"nightly review {day.isoformat()}: the customer's bills call for {t}"
               for g, t, b in zip(wanted["grade"], wanted["terms"], wanted["basis"], strict=True)]
    payloads = [json.dumps({"customer_id": int(c), "terms": t, "from": f, "basis": b, "grade": g})
                for c, t, f, b, g in zip(wanted.index, wanted["terms"], wanted["current"], wanted["basis"],
                                         wanted["grade"], strict=True)]
    bulk.insert_frame(session, ApprovalRequest.__table__, pd.DataFrame({
        "kind": KIND, "subject_type": "customer", "subject_id": wanted["code"].to_numpy(), "payload": payloads,
        "reason": reasons, "status": ApprovalStatus.pending.value, "requested_by": REVIEWER, "requested_at": stamp}))
    session.execute(insert(AuditEntry).from_select(
        ["at", "actor", "action", "subject_type", "subject_id", "details"],
        select(ApprovalRequest.requested_at, ApprovalRequest.requested_by, literal("approval.requested"),
               ApprovalRequest.subject_type, ApprovalRequest.subject_id, ApprovalRequest.payload)
        .where(ApprovalRequest.kind == KIND, ApprovalRequest.requested_by == REVIEWER,
               ApprovalRequest.requested_at == stamp.to_pydatetime(), ApprovalRequest.status == ApprovalStatus.pending),
    ))
    return len(wanted)


# ---------------------------------------------------------------------------------------------- split settlement


def _split_customers(session: Session, customer_ids=None) -> list[int]:
    return list(session.scalars(select(SettlementTerms.customer_id).where(
        SettlementTerms.terms == Terms.split, _scope(SettlementTerms.customer_id, customer_ids))))


def _recent(session: Session, ids: list[int], months: int) -> pd.DataFrame:
    """Per customer: amount, kWh and days of its last `months` month-end bills."""
    ranked = (select(Bill.customer_id, Bill.period, Bill.amount_fen, Bill.kwh, func.row_number().over(
        partition_by=Bill.customer_id, order_by=(Bill.period.desc(), Bill.id.desc())).label("n"))
        .where(Bill.customer_id.in_(ids), Bill.id.not_in(select(InterimBill.bill_id))).subquery())
    frame = bulk.read_frame(session, select(ranked.c.customer_id, ranked.c.period, ranked.c.amount_fen, ranked.c.kwh)
                            .where(ranked.c.n <= months))
    if frame.empty:
        return pd.DataFrame(columns=["amount_fen", "kwh_milli", "days"], dtype="int64")
    frame["days"] = [calendar.monthrange(int(p[:4]), int(p[5:7]))[1] for p in frame["period"]]
    frame["kwh_milli"] = _milli(frame["kwh"])
    return frame.groupby("customer_id")[["amount_fen", "kwh_milli", "days"]].sum().astype("int64")


def _milli(kwh: pd.Series) -> np.ndarray:
    """kWh (a quantity, stored as a float) in whole thousandths, so the prices worked out of it are exact."""
    return np.rint(kwh.to_numpy(dtype="float64") * 1000).astype("int64")


def interim_figures(recent: pd.DataFrame, metered_kwh: pd.Series, stretch: int) -> tuple[np.ndarray, np.ndarray]:
    """The kWh and the amount in fen of each customer's interim bill for `stretch` days (pure).

    recent: per customer, amount_fen, kwh_milli and days of its recent month-end bills; metered_kwh: the
    reading where one was given (NaN where not). A reading is priced at the recent unit price; without one,
    kWh and amount are the recent daily averages times the stretch. Money is integer fen throughout: each
    figure is one exact fraction rounded half up to the fen (kWh to the whole kWh), never a float.
    """
    amount_fen, kwh_milli, days = (recent[c].to_numpy(dtype="int64") for c in ("amount_fen", "kwh_milli", "days"))
    is_metered = metered_kwh.notna().to_numpy()
    reading_milli = _milli(metered_kwh.fillna(0))
    priced = kwh_milli > 0
    dated = days > 0
    metered_fen = np.where(priced, prorate_half_up(amount_fen, reading_milli, np.where(priced, kwh_milli, 1)), 0)
    estimated_fen = np.where(dated, prorate_half_up(amount_fen, stretch, np.where(dated, days, 1)), 0)
    estimated_kwh = np.where(dated, prorate_half_up(kwh_milli, stretch, np.where(dated, days, 1) * 1000), 0)
    kwh = np.where(is_metered, metered_kwh.fillna(0).to_numpy(dtype="float64"), estimated_kwh)
    return kwh, np.where(is_metered, metered_fen, estimated_fen).astype("int64")


def issue_interim_bills(session: Session, day: dt.date, readings: dict[int, float] | None = None,
                        customer_ids: list[int] | None = None) -> dict:
    """On an interim settlement day: bill every split-settlement customer for the month so far.

    readings: customer id -> kWh metered since the previous settlement (else estimated). Idempotent:
    a customer billed for this settlement already is skipped.
    """
    p = settlement_policy()
    if day.day not in p.interim_days:
        return {"day": day.isoformat(), "interim_bills": 0, "note": "not an interim settlement day"}
    seq = p.interim_days.index(day.day) + 1
    stretch = day.day - (p.interim_days[seq - 2] if seq > 1 else 0)
    period = f"{day.year:04d}-{day.month:02d}"
    ids = _split_customers(session, customer_ids)
    done = set(session.scalars(select(InterimBill.customer_id).where(
        InterimBill.period == period, InterimBill.seq == seq, InterimBill.customer_id.in_(ids))))
    ids = [i for i in ids if i not in done]
    if not ids:
        return {"day": day.isoformat(), "interim_bills": 0}
    recent = _recent(session, ids, p.estimate_months).reindex(ids, fill_value=0)
    metered = pd.Series(readings or {}, dtype="float64").reindex(ids)
    is_metered = metered.notna().to_numpy()
    kwh, amount = interim_figures(recent, metered, stretch)
    codes = bulk.read_frame(session, select(Customer.id, Customer.code).where(Customer.id.in_(ids))) \
        .set_index("id")["code"].reindex(ids)
    frame = pd.DataFrame({"customer_id": ids, "kwh": kwh, "amount_fen": amount, "metered": is_metered,
                          "code": [f"SI-{c}-{period}-{seq}" for c in codes]})
    frame = frame.loc[frame["amount_fen"] > 0]
    if frame.empty:
        return {"day": day.isoformat(), "interim_bills": 0}
    stamp = pd.Timestamp(now())
    due = pd.Timestamp(day + dt.timedelta(days=p.interim_due_days))
    bulk.insert_frame(session, Bill.__table__, pd.DataFrame({
        "code": frame["code"].to_numpy(), "customer_id": frame["customer_id"].to_numpy(), "period": period,
        "kwh": frame["kwh"].to_numpy(), "amount_fen": frame["amount_fen"].to_numpy(), "issued_on": pd.Timestamp(day),
        "due_on": due, "created_at": stamp}))
    new = Bill.code.in_(frame["code"].tolist())
    # The ledger entry the import would write for a bill: its amount, effective on its issue date.
    ledger.post_select(session, select(
        Bill.customer_id, literal(EntryKind.bill.value), Bill.amount_fen, Bill.issued_on,
        literal(stamp.to_pydatetime(), LedgerEntry.posted_at.type), Bill.id,
        literal(f"split settlement {seq} of {len(p.interim_days) + 1}")).where(new),
        ["customer_id", "kind", "amount_fen", "effective_on", "posted_at", "bill_id", "note"])
    bills = bulk.read_frame(session, select(Bill.id, Bill.code).where(new)).set_index("code")["id"]
    bulk.insert_frame(session, InterimBill.__table__, pd.DataFrame({
        "customer_id": frame["customer_id"].to_numpy(), "bill_id": bills.reindex(frame["code"]).to_numpy(),
        "period": period, "seq": seq, "settle_on": pd.Timestamp(day),
        "basis": np.where(frame["metered"], "metered", "estimated"), "kwh": frame["kwh"].to_numpy(),
        "amount_fen": frame["amount_fen"].to_numpy(), "created_at": stamp}))
    touched = frame["customer_id"].astype(int).tolist()
    reallocate(session, touched)
    audit.record(session, "credit.interim_bills", "settlement", day.isoformat(), bills=len(frame), seq=seq,
                 period=period, total_fen=int(frame["amount_fen"].sum()))
    return {"day": day.isoformat(), "interim_bills": len(frame), "seq": seq, "period": period}


def true_up(session: Session, day: dt.date, customer_ids: list[int] | None = None) -> dict:
    """Reverse the interim bills of every period whose month-end bill has arrived by `day` (idempotent)."""
    month_end = (select(Bill.id.label("bill_id"), Bill.customer_id, Bill.period, Bill.code, Bill.issued_on)
                 .where(Bill.id.not_in(select(InterimBill.bill_id)), Bill.issued_on <= day).subquery())
    rows = bulk.read_frame(session, select(
        InterimBill.id, InterimBill.bill_id, InterimBill.customer_id, InterimBill.amount_fen,
        func.min(month_end.c.bill_id).label("month_end_bill_id"),
        func.min(month_end.c.code).label("month_end_code"),
        type_coerce(func.min(month_end.c.issued_on), String).label("issued_on"),
    ).join(month_end, and_(month_end.c.customer_id == InterimBill.customer_id,
                           month_end.c.period == InterimBill.period))
        .where(InterimBill.trued_up_on.is_(None), _scope(InterimBill.customer_id, customer_ids))
        .group_by(InterimBill.id, InterimBill.bill_id, InterimBill.customer_id, InterimBill.amount_fen))
    if rows.empty:
        return {"day": day.isoformat(), "trued_up": 0}
    entries = bulk.read_frame(session, select(LedgerEntry.bill_id, func.min(LedgerEntry.id).label("entry_id"))
                              .where(LedgerEntry.bill_id.in_(rows["bill_id"].tolist()),
                                     LedgerEntry.kind == EntryKind.bill).group_by(LedgerEntry.bill_id))
    rows = rows.merge(entries, on="bill_id", how="left")
    stamp = pd.Timestamp(now())
    ledger.post_frame(session, pd.DataFrame({
        "customer_id": rows["customer_id"].to_numpy(), "kind": EntryKind.reversal.value,
        "amount_fen": -rows["amount_fen"].astype("int64").to_numpy(),
        "effective_on": pd.to_datetime(rows["issued_on"]).to_numpy(), "posted_at": stamp,
        "bill_id": rows["bill_id"].to_numpy(), "corrects_id": rows["entry_id"].to_numpy(),
        "note": ["true-up at month-end bill " + c for c in rows["month_end_code"]]}))
    # The interim bill no longer asks for money; its amount stays in interim_bills and in the ledger.
    session.execute(update(Bill).where(Bill.id.in_(rows["bill_id"].tolist())).values(amount_fen=0))
    later = select(func.min(Bill.id)).where(
        Bill.customer_id == InterimBill.customer_id, Bill.period == InterimBill.period, Bill.issued_on <= day,
        Bill.id.not_in(select(InterimBill.bill_id))).scalar_subquery()
    session.execute(update(InterimBill).where(InterimBill.id.in_(rows["id"].tolist()))
                    .values(trued_up_on=day, month_end_bill_id=later))
    touched = sorted(set(rows["customer_id"].astype(int)))
    reallocate(session, touched)
    audit.record(session, "credit.true_up", "settlement", day.isoformat(), interim_bills=len(rows),
                 customers=len(touched), total_fen=int(rows["amount_fen"].sum()))
    return {"day": day.isoformat(), "trued_up": len(rows), "customers": len(touched)}


def nightly_split(session: Session, day: dt.date) -> dict:
    """Job credit.split_settlement: true up periods whose month-end bill arrived, then issue the day's interim bills."""
    return {"true_up": true_up(session, day), "interim": issue_interim_bills(session, day)}
