"""Where loading the rules starts: the regime in force on a date (`load_rules`), or what `--rules` names — a regime
folder, an overlay file, or the id of a shipped overlay (`load_candidate`).

Above `folders` (regime folders) and `overlays` (overlays applied to them), which it chooses between.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from tieuchi.errors import RulesError, TieuchiError, UsageError
from tieuchi.rulebook.folders import discover_regimes, load_regime
from tieuchi.rulebook.overlays import load_overlay, overlay_path
from tieuchi.rulebook.regime import Regime, RulesAt


def load_rules(on: dt.date, rules: str | Path | None = None) -> RulesAt:
    """The regime in force on `on`, resolved at that date. A date no regime covers is a UsageError naming the windows.

    `rules`: None for the shipped rules; a regime folder (rules/poverty/<regime>); or an overlay file (.yaml, or the
    id of an overlay shipped under rules/overlays), applied to its base regime — `version` then names both
    (`vn_2022_2026@<hash>+<overlay>@<hash>`). A date outside that regime's window is a UsageError naming it."""
    if rules is not None:
        return load_candidate(rules).at(on)
    regimes = [load_regime(p) for p in discover_regimes()]
    covering = [r for r in regimes if r.ruleset.validity.covers(on)]
    if not covering:
        windows = "; ".join(f"{r.id}: {r.ruleset.validity}" for r in regimes)
        raise UsageError(f"no regime covers {on.isoformat()}; the rules have: {windows}",
                         "choose a reference date inside one of these windows (--on DATE or --for-year YEAR)",
                         vi=f"không có bộ tiêu chí nào áp dụng cho ngày {on.isoformat()}; các bộ tiêu chí hiện có: "
                            f"{windows}",
                         vi_hint="chọn ngày tham chiếu trong một trong các khoảng thời gian trên "
                                 "(--on NGÀY hoặc --for-year NĂM)", code='rules_date_outside_windows')
    if len(covering) > 1:
        raise RulesError(f"regimes overlap on {on.isoformat()}: {', '.join(r.id for r in covering)}",
                         "fix their validity windows so that exactly one covers each date", code='regimes_overlap')
    return covering[0].at(on)


def load_candidate(rules: str | Path) -> Regime:
    """The rules `--rules` names: a regime folder, an overlay file, or the id of an overlay shipped under
    rules/overlays. Not found: UsageError (exit 2); invalid: RulesError (exit 3)."""
    path = Path(rules)
    if path.is_dir():
        if not (path / "ruleset.yaml").is_file():
            raise UsageError(f"{path}: not a regime folder (no ruleset.yaml)",
                             "pass a folder such as rules/poverty/vn_2022_2026, or an overlay file (.yaml)",
                             vi=f"{path}: không phải thư mục bộ tiêu chí (không có ruleset.yaml)",
                             vi_hint="cho một thư mục như rules/poverty/vn_2022_2026, hoặc một tệp điều chỉnh (.yaml)",
                             code='rules_not_regime_folder')
        return load_regime(path.resolve())
    return load_overlay(overlay_path(rules))


def rules_of(result: Any) -> RulesAt | None:
    """The rules a result (a :class:`tieuchi.api.Result`) was classified with; for a result built without them, the
    shipped rules at its reference date (None when it has no date or no regime covers it)."""
    rules = getattr(result, "rules", None)
    if rules is None and isinstance(getattr(result, "reference_date", None), dt.date):
        try:
            rules = load_rules(result.reference_date)
        except TieuchiError:
            return None
    return rules
