"""Slack: /faq slash command and app mentions through slack_bolt's Flask adapter."""

from __future__ import annotations

from flask import Flask

from ..config import Settings
from ..state import State


def init_slack(app: Flask, settings: Settings, state: State) -> None:
    """Mount /slack/events when SLACK_SIGNING_SECRET is set."""
