"""Real HTTP against the production server (gunicorn via `faqbot serve`): bad input never breaks it."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator

import pytest

from .servers import faqbot_server


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    with faqbot_server(["--workers", "2"]) as addr:
        yield addr


def _request(addr: tuple[str, int], method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(*addr, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, dict(r.getheaders()), data


JSON = {"Content-Type": "application/json"}
BATTERY: list[tuple[str, str, bytes | None, dict[str, str], int]] = [
    ("POST", "/api/ask", b"{bad", JSON, 400),
    ("POST", "/api/ask", b"null", JSON, 400),
    ("POST", "/api/ask", b'{"text": 1}', JSON, 400),
    ("POST", "/api/ask", b'{"text": ""}', JSON, 400),
    ("POST", "/api/ask", json.dumps({"text": "x" * 1001}).encode(), JSON, 400),
    ("POST", "/api/ask", b'{"text": "\\u0000\\u0001"}', JSON, 400),
    ("POST", "/api/ask", b'{"text": "a", "today": "2024-02-30"}', JSON, 400),
    ("POST", "/api/ask", b'{"text": "a", "today": "yesterday"}', JSON, 400),
    ("POST", "/api/ask", b"\xff\xfe\xfd", JSON, 400),
    ("POST", "/api/ask", json.dumps({"text": "y" * 40_000}).encode(), JSON, 413),
    ("POST", "/api/ask", b"text=hi", {"Content-Type": "text/plain"}, 415),
    ("POST", "/api/ask", b'{"text": "hi"}', {}, 415),
    ("GET", "/api/ask", None, {}, 405),
    ("GET", "/api/faq?limit=-1&q=a", None, {}, 400),
    ("GET", "/api/faq", None, {}, 400),
    ("GET", "/nowhere", None, {}, 404),
]


def test_malformed_requests_get_json_4xx_and_server_keeps_answering(server: tuple[str, int]) -> None:
    for method, path, body, headers, expected in BATTERY:
        status, hdrs, data = _request(server, method, path, body, headers)
        assert status == expected, (path, body, status, data[:200])
        assert hdrs.get("Content-Type", "").startswith("application/json"), (path, body, hdrs)
        error = json.loads(data)["error"]
        assert error["code"] and error["message"]
        assert b"Traceback" not in data
    status, _, data = _request(server, "POST", "/api/ask",
                               json.dumps({"text": "インボイスは入金前に発行できますか"}).encode(), JSON)
    assert status == 200
    assert json.loads(data)["intent"] == "invoice-after-payment"


# requests gunicorn itself refuses before Flask sees them: a raw UTF-8 URL, a broken header line, an
# unknown transfer coding, a request line over gunicorn's limit
RAW_BATTERY: list[tuple[bytes, int, str]] = [
    ("GET /api/faq?q=更新 HTTP/1.1\r\nHost: x\r\n\r\n".encode(), 400, "percent-encoded"),
    (b"GARBAGE\r\n\r\n", 400, "METHOD /path"),
    (b"GET /api/faq?q=x HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400, "Bad Header"),
    (b"POST /api/ask HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400, "TRANSFER-ENCODING"),
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "too large"),
    # and a chunked body gunicorn cannot frame, found while the app reads it (it was a 500)
    (b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
     b"Connection: close\r\n\r\nzz\r\n", 400, "could not be read"),
    (b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
     b"Connection: close\r\n\r\n4\r\n{\"a\"XX5\r\n", 400, "could not be read"),
]


def _raw(addr: tuple[str, int], request: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(addr, timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):  # gunicorn closes the connection after an error
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize(("request_bytes", "expected", "says"), RAW_BATTERY,
                         ids=["raw-utf8-url", "garbage", "bad-header", "transfer-coding", "long-line", "chunk-size",
                              "chunk-terminator"])
def test_requests_gunicorn_refuses_get_the_same_json_errors(server: tuple[str, int], request_bytes: bytes,
                                                            expected: int, says: str) -> None:
    status, headers, body = _raw(server, request_bytes)
    assert status == expected
    assert headers["Content-Type"] == "application/json" and headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] and int(headers["Content-Length"]) == len(body)
    # like every response of the app: an id to quote, and the resource policy
    assert len(headers["X-Request-ID"]) == 32 and headers["Cross-Origin-Resource-Policy"]
    error = json.loads(body)["error"]
    assert error["code"] in {"bad_request", "uri_too_long"} and says in error["message"]
    assert _request(server, "GET", "/healthz")[0] == 200


def test_a_lookup_of_some_hundreds_of_japanese_characters_fits_the_request_line(server: tuple[str, int]) -> None:
    # percent-encoded, a Japanese character is 9 bytes: gunicorn's default 4,094-byte line refused about 450
    status, _, body = _request(server, "GET", "/api/faq?q=" + "%E6%9B%B4%E6%96%B0" * 400)
    assert status == 200 and json.loads(body)["query"] == "更新" * 400


def _chunked(addr: tuple[str, int], body: bytes) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(*addr, timeout=10)
    pieces = [body[i:i + 4096] for i in range(0, len(body), 4096)]
    conn.request("POST", "/api/ask", body=iter(pieces), headers=JSON, encode_chunked=True)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


def test_a_chunked_body_is_read_whole_and_refused_whole_when_too_large(server: tuple[str, int]) -> None:
    """Without Content-Length werkzeug stops reading at the limit and says nothing: the cut JSON was a 400."""
    status, data = _chunked(server, json.dumps({"text": "インボイスは入金前に発行できますか"}).encode())
    assert status == 200 and json.loads(data)["intent"] == "invoice-after-payment"
    padded = b'{"text": "hi"' + b" " * 20_000 + b"}"  # valid JSON, over the 16 KiB limit
    for body in (padded, json.dumps({"text": "y" * 40_000}).encode()):
        status, data = _chunked(server, body)
        assert status == 413 and json.loads(data)["error"]["code"] == "request_entity_too_large"
    assert _request(server, "GET", "/healthz")[0] == 200


def test_idle_connections_do_not_stop_the_default_server(server: tuple[str, int]) -> None:
    """Browsers open connections they may never use; the default (gthread) workers keep answering.

    With sync workers (THREADS=1) two idle connections take both workers and this request times out.
    """
    idle = [socket.create_connection(server, timeout=5) for _ in range(4)]
    try:
        status, _, body = _request(server, "GET", "/healthz")
        assert status == 200 and json.loads(body) == {"status": "ok"}
    finally:
        for sock in idle:
            sock.close()
