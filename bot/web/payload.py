"""Reading the JSON bodies of the pages' APIs: one object, known fields, 4xx errors like /api/ask."""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from datetime import date
from typing import Any

from flask import Response, jsonify, request

from ..dates import read_iso_day
from ..errors import InputError
from ..yamlsrc import close_match


class PayloadError(Exception):
    """A request body the endpoint refuses: the JSON error code, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


INTERNAL_ERROR = "内部エラーが発生しました。"  # a 500 says no more than this; the log has the traceback


def error(code: str, message: str, status: int) -> tuple[Response, int]:
    """The JSON error shape every endpoint uses. A message quoting what a client sent stays encodable."""
    return jsonify(error={"code": code, "message": message.encode("utf-8", "backslashreplace").decode()}), status


def error_body(code: str, message: str) -> bytes:
    """The same error as bytes, for the responses made outside a view: werkzeug's HTTP errors, and those
    gunicorn writes itself."""
    return json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode()


def reason_code(reason: str) -> str:
    """An HTTP reason phrase as an error code: Bad Request → bad_request."""
    return reason.lower().replace(" ", "_")


# JSON may escape half of a UTF-16 pair (\ud800) on its own, which no UTF-8 can carry: a reply or a record
# quoting it could not be written. Python's JSON reader also lets the same half through written as raw bytes
# (ED A0 80: it decodes with "surrogatepass"). Only a body holding either is searched.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_TOO_DEEP = "the body is nested too deeply to read"


def loads(data: bytes | str) -> Any:
    """json.loads, with a document nested deeper than the parser's recursion limit refused as bad JSON (a
    ValueError) instead of a RecursionError: 2 KB of brackets would otherwise be a 500."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError(_TOO_DEEP) from None


def json_object(fields: Collection[str]) -> dict[str, Any]:
    """The request's JSON object, refusing other media types, bad JSON and unknown fields.

    Lone surrogates are read as U+FFFD, as a UTF-8 decoder reads a broken byte: a text cut in the middle of
    an emoji is still asked, and a field quoted back in an error stays writable.
    """
    if not request.is_json:
        raise PayloadError("unsupported_media_type", "Content-Type must be application/json", 415)
    try:
        payload = request.get_json(silent=True)
    except RecursionError:
        raise PayloadError("bad_json", _TOO_DEEP) from None
    if payload is None:
        if request.get_data(cache=True).strip() == b"null":
            raise PayloadError("bad_json", "the body must be a JSON object, not null")
        raise PayloadError("bad_json", "the body is not valid JSON")
    if not isinstance(payload, dict):
        raise PayloadError("bad_json", "the body must be a JSON object")
    if _SURROGATE_ESCAPE.search(request.get_data(cache=True)):
        payload = _mended(payload)
    unknown = sorted(set(payload) - set(fields))
    if unknown:
        hint = close_match(unknown[0], fields)
        raise PayloadError("unknown_field", f"unknown field(s): {', '.join(unknown)}"
                           + (f" ({hint})" if hint else f"; the fields are {', '.join(sorted(fields))}"))
    return payload


def _mended(value: Any) -> Any:
    """`value` with every lone surrogate in its strings, keys included, replaced by U+FFFD."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_mended(item) for item in value]
    if isinstance(value, dict):
        return {_mended(key): _mended(item) for key, item in value.items()}
    return value


def short_text(payload: dict[str, Any], name: str, *, limit: int, required: bool = False) -> str | None:
    """An optional (or required) string field of 1 to `limit` printable characters; null counts as absent."""
    value = payload.get(name)
    if value is None:
        if required:
            raise PayloadError(f"missing_{name}", f"'{name}' is required")
        return None
    if not isinstance(value, str) or not 0 < len(value) <= limit or not value.isprintable():
        raise PayloadError(f"bad_{name}", f"'{name}' must be a string of 1 to {limit} printable characters")
    return value


def parse_day(value: Any) -> date:
    """The `today` field: a date written YYYY-MM-DD, in the years the date arithmetic handles."""
    try:
        return read_iso_day(value)
    except ValueError as wrong:
        raise InputError("bad_today", f"'today' {wrong}") from None
