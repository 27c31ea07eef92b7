"""Start and stop real server processes on loopback ports for tests."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A loopback port nobody is listening on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def faqbot_server(args: Sequence[str] = (), env: dict[str, str] | None = None,
                  timeout: float = 30, log_path: Path | None = None) -> Iterator[tuple[str, int]]:
    """`faqbot serve` (gunicorn) on a free loopback port; stopped and reaped on exit.

    Rate limits are off and the pid and state files are private unless `env` sets FAQBOT_RATE_LIMIT,
    FAQBOT_PID_FILE or FAQBOT_STATE_FILE;
    the server's output goes to `log_path` when given.
    """
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="faqbot-server-") as tmp, \
            (log_path.open("w+b") if log_path else tempfile.TemporaryFile()) as log:
        defaults = {"FAQBOT_RATE_LIMIT": "off", "FAQBOT_PID_FILE": str(Path(tmp) / "faqbot.pid"),
                    "FAQBOT_STATE_FILE": str(Path(tmp) / "state.sqlite3")}
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **defaults, **(env or {})},
        )
        try:
            _wait_healthy(port, proc, timeout, log)
            yield "127.0.0.1", port
        finally:
            stop(proc)


def _wait_healthy(port: int, proc: subprocess.Popen[bytes], timeout: float, log: IO[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:  # not listening yet, or a worker still booting: try again
            time.sleep(0.1)
        finally:
            conn.close()
    log.seek(0)
    raise RuntimeError(f"faqbot serve did not become healthy on port {port}:\n{log.read().decode(errors='replace')}")


def stop(proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL if the process has not exited within `timeout` seconds; always reaped."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
