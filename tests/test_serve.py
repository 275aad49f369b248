"""`recovery serve` really serves the app."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_the_sign_in_page(tmp_path):
    port = _free_port()
    env = os.environ | {"DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite'}", "SECRET_KEY": "x" * 32}
    recovery = [sys.executable, "-m", "recovery.cli"]
    subprocess.run([*recovery, "init"], env=env, check=True, capture_output=True)
    server = subprocess.Popen([*recovery, "serve", "--port", str(port)], env=env, cwd=Path(__file__).parent,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as response:
                    assert response.status == 200
                    assert "csrf_token" in response.read().decode()
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                assert time.monotonic() < deadline, "server did not answer within 20 s"
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)
