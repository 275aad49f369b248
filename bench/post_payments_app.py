"""The service app plus one bench-only endpoint, for bench/post_payments.py (never used in production).

`POST /bench/insert` inserts one row and answers 201: the floor a real posting is compared with,
measured by the same server, workers and database in the same run.
"""

from __future__ import annotations

from flask import jsonify
from sqlalchemy import text

from recovery import create_app
from recovery.extensions import csrf, db

app = create_app()


@app.post("/bench/insert")
@csrf.exempt
def insert_one_row():
    db.session.execute(text("INSERT INTO bench_floor (at) VALUES (now())"))
    db.session.commit()
    response = jsonify(ok=True)
    response.status_code = 201
    return response
