"""JSON log lines (python-json-logger) with the request id, and personal data masked in every record.

One handler writes every line: gunicorn's `logconfig_dict` puts it on the root logger (`logging_config`),
and an app created without gunicorn (tests, `faqbot serve --dev`) gets it on the `bot` logger
(`ensure_logging`). Its filters stamp the request id and mask e-mail addresses, phone numbers,
order numbers and serial numbers in the message, the traceback and every string field.
"""

from __future__ import annotations

import logging
import re
import sys
import unicodedata
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from pythonjsonlogger.json import JsonFormatter

# Set by the web layer for the duration of one request; read by RequestIdFilter.
request_id_var: ContextVar[str | None] = ContextVar("faqbot_request_id", default=None)

# Fields whose values the app makes itself and that must stay readable to correlate lines
# (a request id or knowledge version is a long hex string that the serial rule would hide).
# The app's own ids, never personal: a 12-hex knowledge version can look like an order number (f12345678901)
_UNMASKED = frozenset({"request_id", "version", "old_version"})
# Attributes every LogRecord has; everything else on a record is a caller's field (`extra=`).
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
_NOT_EXTRA = _RECORD_ATTRS | _UNMASKED

# The folds NFKC makes on the characters these rules read: full-width ASCII (０９０－１２３４, ＠) and the
# ideographic space; and the dash look-alikes customers type between digit groups (‐ – — − ー ｰ).
# Done with str.translate, one character for one, so a match's offsets are the original text's.
_FOLD = str.maketrans(
    {chr(c): unicodedata.normalize("NFKC", chr(c)) for c in range(0xFF01, 0xFF5F)}
    | {"\u3000": " "}
    | dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff70", "-")
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
# bot/facts.py's order number (2 letters-14 digits-9 digits) and its looser look-alikes: a short
# letter prefix, then 6+ digits, then more digit groups, with or without dashes and spaces.
# The digit groups after the first need a separator (possessive quantifiers, no backtracking into a
# run of digits): with an optional one, 「A」 + 50 digits + 「b」 took seconds to reject.
_ORDER = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{1,4}[ \t]*-?[ \t]*[0-9]{6,}+(?:(?:[ \t]*-[ \t]*|[ \t]+)[0-9]{3,}+)*+(?![A-Za-z0-9])"
    # the order number's digits without its letters (20240116123456-123456789): a long run and a dash
    r"|(?<![A-Za-z0-9])[0-9]{12,}+[ \t]*-[ \t]*[0-9]{6,}+(?![A-Za-z0-9])"
)
# Serial numbers: 3+ dash-separated alphanumeric groups (ウイルスバスター's XXXX-XXXX-XXXX-XXXX-XXXX,
# card and licence numbers), or 16+ alphanumerics in one run; either must hold a digit (see _is_serial).
_SERIAL = re.compile(
    r"(?<![A-Za-z0-9])(?:[A-Za-z0-9]{3,}(?:[ \t]*-[ \t]*[A-Za-z0-9]{3,}){2,}|[A-Za-z0-9]{16,}"
    # groups of 4 to 6 capitals and digits with spaces between (ABCD 1234 EFGH 5678, 1234 5678 9012 3456)
    r"|[A-Z0-9]{4,6}(?:[ \t]+[A-Z0-9]{4,6}){3,})(?![A-Za-z0-9])"
)
# Japanese numbers: 03-1234-5678, 090-1234-5678, 0120-123-456, (03)1234-5678, 09012345678;
# and international ones: +81 90-1234-5678, +81 (0)3 1234 5678. Digit counts are checked in _is_phone,
# so dates (2024-01-16, 01-16-2024) and years never pass.
_PHONE = re.compile(
    # not inside a number or a word (a dot after a digit is a decimal point), but after 「TEL.」「FAX.」
    r"(?<![A-Za-z0-9+])(?<![0-9]\.)(?:\+[0-9]{1,3}(?:[ \t]*\(0\))?|81(?=[ \t.-])|\(?0[0-9]{1,4}\)?)"
    r"(?:[ \t.-]*\(?[0-9]{1,4}\)?){1,3}(?![0-9])"
)
_BLANK = "\x00"  # fills a masked span in the working copy: not alphanumeric, so later rules see a boundary
# Every rule needs an @ (e-mail) or a digit (order, serial and phone numbers), before or after the fold: text
# without one has nothing to mask. Most log fields (paths, intents, rule ids, words) are such text, and one
# search is far cheaper than the fold and four scans.
_MAY_HOLD = re.compile(r"[@\uff200-9\uff10-\uff19]")


