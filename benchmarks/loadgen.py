"""HTTP load with wrk (Debian's package) from a second process, and the memory of gunicorn's workers.

Shared by benchmarks/run.py (throughput and latency) and tests/test_load.py (the bounded load test).
wrk runs a Lua script that POSTs JSON bodies in rotation and, from its `done` hook, prints one JSON line
with requests, errors, non-2xx responses and latency percentiles, so nothing is parsed from wrk's prose.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

WRK_PACKAGE = "wrk"  # the Debian package (apt-get install wrk)

_LUA = r"""
local bodies = {BODIES}
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  bad = 0
  n = id * 7919
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  n = n + 1
  -- one session id per pass over the bodies (so a follow-up shares its question's), from a pool of 50
  local sid = "load-" .. id .. "-" .. (math.floor(n / #bodies) % 50)
  local body = bodies[(n % #bodies) + 1]:gsub("@SID@", sid)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local non2xx = 0
  for _, t in ipairs(threads) do
    non2xx = non2xx + t:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d, '
    .. '"status": %d, "non2xx": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status, non2xx,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run measured."""

    requests: int
    seconds: float
    socket_errors: int  # connect + read + write + timeout
    non2xx: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        """Completed requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_path() -> str:
    """The wrk executable, or a clear error naming the Debian package."""
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError(f"wrk is not installed: apt-get install {WRK_PACKAGE} (or `make sysdeps`)")
    return path


def lua_script(bodies: Sequence[dict[str, object]]) -> str:
    """The wrk script POSTing `bodies` in turn; "@SID@" in a body becomes the pass's session id (a pool of 50)."""
    quoted = ", ".join(_lua_string(json.dumps(b, ensure_ascii=False)) for b in bodies)
    return _LUA.replace("{BODIES}", "{" + quoted + "}")


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_wrk(url: str, bodies: Sequence[dict[str, object]], *, connections: int, seconds: int, threads: int = 2,
            timeout_s: int = 5) -> WrkResult:
    """wrk against `url` for `seconds` (hard-bounded by a subprocess timeout) with `bodies` in rotation."""
    exe = wrk_path()
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "ask.lua"
        script.write_text(lua_script(bodies), encoding="utf-8")
        cmd = [exe, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout_s}s",
               "-s", str(script), url]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30, check=False)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    raw = json.loads(line[len("WRKJSON "):])
    return WrkResult(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        socket_errors=raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
        non2xx=raw["non2xx"],
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
    )


def children(pid: int) -> list[int]:
    """The direct child processes of `pid` (gunicorn's workers, for its master)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    if path.exists():
        return [int(p) for p in path.read_text().split()]
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry.name))
    return kids


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time used so far by the processes (utime and stime of /proc/PID/stat)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # fields 14 and 15 of stat(5), counted after the name
    return total / tick


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and the proportional and private-anonymous shares (Pss, Anonymous) of a process, in KiB."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            out["rss"] = int(line.split()[1])
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("Pss", "Anonymous"):
                out[key.lower()] = int(rest.split()[0])
    except OSError:
        pass
    return out


def free_port() -> int:
    """A loopback port nobody is listening on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> float:
    """Poll GET /healthz until it answers 200; the monotonic time it did."""
    import http.client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before answering /healthz")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            ok = conn.getresponse().status == 200
            conn.close()
            if ok:
                return time.monotonic()
        except OSError:
            pass
        time.sleep(0.01)
    raise RuntimeError(f"no answer on /healthz of port {port} after {timeout:.0f} s")


def post_json(port: int, path: str, body: dict[str, object]) -> tuple[int, dict[str, object]]:
    """One POST with a JSON body on a fresh connection; (status, decoded body)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", path, json.dumps(body).encode(), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"{}")
    finally:
        conn.close()


def quiet_env(**extra: str) -> dict[str, str]:
    """The environment for a benchmarked server: this one, with rate limits off."""
    return {**os.environ, "FAQBOT_RATE_LIMIT": "off", **extra}
