"""Repository health: what the README promises exists and is documented."""

from __future__ import annotations

import dataclasses
import re

from bot.config import Settings, env_name

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    missing = [env_name(f.name) for f in dataclasses.fields(Settings) if f"`{env_name(f.name)}`" not in README]
    assert missing == []


def test_readme_names_the_two_commands_and_ci_calls_make_test() -> None:
    assert "make run" in README and "make test" in README
    assert re.search(r"^make test$", (ROOT / ".ci" / "run").read_text(), re.MULTILINE)


def test_calibration_file_matches_the_features() -> None:
    from bot.confidence import FEATURES, Calibration

    text = (ROOT / "bot" / "calibration.json").read_text(encoding="utf-8")
    assert all(f'"{name}"' in text for name in FEATURES)
    assert len(Calibration.load(ROOT / "bot" / "calibration.json").weights) == len(FEATURES)
