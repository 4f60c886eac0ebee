"""Errors a user sees. Each says what, where, and what to do next; the CLI turns them into exit codes.

Exit codes follow the data contract §3: 1 data problems, 2 usage, 3 invalid rules/overlay/plan, 4 failed cases.
Each error also carries a `code`: a short stable id of what went wrong (`rules_date_outside_windows`,
`overlay_invalid`, `unknown_option_value` …) that a program can act on while the text is free to improve; the CLI
prints it beside the message ("Lỗi [code]: …"). Every construction of one of these errors in tieuchi names its code
(tests/test_error_codes.py holds them to it).
"""
from __future__ import annotations

from typing import Any

from tieuchi.i18n import LANGS, Table, text

SHOWN = 80  # characters of a user's value echoed in a message, by default


def clip(text: Any, limit: int = SHOWN) -> str:
    """`text` (str() of it) cut to `limit` characters with '…': a value a message echoes may be as long as its file
    (the one way every layer shortens what it echoes)."""
    text = str(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


class TieuchiError(Exception):
    """Base class. `message` says what and where (in English; `vi` the same in Vietnamese, where given); `hint` says
    what to do next; `code` is the machine id of the problem."""

    exit_code = 2
    code: str | None = None  # a subclass that is one problem fixes its code here

    def __init__(self, message: str, hint: str | None = None, *, vi: str | None = None, vi_hint: str | None = None,
                 code: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.vi = vi  # the same in Vietnamese, where the error is one a data user meets
        self.vi_hint = vi_hint
        if code is not None:
            self.code = code

    @classmethod
    def from_table(cls, messages: Table, key: str, /, *, code: str, hint: str | None = None, **values: Any):
        """The error whose message is `key` (and hint `hint`) of a message table (`tieuchi.i18n`), in both
        languages."""
        said = {lang: (text(messages, key, lang, **values), text(messages, hint, lang, **values) if hint else None)
                for lang in LANGS}
        return cls(*said["en"], vi=said["vi"][0], vi_hint=said["vi"][1], code=code)

    def in_lang(self, lang: str) -> tuple[str, str | None]:
        """(message, hint) in `lang` ('vi' or 'en'); English where no Vietnamese text was given."""
        said = {"en": (self.message, self.hint)}
        if self.vi:
            said["vi"] = (self.vi, self.vi_hint or self.hint)
        return said.get(lang, said["en"])

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message + (f"\n  → {self.hint}" if self.hint else "")


class UsageError(TieuchiError):
    """Bad options, unreadable file, missing required column, or a date no regime covers (exit 2)."""

    exit_code = 2


class RulesError(TieuchiError):
    """An invalid rule file, overlay or plan (exit 3)."""

    exit_code = 3


class DataError(TieuchiError):
    """Rows were rejected, or --strict refused the survey (exit 1)."""

    exit_code = 1
