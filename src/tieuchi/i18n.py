"""Languages and messages: the languages tieuchi speaks, said once, and the one way to ask for a message in one.

A message table holds, per language, the same keys; each layer keeps its own table beside the code that uses it
(the CLI's in `tieuchi.cli.common`, the case runner's in `tieuchi.casework.runner`, the reject problems' in
`tieuchi.contract.problems` …) and asks for a text with `text(TABLE, key, lang, **values)`:

    T = table(vi={"written": "Đã ghi: {paths}"}, en={"written": "Written: {paths}"})
    text(T, "written", "en", paths="a.csv")  # 'Written: a.csv'

An error carries its text in both languages (`tieuchi.errors.TieuchiError`, made with `vi=`/`vi_hint=` beside the
English text, or from a table with `TieuchiError.from_table`) and gives it with `error.in_lang(lang)`.
Imports nothing of tieuchi: every layer may use it.
"""
from __future__ import annotations

from collections.abc import Mapping

LANGS = ("vi", "en")  # the languages of every message, label and output; the first is the default
DEFAULT = LANGS[0]

Table = Mapping[str, Mapping[str, str]]  # language -> key -> text (with {placeholders})


def lang_or_default(value: str | None) -> str:
    """A language as a user gave it (any case, spaces around) → one of `LANGS`; anything else → `DEFAULT`.
    (A command that must refuse an unknown language checks the value itself; this only picks the language its
    messages are said in.)"""
    v = (value or DEFAULT).strip().lower()
    return v if v in LANGS else DEFAULT


def table(**by_lang: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """A message table from one mapping per language (`table(vi={...}, en={...})`), checked when the module is
    imported: every language of `LANGS` is given, with the same keys (a text missing in one language is a defect
    found at once, not by the user who asks for it)."""
    missing = [lang for lang in LANGS if lang not in by_lang]
    extra = [lang for lang in by_lang if lang not in LANGS]
    if missing or extra:
        raise ValueError(f"a message table gives every language of {LANGS}: missing {missing}, unknown {extra}")
    keys = set(by_lang[DEFAULT])
    for lang in LANGS:
        if set(by_lang[lang]) != keys:
            raise ValueError(f"message table: keys only in {DEFAULT}: {sorted(keys - set(by_lang[lang]))}, "
                             f"only in {lang}: {sorted(set(by_lang[lang]) - keys)}")
    return {lang: dict(by_lang[lang]) for lang in LANGS}


def text(messages: Table, key: str, lang: str, /, **values) -> str:
    """The message `key` of the table `messages` in `lang` (in `DEFAULT` for a language the table does not have),
    with `values` filled into its {placeholders}; a text asked for without values is returned as it is."""
    by_key = messages.get(lang) or messages[DEFAULT]
    message = by_key[key]
    return message.format(**values) if values else message
