"""The channel statement CSV: exact yuan, offsets required, every bad row reported as FILE:LINE: column: reason."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from reconciliation.formats import StatementError, parse

GOOD = (
    "paid_at,amount,customer_id,channel_ref,terminal,fee\r\n"
    "2026-11-22T09:15:00+08:00,120.50,C0001234,R-889,T1,0.60\r\n"
    "2026-11-22T23:59:59+08:00,88,C0005678,R-890,T1,\r\n"
    "\r\n"
    "2026-11-22T16:00:00Z,-20.1,C0001234,R-891,T2,0\r\n"
)


def _write(tmp_path, text: str, *, bom: bool = False):
    path = tmp_path / "AG01-2026-11-22.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


@pytest.mark.parametrize("bom", [False, True])
def test_rows_become_lines_in_fen(tmp_path, bom):
    (st,) = parse(_write(tmp_path, GOOD, bom=bom), "csv")
    assert (st.account, st.currency, st.opening_balance, st.closing_balance, st.message_type) == (
        None, "CNY", None, None, "channel-csv")
    assert [(ln.reference, ln.customer_id, ln.amount, ln.fee) for ln in st.lines] == [
        ("R-889", "C0001234", 12050, 60), ("R-890", "C0005678", 8800, None), ("R-891", "C0001234", -2010, 0)]
    first = st.lines[0]
    assert first.paid_at == dt.datetime(2026, 11, 22, 1, 15, tzinfo=dt.UTC)
    assert first.paid_at.utcoffset() == dt.timedelta(hours=8)
    assert (first.booked_on, first.value_on) == (dt.date(2026, 11, 22), dt.date(2026, 11, 22))
    assert [ln.raw["line"] for ln in st.lines] == [2, 3, 5]


def test_fee_column_is_optional():
    (st,) = parse(b"channel_ref,customer_id,amount,paid_at\nR1,C1,1.00,2026-11-22T09:00:00+08:00\n", "csv")
    assert st.lines[0].fee is None and st.lines[0].amount == 100


def test_a_header_without_rows_is_an_empty_day():
    (st,) = parse(b"channel_ref,customer_id,amount,paid_at\n", "csv")
    assert st.lines == ()


def test_a_bad_amount_on_one_line_rejects_the_file(tmp_path):
    text = GOOD.replace("88,C0005678", "88.123,C0005678")
    path = _write(tmp_path, text)
    with pytest.raises(StatementError) as e:
        parse(path, "csv")
    assert e.value.problems == [f"{path}:3: amount: '88.123' is not a yuan amount with at most two decimals"]


def test_every_bad_row_is_reported_at_once():
    text = (
        "channel_ref,customer_id,amount,paid_at,fee\n"
        "R1,C1,1.00,2026-11-22T09:00:00+08:00,\n"
        ",C2,1e3,2026-11-22T09:00:00,-1\n"
        "R3,C3,0.00,yesterday,\n"
        "R4,C4,\"1,000.00\",2026-11-22T09:00:00+08:00,\n"
        "R5,C5,1.00\n"
    )
    with pytest.raises(StatementError) as e:
        parse(text.encode(), "csv", name="ag.csv")
    assert e.value.problems == [
        "ag.csv:3: channel_ref: required",
        "ag.csv:3: amount: '1e3' is not a yuan amount with at most two decimals",
        "ag.csv:3: fee: '-1' is not a non-negative yuan amount with at most two decimals",
        "ag.csv:3: paid_at: '2026-11-22T09:00:00' has no UTC offset (write e.g. 2026-11-22T09:15:00+08:00)",
        "ag.csv:4: amount: must not be zero",
        "ag.csv:4: paid_at: 'yesterday' is not an ISO 8601 timestamp",
        "ag.csv:5: amount: '1,000.00' is not a yuan amount with at most two decimals",
        "ag.csv:6: row: expected 5 fields, found 3",
    ]
    assert str(e.value).count("\n") == 7


@pytest.mark.parametrize("data, problems", [
    (b"", ["ag.csv: the file is empty"]),
    (b"\xef\xbb\xbf\r\n", ["ag.csv:1: header: the file is empty; expected a header row with channel_ref, "
                           "customer_id, amount, paid_at"]),
    (b"channel_ref,amount\nR1,1.00\n", ["ag.csv:1: customer_id: missing column", "ag.csv:1: paid_at: missing column"]),
    (b"channel_ref,customer_id,amount,paid_at,amount\n", ["ag.csv:1: amount: column appears more than once"]),
    (b"channel_ref,customer_id,amount,paid_at\nR1,C1,\xff1.00,2026-11-22T09:00:00+08:00\n",
     ["ag.csv:2: file: not UTF-8 text (byte 45)"]),
    (b"channel_ref,customer_id,amount,paid_at\nR1,C1,1.00,2026\x00\n",
     ["ag.csv:2: file: contains a NUL byte; not a CSV file"]),
    (b"channel_ref,customer_id,amount,paid_at\nR1,C1,\"1.00,2026-11-22T09:00:00+08:00\n",
     ["ag.csv:2: row: unexpected end of data"]),
])
def test_broken_files_are_clear_errors(data, problems):
    with pytest.raises(StatementError) as e:
        parse(data, "csv", name="ag.csv")
    assert e.value.problems == problems


def test_duplicate_channel_refs_are_kept_for_the_matcher():
    row = b"R1,C1,1.00,2026-11-22T09:00:00+08:00\n"
    text = b"channel_ref,customer_id,amount,paid_at\n" + row + row
    (st,) = parse(text, "csv")
    assert [ln.reference for ln in st.lines] == ["R1", "R1"]


def test_digits_of_other_scripts_are_no_amount():
    text = "channel_ref,customer_id,amount,paid_at,fee\nR1,C1,１2.00,2026-11-22T09:00:00+08:00,٣\n"
    with pytest.raises(StatementError) as e:
        parse(text.encode(), "csv", name="ag.csv")
    assert e.value.problems == [
        "ag.csv:2: amount: '１2.00' is not a yuan amount with at most two decimals",
        "ag.csv:2: fee: '٣' is not a non-negative yuan amount with at most two decimals",
    ]


def test_the_column_wise_frame_holds_each_line_in_fen_utc_and_the_channels_date():
    from reconciliation.formats import parse_frame

    statements, frame = parse_frame(GOOD.encode(), "csv", name="ag.csv")
    assert [(s.message_type, s.currency, s.lines) for s in statements] == [("channel-csv", "CNY", ())]
    assert frame["reference"].tolist() == ["R-889", "R-890", "R-891"]
    assert frame["amount"].tolist() == [12050, 8800, -2010]
    assert frame["fee"].astype(object).where(frame["fee"].notna(), None).tolist() == [60, None, 0]
    assert frame["paid_at"].tolist() == [pd.Timestamp("2026-11-22T01:15:00Z"), pd.Timestamp("2026-11-22T15:59:59Z"),
                                         pd.Timestamp("2026-11-22T16:00:00Z")]
    # The date the channel wrote, in its own offset: 16:00Z is still the 22nd.
    assert frame["booked_on"].dt.date.tolist() == [dt.date(2026, 11, 22)] * 3
    assert frame["line_index"].tolist() == [0, 1, 2] and [r["line"] for r in frame["raw"]] == [2, 3, 5]
