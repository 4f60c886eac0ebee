"""A regime and the rules in force at one date: the domain types every other layer reads.

`Regime` is every declaration of one poverty regime (rules/poverty/<regime>/), validated and cross-checked, with the
program (rules/programs/<id>/) and the shared sets (rules/shared/<id>/) that apply with it; `Regime.at(day)` resolves
its dated parameter values into `RulesAt`, what the backends compile. Reading them from their folders is `folders`;
choosing the regime for a date or a `--rules` argument is `load`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tieuchi.errors import RulesError, UsageError
from tieuchi.rulebook import vocabulary as m
from tieuchi.rulebook.overlay import Overlay


UNKNOWN = "unknown"  # the class of a household whose class no rule decides (data contract §2.1 household_class)


@dataclass
class Regime:
    """Every declaration of one regime, validated and cross-checked; `at(date)` resolves dated values."""

    root: Path
    ruleset: m.Ruleset
    instruments: dict[str, m.Instrument]
    parameters: dict[str, m.Parameter]
    derived: dict[str, m.Derived]
    indicators: dict[str, m.Indicator]
    classification: m.Classification
    files: dict[str, Path] = field(default_factory=dict)  # rule id -> file
    version: str = ""
    program: "ProgramRules | None" = None  # the program whose items follow this regime's classes (merged names)
    overlay: "Overlay | None" = None  # the overlay applied to `base` to make this regime (see load_overlay)
    base: "Regime | None" = None
    shared: "list[SharedRules]" = field(default_factory=list)  # rules/shared/* sets whose validity meets the window
    programs: list[m.Program] = field(default_factory=list)  # every program of the rules (to say why none applies)

    @property
    def id(self) -> str:
        return self.ruleset.id

    @property
    def class_ids(self) -> list[str]:
        """The class ids in the rules' order, then UNKNOWN (the class of a household no class decides)."""
        return [c.id for c in self.classification.classes] + [UNKNOWN]

    def class_labels(self, lang: str, short: bool = False) -> dict[str, str]:
        """{class id: its label in `lang`} for :attr:`class_ids` (`short`: the short label where there is one)."""
        cl = self.classification
        out = {c.id: getattr(c.short if short and c.short is not None else c.label, lang) for c in cl.classes}
        out[UNKNOWN] = getattr(cl.unknown_short if short and cl.unknown_short is not None else cl.unknown, lang)
        return out

    @property
    def item_ids(self) -> list[str]:
        """The item ids of every program of the rules (in force on any date or not), in their declared order."""
        return list(dict.fromkeys(i for p in self.programs for i in p.items))

    def at(self, day: dt.date) -> "RulesAt":
        if not self.ruleset.validity.covers(day):
            window, on = self.ruleset.validity, day.isoformat()
            if self.overlay is not None:
                raise UsageError(f"overlay {self.overlay.id} applies within its base regime {self.id}, which covers "
                                 f"{window}, not {on}", "choose a reference date inside that window",
                                 vi=f"bộ điều chỉnh {self.overlay.id} chỉ áp dụng trong thời gian của bộ tiêu chí gốc "
                                    f"{self.id} ({window}), không áp dụng cho ngày {on}",
                                 vi_hint="chọn ngày tham chiếu trong khoảng thời gian đó",
                                 code='overlay_date_outside_window')
            raise UsageError(f"regime {self.id} covers {window}, not {on}",
                             "choose a reference date inside that window, or leave out --rules",
                             vi=f"bộ tiêu chí {self.id} áp dụng {window}, không áp dụng cho ngày {on}",
                             vi_hint="chọn ngày tham chiếu trong khoảng thời gian đó, hoặc bỏ --rules",
                             code='regime_date_outside_window')
        values = {}
        provisional = set()
        for pid, p in self.parameters.items():
            dv = p.at(day)
            if dv is None:
                raise RulesError(f"{self.files.get(pid)}: parameter '{pid}' has no value on {day.isoformat()} "
                                 f"(its first value starts {p.values[0].start})",
                                 "add a value whose 'from' is on or before the start of the regime",
                                 code='parameter_no_value')
            values[pid] = dv.value
            if dv.provisional:
                provisional.add(pid)
        return RulesAt(regime=self, day=day, params=values, provisional_params=provisional)


