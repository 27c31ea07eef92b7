"""The customers' chat widget (/), the agents' look-up page (/agent) and their APIs."""

from __future__ import annotations

from flask import Flask

from ..config import Settings
from ..state import State


def register_pages(app: Flask, settings: Settings, state: State) -> None:
    """Mount the pages, /api/feedback and the agents' API."""
