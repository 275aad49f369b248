"""Reading an import CSV: a plain file (one record a line) and a quoted one give the same rows and lines."""

from __future__ import annotations

import pytest

from recovery import csvfile
from recovery.errors import ImportRejected

REQUIRED, OPTIONAL = ("customer_id", "amount"), ("payment_id",)


def _read(path):
    return csvfile.read(path, required=REQUIRED, optional=OPTIONAL)


def test_plain_and_quoted_files_give_the_same_rows_on_the_same_lines(tmp_path):
    plain, quoted = tmp_path / "plain.csv", tmp_path / "quoted.csv"
    plain.write_bytes("\ufeffamount,extra,customer_id\n 1.50 ,x,C1\n\n2.00,y, C2\n".encode())
    quoted.write_bytes('\ufeffamount,extra,customer_id\n" 1.50 ",x,C1\n\n2.00,"y", C2\n'.encode())
    expected = {"customer_id": ["C1", "C2"], "amount": ["1.50", "2.00"], "payment_id": ["", ""], "line": [2, 4]}
    assert _read(plain).to_dict("list") == expected
    assert _read(quoted).to_dict("list") == expected


def test_a_row_of_the_wrong_width_in_a_plain_file_is_named_by_its_line(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("customer_id,amount\nC1,1.00\nC2\n\nC3,3.00,9\n")
    with pytest.raises(ImportRejected) as rejected:
        _read(path)
    assert rejected.value.errors == [f"{path}:3: row: expected 2 fields, found 1",
                                     f"{path}:5: row: expected 2 fields, found 3"]