@dataclass
class ProgramRules:
    """A program's rules (rules/programs/<id>/). Its parameters and derived variables are merged into the regime's
    (names must not clash), so conditions of either may use both."""

    root: Path
    program: m.Program
    parameters: dict[str, m.Parameter]
    derived: dict[str, m.Derived]
    items: dict[str, m.ProgramItem]  # in the order program.yaml lists them
    shares: dict[str, m.ShareRule]  # member shares (hi_support)
    files: dict[str, Path]

    @property
    def id(self) -> str:
        return self.program.id

    @property
    def priority_order(self) -> list[str]:
        """The priority group ids, highest first (program.yaml priority_groups)."""
        return [g.id for g in self.program.priority_groups]

    def priority_labels(self, lang: str) -> dict[str, str]:
        """{priority group id: its label in `lang`}."""
        return {g.id: getattr(g.label, lang) for g in self.program.priority_groups}

    def items_at(self, day: dt.date) -> tuple[list[m.ProgramItem], list[str]]:
        """The items in force on `day`, and a note for each item that is not (why its columns are absent)."""
        inside, notes = [], []
        window = self.program.validity
        for item in self.items.values():
            if window.covers(day) and item.validity.covers(day):
                inside.append(item)
            else:
                span = item.validity if not item.validity.covers(day) else window
                notes.append(f"{item.id}: not in force on {day.isoformat()} (program {self.id} covers {window}; "
                             f"item {span}); no eligible_{item.id} column")
        return inside, notes

    def shares_at(self, day: dt.date) -> list[m.ShareRule]:
        return [s for s in self.shares.values() if s.validity.covers(day)]


@dataclass
class SharedRules:
    """A set of rules that applies across regimes and programs (rules/shared/<id>/): the health-insurance shares
    (which follow the health-insurance law, not a program's window), the household statuses (newly escaped poverty is
    a status of the household, not of one program). Its parameters and derived variables are merged into the regime's
    like a program's; its statuses and shares are compiled on the dates its validity covers."""

    root: Path
    set: m.SharedSet
    parameters: dict[str, m.Parameter]
    derived: dict[str, m.Derived]
    shares: dict[str, m.ShareRule]
    files: dict[str, Path]

    @property
    def id(self) -> str:
        return self.set.id

    def in_force(self, day: dt.date) -> bool:
        return self.set.validity.covers(day)

    def shares_at(self, day: dt.date) -> list[m.ShareRule]:
        return [s for s in self.shares.values() if self.in_force(day) and s.validity.covers(day)]


@dataclass
class EligibilityRules:
    """What the backends compile once the class is known, on one date: the household statuses, the program items in
    force and the member shares — from the shared sets in force and the regime's program. `notes`: why an item (or
    every item) has no column."""

    statuses: list[str]
    items: list[m.ProgramItem]
    shares: list[m.ShareRule]
    notes: list[str]


@dataclass
class RulesAt:
    """A regime resolved at one reference date: what the backends compile."""

    regime: Regime
    day: dt.date
    params: dict[str, Any]
    provisional_params: set[str]

    @property
    def indicators(self) -> list[m.Indicator]:
        return [self.regime.indicators[i] for i in self.regime.ruleset.indicators]

    @property
    def version(self) -> str:
        return self.regime.version

    @property
    def eligibility(self) -> EligibilityRules | None:
        """The statuses, items and shares to compile on this date; None when neither a program nor a shared set
        applies (no eligibility columns at all)."""
        regime, day = self.regime, self.day
        shared = [s for s in regime.shared if s.in_force(day)]
        program = regime.program
        if program is None and not shared:
            return None
        statuses = [sid for s in shared for sid in s.set.statuses]
        shares = [sr for s in shared for sr in s.shares_at(day)]
        if program is not None:
            statuses += [sid for sid in program.program.statuses if sid not in statuses]
            shares += program.shares_at(day)
            items, notes = program.items_at(day)
        else:
            items, notes = [], [_no_program_note(regime)]
        return EligibilityRules(statuses, items, shares, notes)


def _no_program_note(regime: Regime) -> str:
    """Why a regime with shared rules but no program has no item columns: the programs there are and whom they
    follow."""
    known = "; ".join(f"{p.id} covers {p.validity} (regimes {', '.join(p.regimes)})" for p in regime.programs)
    return (f"no program rules apply with regime {regime.id}" + (f": {known}" if known else "")
            + "; no eligible_* column (the household statuses and health-insurance shares still apply)")

