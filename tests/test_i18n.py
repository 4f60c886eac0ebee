"""tieuchi.i18n: the languages said once, message tables with the same keys in every language, one way to ask."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tieuchi.contract.problems import PROBLEM_TEXT, PROBLEMS, problem_text
from tieuchi.i18n import DEFAULT, LANGS, lang_or_default, table, text

SRC = Path(__file__).resolve().parents[1] / "src" / "tieuchi"


def test_the_languages_are_vietnamese_first_then_english():
    assert LANGS == ("vi", "en") and DEFAULT == "vi"


@pytest.mark.parametrize("given, lang", [("en", "en"), (" EN ", "en"), ("vi", "vi"), ("fr", "vi"), (None, "vi"),
                                         ("", "vi")])
def test_a_language_as_a_user_gives_it_is_one_of_the_languages_else_the_default(given, lang):
    assert lang_or_default(given) == lang


def test_a_message_table_with_a_key_missing_in_one_language_is_refused_when_it_is_made():
    with pytest.raises(ValueError, match="only in vi: \\['b'\\]"):
        table(vi={"a": "một", "b": "hai"}, en={"a": "one"})
    with pytest.raises(ValueError, match="missing \\['en'\\]"):
        table(vi={"a": "một"})


def test_a_message_is_asked_for_by_table_key_and_language_with_its_values_filled_in():
    t = table(vi={"written": "Đã ghi: {paths}", "raw": "{not a placeholder}"},
              en={"written": "Written: {paths}", "raw": "{not a placeholder}"})
    assert text(t, "written", "en", paths="a.csv") == "Written: a.csv"
    assert text(t, "written", "vi", paths="a.csv") == "Đã ghi: a.csv"
    assert text(t, "written", "fr", paths="a.csv") == "Đã ghi: a.csv"  # a language the table lacks: the default
    assert text(t, "raw", "en") == "{not a placeholder}"  # asked for without values: as it is
    assert text(t, "written", "en", paths="{key}", key="x") == "Written: {key}"  # values are not read as templates


def test_every_problem_code_of_a_reject_has_a_sentence_in_both_languages_and_an_unknown_one_is_named():
    assert set(PROBLEM_TEXT["vi"]) == set(PROBLEM_TEXT["en"]) == set(PROBLEMS)
    assert problem_text("required", "en") == "A required cell is empty: fill it in."
    assert problem_text("nope", "vi") == "Lỗi 'nope'." and problem_text("nope", "en") == "Problem 'nope'."


def _tables_in(path: Path) -> list[str]:
    """Names of module-level dicts keyed by both languages that are not made with i18n.table."""
    out = []
    for node in ast.parse(path.read_text("utf-8")).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            keys = {k.value for k in node.value.keys if isinstance(k, ast.Constant)}
            if set(LANGS) <= keys:
                out.append(f"{path.name}:{node.lineno}")
    return out


@pytest.mark.parametrize("folder", ["cli", "casework"])
def test_the_cli_and_the_casework_keep_their_messages_in_i18n_tables(folder):
    found = [t for p in sorted((SRC / folder).glob("*.py")) for t in _tables_in(p)]
    assert not found, found
    for p in sorted((SRC / folder).glob("*.py")):
        assert "lang ==" not in p.read_text("utf-8"), p