def _is_serial(match: str) -> bool:
    alnum = [c for c in match if c.isalnum()]
    # all digits in one run: a card number (16) or longer; a shorter run is an amount, a date or a count
    return len(alnum) >= 12 and any(c.isdigit() for c in alnum) and (
        "-" in match or " " in match or "\t" in match or any(c.isalpha() for c in alnum) or len(alnum) >= 16
    )


def _is_phone(match: str) -> bool:
    digits = sum(c.isdigit() for c in match)
    if match.startswith("+"):
        return 8 <= digits <= 15
    if match.startswith("81"):  # +81 written without its plus: 81-90-1234-5678
        return 11 <= digits <= 12
    return 10 <= digits <= 11


_RULES: tuple[tuple[re.Pattern[str], str, Callable[[str], bool] | None], ...] = (
    (_EMAIL, "[email]", None),
    (_ORDER, "[order]", None),
    (_SERIAL, "[serial]", _is_serial),
    (_PHONE, "[phone]", _is_phone),
)


def personal_spans(text: str) -> list[tuple[int, int, str]]:
    """Where e-mail addresses, order numbers, serial numbers and phone numbers are, with their labels."""
    return _scan(text) if _MAY_HOLD.search(text) else []


def _scan(text: str) -> list[tuple[int, int, str]]:
    """personal_spans without the first look for an @ or a digit.

    A masked span is blanked at once, and the scan goes on where the accepted part of a match ended, so a
    number that a greedy match ran into (「0120-123-456\t0120-123-456」) is found too; and the rules run again
    while they find something, since a blank is a boundary a match may need (「A000000-000000000000000A」: the
    serial number masked, the order number before it can end). Masking twice changes nothing.
    """
    work = text.translate(_FOLD)  # one character for one: the spans fit `text`
    spans: list[tuple[int, int, str]] = []
    found = True
    while found:
        found = False
        for pattern, label, accept in _RULES:
            pos = 0
            while (match := pattern.search(work, pos)) is not None:
                start, end = match.start(), _accepted_end(match.group(), accept)
                if not end:
                    pos = match.end()
                    continue
                spans.append((start, start + end, label))
                work = work[:start] + _BLANK * end + work[start + end:]
                pos, found = start + end, True
    return sorted(spans)


def mask(text: str) -> str:
    """The text with e-mail addresses, order numbers, serial numbers and phone numbers replaced by labels."""
    return _replace(text, personal_spans(text))


def _replace(text: str, spans: Sequence[tuple[int, int, str]]) -> str:
    if not spans:
        return text
    out, pos = [], 0
    for start, end, label in spans:
        out.append(text[pos:start])
        out.append(label)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def mask_except(text: str, keep: Sequence[str]) -> str:
    """`mask(text)`, with every occurrence of the `keep` strings (the record's own ids) left as it is."""
    keep = [k for k in keep if k and k in text]
    if not keep:
        return mask(text)
    # the whole text is scanned, and only a span lying within an occurrence of a kept id is left: splitting the
    # text at the ids let an id of "-" (or one inside a number) cut a phone number into pieces no rule matched
    kept = [(m.start(), m.end()) for k in keep for m in re.finditer(re.escape(k), text)]
    spans = [sp for sp in personal_spans(text) if not any(a <= sp[0] and sp[1] <= b for a, b in kept)]
    return _replace(text, spans)


def _accepted_end(found: str, accept: Callable[[str], bool] | None) -> int:
    """How much of a match to mask: all of it, or the longest accepted prefix ending at a group boundary.

    A greedy match can swallow what follows (「03-1234-5678 2024-01-16」 reads as one 14-digit number);
    the phone number in front of it must still be masked.
    """
    if accept is None or accept(found):
        return len(found)
    for cut in sorted((m.start() for m in re.finditer(r"[ \t-]+", found)), reverse=True):
        if cut and accept(found[:cut]):
            return cut
    return 0


