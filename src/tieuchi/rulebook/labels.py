"""The labels of the loaded rules that a labelled output shows (results.xlsx, eligible.xlsx, ``--labels`` CSV): one
:class:`tieuchi.contract.results.RuleLabels` per language, read from the rules — class, indicator, item, priority
group and status labels are the LAW's and live only in rules/."""
from __future__ import annotations

from typing import Any

from tieuchi.contract.results import RuleLabels


def rule_labels(rules: Any, lang: str = "vi") -> RuleLabels:
    """What ``rules`` (a :class:`tieuchi.rulebook.regime.RulesAt`, or None) name, in ``lang``."""
    if rules is None:
        return RuleLabels(lang=lang)
    regime = rules.regime
    columns: dict[str, tuple[str, str]] = {}
    for d in regime.derived.values():
        if d.output:
            columns[d.output] = (getattr(d.label, lang), getattr(d.label, lang))
    eligibility = rules.eligibility
    if eligibility is not None:
        for sid in eligibility.statuses:
            d = regime.derived.get(sid)
            if d is not None:
                columns[sid] = (getattr(d.label, lang), getattr(d.label, lang))
        for share in eligibility.shares:
            columns[share.output] = (getattr(share.label, lang), getattr(share.label, lang))
    program = regime.program
    items = {i.id: getattr(i.label, lang) for i in program.items.values()} if program is not None else {}
    groups = program.priority_labels(lang) if program is not None else {}
    return RuleLabels(
        lang=lang, classes=regime.class_labels(lang), indicators={i.id: getattr(i.label, lang) for i in
                                                                 rules.indicators},
        items=items, groups=groups, columns=columns, regime=regime.id, regime_label=getattr(regime.ruleset.label, lang),
        rules_version=rules.version, reference_date=rules.day)
