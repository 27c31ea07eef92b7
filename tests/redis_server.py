"""A real redis-server (the Debian package) on a free loopback port, in a temporary directory, for tests."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from .servers import free_port, stop

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


@contextmanager
def redis_server(timeout: float = 10) -> Iterator[str]:
    """Start redis-server without persistence on 127.0.0.1; yield its URL; stop and reap it on exit."""
    if not shutil.which(REDIS_SERVER):
        raise RuntimeError("redis-server is missing: `make sysdeps` installs it (apt-get install redis-server)")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="faqbot-redis-") as tmp:
        log = Path(tmp) / "redis.log"
        proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", tmp, "--logfile", str(log), "--loglevel", "notice"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        url = f"redis://127.0.0.1:{port}/0"
        try:
            _wait_ready(url, proc, timeout, log)
            yield url
        finally:
            stop(proc, timeout=10)


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
    finally:
        client.close()
    output = log.read_text(errors="replace") if log.exists() else ""
    raise RuntimeError(f"redis-server did not answer on {url}:\n{output}")