def mask_value(value: Any) -> Any:
    """Strings masked; lists, tuples and dicts masked item by item; anything else unchanged."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {k: v if k in _UNMASKED else mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(v) for v in value]
    return value


class MaskFilter(logging.Filter):
    """Masks personal data in the message, the traceback and every extra string field of a record.

    It rewrites the record in place (message rendered, args cleared), so every handler after it sees
    only the masked text. It never drops a record and never raises.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad %-format must not lose the line; log what we have
            message = f"{record.msg!r} {record.args!r}"
        fields = vars(record)
        # the ids the record carries as fields may be named in its message too (version a -> b): kept as they are
        ids = [v for k in _UNMASKED if isinstance(v := fields.get(k), str)]
        record.msg, record.args = mask_except(message, ids), None
        if record.exc_info:
            formatter = logging.Formatter()
            record.exc_text = mask(formatter.formatException(record.exc_info))
            record.exc_info = None  # the formatter would render the raw traceback again
        elif record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        for key in fields.keys() - _NOT_EXTRA:  # the caller's fields only: a record has some thirty of its own
            fields[key] = mask_value(fields[key])  # personal_spans' own look for an @ or a digit keeps it cheap
        return True


class RequestIdFilter(logging.Filter):
    """Adds the current request's id to every record logged while it is being served."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = request_id_var.get()
        if request_id is not None and not hasattr(record, "request_id"):
            record.request_id = request_id
        return True


class _Formatter(JsonFormatter):
    """python-json-logger's formatter with the fields a reader scans for first.

    The line is time, level, logger, request id, message, pid, then any traceback and the caller's fields,
    added in that order in one pass (python-json-logger's own add_fields, timestamp and reordering cost
    about as much as the rest of a request's line put together).
    """

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        """Fill `log_data` in output order: see the class."""
        fields = vars(record)
        # the timestamp is written last, as python-json-logger does, so no field of the caller's replaces it
        when = datetime.fromtimestamp(record.created, tz=UTC).isoformat()
        log_data["time"] = when
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        if "request_id" in fields:
            log_data["request_id"] = fields["request_id"]
        log_data["message"] = fields.get("message")
        log_data["pid"] = record.process
        log_data.update(message_dict)  # exc_info and stack_info
        skip = self._skip_fields
        for key, value in fields.items():
            if key not in skip and not key.startswith("_"):
                log_data[key] = value
        log_data["time"] = when


def json_formatter() -> JsonFormatter:
    """One JSON object a line: time (UTC), level, logger, request id, message, then the record's fields."""
    # the fields named here are those add_fields writes itself (levelname as level, name as logger, process as
    # pid): naming them keeps them out of the caller's fields
    return _Formatter("{levelname}{name}{process}{message}", style="{", json_ensure_ascii=False)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to sys.stderr as it is when a record comes (pytest swaps it per test), like logging.lastResort."""

    @property
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, _value: IO[str]) -> None:
        pass


def json_handler(stream: IO[str] | None = None) -> logging.Handler:
    """A stream handler (the current stderr by default) writing masked JSON lines with the request id."""
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(MaskFilter())
    return handler


def logging_config() -> dict[str, Any]:
    """gunicorn's `logconfig_dict`: every logger to one masked JSON handler on stderr.

    gunicorn's access log is off (level WARNING, no handler): the app writes one line per request itself,
    with the request id, which gunicorn's access line cannot carry.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}, "mask": {"()": MaskFilter}},
        "formatters": {"json": {"()": json_formatter}},
        "handlers": {
            "json": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "json",
                "filters": ["request_id", "mask"],
            }
        },
        "root": {"level": "INFO", "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
            "bm25s": {"level": "WARNING"},  # it logs each index build at DEBUG, four lines per worker start
        },
    }


def _masked_handler_serves(logger: logging.Logger) -> bool:
    current: logging.Logger | None = logger
    while current is not None:
        if any(any(isinstance(f, MaskFilter) for f in h.filters) for h in current.handlers):
            return True
        current = current.parent if current.propagate else None
    return False


def ensure_logging(stream: IO[str] | None = None) -> logging.Logger:
    """The `bot` logger at INFO, writing masked JSON lines unless a masked handler above already does.

    The root logger is left alone (pytest and embedding applications own it); under gunicorn
    `logging_config` has already put the masked handler there, and records simply propagate to it.
    """
    logger = logging.getLogger("bot")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    if not _masked_handler_serves(logger):
        logger.addHandler(json_handler(stream))
    return logger
