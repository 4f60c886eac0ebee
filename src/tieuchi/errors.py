"""Errors a user sees. Each says what, where, and what to do next; the CLI turns them into exit codes.

Exit codes follow the data contract §3: 1 data problems, 2 usage, 3 invalid rules/overlay/plan, 4 failed cases.
"""
from __future__ import annotations

from typing import Any

SHOWN = 80  # characters of a user's value echoed in a message, by default


def clip(text: Any, limit: int = SHOWN) -> str:
    """`text` (str() of it) cut to `limit` characters with '…': a value a message echoes may be as long as its file
    (the one way every layer shortens what it echoes)."""
    text = str(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


class TieuchiError(Exception):
    """Base class. `message` says what and where; `hint` says what to do next."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None, *, vi: str | None = None, vi_hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.vi = vi  # the same in Vietnamese, where the error is one a data user meets
        self.vi_hint = vi_hint

    def in_lang(self, lang: str) -> tuple[str, str | None]:
        """(message, hint) in `lang` ('vi' or 'en'); English where no Vietnamese text was given."""
        if lang == "vi" and self.vi:
            return self.vi, self.vi_hint or self.hint
        return self.message, self.hint

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
