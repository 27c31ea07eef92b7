"""The customers' chat widget (/) and the agents' look-up page (/agent)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("pages", __name__)
