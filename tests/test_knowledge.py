"""Knowledge files: every problem is reported with file, line, key and a hint; nothing crashes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.knowledge import load_knowledge

from .conftest import FIXTURES, ROOT


def _faq_dir(tmp_path: Path, text: str, name: str = "broken.yaml") -> Path:
    shutil.copytree(FIXTURES / "faq", tmp_path / "faq")
    (tmp_path / "faq" / name).write_text(text, encoding="utf-8")
    return tmp_path / "faq"


def _problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_knowledge(path)
    return [str(p) for p in info.value.problems]


def test_shipped_knowledge_loads() -> None:
    k = load_knowledge(ROOT / "faq")
    assert {p.id for p in k.products} == {"virusbuster", "adobe-vip"}
    assert all(e.answer and e.question for e in k.entries)
    assert len(k.version) == 12


def test_fixture_knowledge_loads() -> None:
    k = load_knowledge(FIXTURES / "faq")
    assert [e.id for e in k.entries] == ["refund", "delivery", "password"]
    assert ("払い戻し", "返金") in k.synonyms


def test_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    text = "product:\n  id: x\n  name: [unclosed\nentries: []\n"
    problems = _problems(_faq_dir(tmp_path, text))
    assert len(problems) == 1
    assert problems[0].startswith("faq/broken.yaml:4") or problems[0].startswith("faq/broken.yaml:3")
    assert "invalid YAML" in problems[0]


def test_impossible_date_names_file_and_line(tmp_path: Path) -> None:
    # PyYAML reads an unquoted 2025-02-30 as a date and raised a bare ValueError, which crashed the loader
    text = "product:\n  id: x\n  name: X\n  since: 2025-02-30\nentries: []\n"
    problems = _problems(_faq_dir(tmp_path, text))
    assert problems == ["faq/broken.yaml:4: invalid YAML: 2025-02-30 is not a day of the calendar "
                        "(hint: write a day the calendar has)"], problems


def test_a_control_character_names_file_and_line(tmp_path: Path) -> None:
    # PyYAML's reader refuses it before parsing, with a position and no line, and crashed the loader
    text = "product:\n  id: x\n  name: X\x07\nentries: []\n"
    problems = _problems(_faq_dir(tmp_path, text))
    assert problems == ["faq/broken.yaml:3: invalid YAML: the control character U+0007 is not allowed "
                        '(hint: remove it, or write it as "\\u0007" inside double quotes)'], problems


def test_a_key_written_twice_is_a_problem_not_the_last_one_kept(tmp_path: Path) -> None:
    text = "product:\n  id: x\n  name: X\n  name: Y\nentries: []\n"
    problems = _problems(_faq_dir(tmp_path, text))
    assert problems == ["faq/broken.yaml:4: product.name: duplicate key: 'name' is also on line 3 "
                        "(hint: keep one: YAML would silently keep the last)"], problems


def test_unknown_key_gets_nearest_name(tmp_path: Path) -> None:
    text = (
        "product: {id: x, name: X, contact: c}\n"
        "entries:\n"
        "  - id: a\n"
        "    question: q\n"
        "    answr: typo\n"
    )
    problems = _problems(_faq_dir(tmp_path, text))
    assert any("faq/broken.yaml:5: entries[0].answr: unknown key (hint: did you mean 'answer'?)" == p
               for p in problems), problems
    assert any("entries[0].answer: required key is missing" in p and ":3:" in p for p in problems), problems


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        "product: {id: Bad Id, name: X, contact: c}\n"
        "entries:\n"
        "  - id: refund\n"  # already used by the fixture shop.yaml
        "    question: q\n"
        "    answer: a\n"
        "  - id: ok\n"
        "    question: 1\n"
        "    answer: a\n"
    )
    problems = _problems(_faq_dir(tmp_path, text))
    assert any("product.id" in p and ":1:" in p for p in problems), problems
    assert any("entries[1].question" in p and ":7:" in p for p in problems), problems


def test_duplicate_ids_and_phrasings_across_files(tmp_path: Path) -> None:
    text = (
        "product: {id: other, name: X, contact: c}\n"
        "entries:\n"
        "  - id: refund\n"
        "    question: 全く別の質問\n"
        "    answer: a\n"
        "  - id: other-delivery\n"
        "    question: 商品はいつ届きますか？\n"
        "    answer: a\n"
    )
    problems = _problems(_faq_dir(tmp_path, text))
    assert any("entry id 'refund' is already used (hint: first defined at faq/broken.yaml:3)" in p for p in problems)
    assert any("also belongs to entry 'other-delivery'" in p for p in problems), problems


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    problems = _problems(_faq_dir(tmp_path, "- just\n- a list\n"))
    assert problems == ["faq/broken.yaml:1: expected a mapping with 'product' and 'entries', or 'synonyms', "
                        "or 'off_topics'"]


def test_bad_synonym_group(tmp_path: Path) -> None:
    problems = _problems(_faq_dir(tmp_path, "synonyms:\n  - [ひとつ]\n  - [返金, 金]\n", "syn2.yaml"))
    assert any("syn2.yaml:2" in p and "at least one variant" in p for p in problems), problems
    assert any("syn2.yaml:3" in p and "too short" in p for p in problems), problems


def test_not_utf8(tmp_path: Path) -> None:
    d = _faq_dir(tmp_path, "")
    (d / "broken.yaml").write_bytes("product: テスト".encode("shift_jis"))
    problems = _problems(d)
    assert "cannot read the file" in problems[0]


def test_empty_dir(tmp_path: Path) -> None:
    (tmp_path / "faq").mkdir()
    assert "no knowledge files" in _problems(tmp_path / "faq")[0]
