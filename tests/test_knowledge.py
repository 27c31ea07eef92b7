"""Knowledge files: every problem is reported with file, line, key and a hint; nothing crashes."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.errors import ConfigError
from bot.knowledge import knowledge_version, load_date_roles, load_knowledge

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


def _copy_faq(tmp_path: Path, source: Path = FIXTURES / "faq") -> Path:
    shutil.copytree(source, tmp_path / "faq")
    return tmp_path / "faq"


def test_editor_leftovers_are_not_knowledge(tmp_path: Path) -> None:
    # Emacs locks a file it edits with a dangling link .#name (the loader crashed on it), others keep a backup
    # .~name or name~ (loaded, it defined every entry twice)
    d = _copy_faq(tmp_path)
    before = load_knowledge(d).version
    (d / ".#shop.yaml").symlink_to("user@host.1234:1700000000")
    shutil.copy(d / "shop.yaml", d / ".~shop.yaml")
    shutil.copy(d / "shop.yaml", d / ".shop.yaml")
    shutil.copy(d / "shop.yaml", d / "shop.yaml~")
    k = load_knowledge(d)
    assert [e.id for e in k.entries] == ["refund", "delivery", "password"]
    assert k.version == before


@pytest.mark.parametrize(("make", "says"), [
    (lambda p: p.mkdir(), "not a regular file: a directory"),
    (lambda p: p.symlink_to("nowhere.yaml"),
     "not a regular file: a symbolic link to a file that does not exist ('nowhere.yaml')"),
    (lambda p: p.symlink_to(p.name), "not a regular file: a symbolic link that loops ('x.yaml')"),
], ids=["directory", "dangling-link", "link-loop"])
def test_a_file_that_is_not_regular_is_one_problem_not_a_traceback(tmp_path: Path, make: Any, says: str) -> None:
    d = _copy_faq(tmp_path)
    make(d / "x.yaml")
    problems = _problems(d)
    assert len(problems) == 1 and problems[0].startswith(f"faq/x.yaml: {says}"), problems
    assert problems[0].endswith("(hint: move it out of the folder, or rename it so it does not end in .yaml)")


def test_a_file_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    # the decoder's message gave only an offset in bytes (「position 66329」)
    d = _copy_faq(tmp_path)
    (d / "broken.yaml").write_bytes("# 店\nproduct:\n  id: x\n".encode() + "  name: テスト\n".encode("shift_jis"))
    assert _problems(d) == ["faq/broken.yaml:4: cannot read the file: byte 0x83 at column 9 is not UTF-8 "
                            "(hint: save the file as UTF-8 (not Shift_JIS))"]


OTHER = ("product: {id: other, name: 別の店, aliases: [ALIAS], contact: c}\n"
         "entries:\n  - {id: x, question: q, answer: a}\n")


@pytest.mark.parametrize(("alias", "expected"), [
    ("てすとしょっぷ", "faq/other.yaml:1: product.aliases[0]: 'てすとしょっぷ' is also a name of product 'shop' "
                      "(faq/shop.yaml:4)"),
    ("ショップ", "faq/other.yaml:1: product.aliases[0]: 'ショップ' overlaps 'テストショップ', a name of product "
                "'shop' (faq/shop.yaml:3)"),
    ("テストショップ本店", "faq/other.yaml:1: product.aliases[0]: 'テストショップ本店' overlaps 'テストショップ', "
                         "a name of product 'shop' (faq/shop.yaml:3)"),
], ids=["same-in-hiragana", "inside", "around"])
def test_a_product_may_not_take_another_products_name(tmp_path: Path, alias: str, expected: str) -> None:
    d = _copy_faq(tmp_path)
    (d / "other.yaml").write_text(OTHER.replace("ALIAS", alias), encoding="utf-8")
    assert _problems(d) == [expected + " (hint: a question naming it would be about both products: give each "
                                       "product names of its own)"]


def test_a_new_product_cannot_take_over_virus_busters_questions(tmp_path: Path) -> None:
    # faq/example.yaml sorts before virusbuster.yaml: the new alias is reported, not Virus Buster's eight names
    d = _copy_faq(tmp_path, ROOT / "faq")
    (d / "example.yaml").write_text(OTHER.replace("ALIAS", "ウイルスバスター"), encoding="utf-8")
    problems = _problems(d)
    assert len(problems) == 1, problems
    assert problems[0].startswith("faq/example.yaml:1: product.aliases[0]: 'ウイルスバスター' is also a name of "
                                  "product 'virusbuster' (faq/virusbuster.yaml:4)"), problems


ENTRY = "product: {id: other, name: 別の店, contact: c}\nentries:\n  - id: x\n    question: q\n    answer: a\n"


@pytest.mark.parametrize(("change", "expected"), [
    (("answer: a", "answer: '   '"), "faq/other.yaml:5: entries[0].answer: is blank "
                                     "(hint: the document's answer, word for word)"),
    (("question: q", "question: ' '"), "faq/other.yaml:4: entries[0].question: is blank "
                                       "(hint: the question as the document asks it)"),
    (("contact: c", "contact: ' '"), "faq/other.yaml:1: product.contact: is blank (hint: the support contact in "
                                     "the documents' words: the bot gives it when it cannot answer)"),
    (("answer: a", "answer: a\n    links: ['']"), "faq/other.yaml:6: entries[0].links[0]: is blank "
                                                   "(hint: a page title, or leave it out)"),
    (("answer: a", "answer: a\n    links: [https://example.com/renew]"),
     "faq/other.yaml:6: entries[0].links[0]: 'https://example.com/renew' holds a URL: links hold page titles only "
     "(hint: write the page's title as the document names it (契約更新前のよくある質問): the bot never gives a URL)"),
], ids=["answer", "question", "contact", "blank-link", "url-link"])
def test_blank_text_and_urls_are_refused(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    d = _copy_faq(tmp_path)
    (d / "other.yaml").write_text(ENTRY.replace(*change), encoding="utf-8")
    assert _problems(d) == [expected]


def test_a_product_defined_twice_names_the_file_and_line(tmp_path: Path) -> None:
    # it named the seed document: 000_….txt: product.id: product 'virusbuster' is defined twice
    d = _copy_faq(tmp_path)
    text = (d / "shop.yaml").read_text(encoding="utf-8").replace("- id: ", "- id: copy-")
    (d / "shop2.yaml").write_text("# a copy\n" + text.replace("払い戻しできる？", "x").replace(
        "返金 方法", "y"), encoding="utf-8")
    problems = [p for p in _problems(d) if "product.id" in p]
    assert problems == ["faq/shop2.yaml:2: product.id: product 'shop' is defined twice "
                        "(hint: first defined at faq/shop.yaml:1; one file per product)"], problems


def test_a_synonym_in_two_groups_names_the_file_and_line(tmp_path: Path) -> None:
    # it said faq/synonyms.yaml, without a line, whichever file the second group was in
    d = _copy_faq(tmp_path)
    (d / "zz-synonyms.yaml").write_text("synonyms:\n  - [配送, 発送]\n  - [払い戻し金, 払い戻し]\n", encoding="utf-8")
    assert _problems(d) == ["faq/zz-synonyms.yaml:3: synonyms: '払い戻し' is a variant of both '返金' and '払い戻し金' "
                            "(hint: the group of '返金' is at faq/synonyms.yaml:2; keep the word in one group)"]


def _facts_file_problems(tmp_path: Path, key: str, added: str) -> tuple[int, list[str]]:
    """The problems of the shipped rules/facts.yaml with the line `added` put first under `key:`, and its line."""
    (tmp_path / "rules").mkdir()
    shipped = (ROOT / "rules" / "facts.yaml").read_text(encoding="utf-8")
    text = shipped.replace(f"{key}:\n", f"{key}:\n  {added}\n", 1)
    (tmp_path / "rules" / "facts.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_date_roles(tmp_path / "rules")
    return text.splitlines().index(f"  {added}") + 1, [str(p) for p in info.value.problems]


@pytest.mark.parametrize("role", ["years", "quantity", "today", "date", "order_number", "order_kind", "unreal_date",
                                  "invalid_date"])
def test_a_date_role_named_like_another_fact_is_refused(tmp_path: Path, role: str) -> None:
    # `years: [年数]` made 「有効期限は…年数」 a date called years, and the rule comparing years with 1 crashed
    line, problems = _facts_file_problems(tmp_path, "date_roles", f"{role}: [年数]")
    assert problems == [
        f"rules/facts.yaml:{line}: date_roles.{role}: '{role}' is the name of a fact that is not a date's role (hint: "
        f"name the role after what the date is (expiry, billing): a rule reading '{role}' could not tell the two "
        "apart)"]


@pytest.mark.parametrize(("role", "problem"), [
    ("expiri", "unknown role 'expiri' (hint: did you mean 'expiry'?)"),
    ("billing", "'billing' is recurring: a date of it named without a year is already its next one"),
])
def test_ahead_words_for_a_role_that_cannot_take_them_are_refused(tmp_path: Path, role: str, problem: str) -> None:
    line, problems = _facts_file_problems(tmp_path, "ahead", f"{role}: [期限前]")
    assert problems == [f"rules/facts.yaml:{line}: ahead.{role}: {problem}"]


def test_knowledge_version_is_the_loaded_version_without_loading(tmp_path: Path) -> None:
    faq, rules = tmp_path / "faq", tmp_path / "rules"
    shutil.copytree(ROOT / "faq", faq)
    shutil.copytree(ROOT / "rules", rules)
    assert knowledge_version(faq, rules) == load_knowledge(faq, rules).version
    assert knowledge_version(faq) == load_knowledge(faq).version
    for path in (next(faq.glob("*.yaml")), next(rules.glob("*.yaml"))):  # one byte more in either folder
        before = knowledge_version(faq, rules)
        path.write_bytes(path.read_bytes() + b"\n")
        assert knowledge_version(faq, rules) == load_knowledge(faq, rules).version != before
    (rules / "new.yaml").mkdir()  # a file that cannot be read: loading would refuse it
    assert knowledge_version(faq, rules) is None
