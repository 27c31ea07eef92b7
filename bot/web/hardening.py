"""Security headers, Content-Security-Policy, request ids and JSON logs."""

from __future__ import annotations

from flask import Flask

from ..config import Settings


def init_hardening(app: Flask, settings: Settings) -> None:
    """Add security headers to every response and structured logging with a request id."""
