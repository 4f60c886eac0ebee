"""Results → sentences, in Vietnamese (default) or English, with citations in the order the law is cited.

Backends keep reasons as compact integer keys; text is rendered here once per distinct key, so a million households
with a few hundred distinct situations cost a few hundred renderings.
"""
from __future__ import annotations

import numpy as np

from tieuchi.contract.columns import columns
from tieuchi.rulebook import vocabulary as m
from tieuchi.rulebook.checks import placeholders
from tieuchi.rulebook.tree import reasoned_branches

AREA_LABELS = {"rural": {"vi": "nông thôn", "en": "rural"}, "urban": {"vi": "thành thị", "en": "urban"}}
BASIS_INCOME, BASIS_SCORE, BASIS_NONE = 0, 1, 2


def money(value: float | int, lang: str) -> str:
    s = f"{int(round(value)):,}"
    return s.replace(",", ".") + " đồng" if lang == "vi" else s + " VND"


def citation_text(c: m.Citation, instruments: dict[str, m.Instrument], lang: str = "vi") -> str:
    """'điểm a khoản 2 Điều 3 Nghị định 07/2021/NĐ-CP' / 'Decree 07/2021/NĐ-CP, Article 3(2)(a)'. An item of an
    appendix (`appendix`, `item`) follows the article it details, joined by 'và' / 'and': 'điểm b khoản 1 Điều 3 và
    mục 8 Phụ lục Nghị định 07/2021/NĐ-CP' / 'Decree 07/2021/NĐ-CP, Article 3(1)(b) and Appendix item 8'."""
    inst = instruments[c.instrument]
    if inst.number is None:  # an unnumbered document (a district plan): its kind, issuer and "unnumbered"
        issuer = getattr(inst.issuer, lang) if getattr(inst, "issuer", None) else ""
        name = f"{inst.kind.vi} không số của {issuer}" if lang == "vi" else f"unnumbered {inst.kind.en.lower()} of " \
            f"the {issuer}"
    else:
        name = f"{inst.kind.vi} {inst.number}" if lang == "vi" else f"{inst.kind.en} {inst.number}"
    if lang == "vi":
        article = []
        if c.point:
            article.append(f"điểm {c.point}")
        if c.clause is not None:
            article.append(f"khoản {c.clause}")
        if c.article is not None:
            article.append(f"Điều {c.article}")
        annex = ([f"mục {c.item}"] if c.item else []) + ([str(c.appendix)] if c.appendix else [])
        parts = [" ".join(article)] if article else []
        if annex:
            parts.append(" ".join(annex))
        text = " và ".join(parts) + (" " if parts else "") + name
    else:
        where = ""
        if c.article is not None:
            where = f", Article {c.article}" + (f"({c.clause})" if c.clause is not None else "") + \
                    (f"({c.point})" if c.point else "")
        if c.appendix:
            where += (" and " if where else ", ") + "Appendix" + (f" item {c.item}" if c.item else "")
        text = name + where
    return text


def inputs_named(names: list[str], lang: str) -> str:
    """Survey columns named for the reader: in Vietnamese by the header of columns.yaml with the column's name
    ("Có nhà ở (has_dwelling)"), in English by the name; a name that is no survey column as it is."""
    if lang != "vi":
        return ", ".join(names)
    out = []
    for n in names:
        spec = columns("households").get(n) or columns("members").get(n)
        out.append(f"{spec.header} ({n})" if spec is not None else n)
    return ", ".join(out)


_LABELS: dict[tuple[int, str], dict[str, str]] = {}
_CITES: dict[tuple[int, str, str], str] = {}


def indicator_list(ids: list[str], indicators: dict[str, m.Indicator], lang: str) -> str:
    labels = _LABELS.get((id(indicators), lang))
    if labels is None:
        labels = {k: getattr(i.label, lang).lower() if lang == "vi" else getattr(i.label, lang)
                  for k, i in indicators.items()}
        _LABELS[(id(indicators), lang)] = labels
    return ", ".join(labels[i] for i in ids)


def _class_citation(regime, class_id: str, lang: str) -> str:
    key = (id(regime), class_id, lang)
    if key not in _CITES:
        rule = next(c for c in regime.classification.classes if c.id == class_id)
        _CITES[key] = citation_text(rule.citation, regime.instruments, lang)
    return _CITES[key]


def household_reason(*, regime, class_id: str, area: str | None, line: float | None, basis: int,
                     deprived: list[str], unknown: list[str], undecided: list[str], params: dict, lang: str) -> str:
    """One household's reasons as a short paragraph."""
    cl = regime.classification
    vi = lang == "vi"
    inds = regime.indicators
    area_label = AREA_LABELS.get(area, {}).get(lang, area or ("khu vực chưa rõ" if vi else "area unknown"))
    cutoff_id = cl.income.score_cutoff
    if basis == BASIS_SCORE and cutoff_id not in params:  # a regime with no score A cut-off (2027–2030)
        income = ("chỉ có điểm A, nhưng chuẩn này chưa có ngưỡng điểm A: cần thu nhập bình quân" if vi
                  else "only a score A, and this standard has no score A cut-off: income is needed")
    elif basis == BASIS_SCORE:
        cutoff = params[cutoff_id].get(area) if isinstance(params[cutoff_id], dict) else None
        income = (f"điểm A thay cho thu nhập (ngưỡng {cutoff} điểm, {area_label})" if vi
                  else f"score A in place of income (cut-off {cutoff} points, {area_label})")
    elif basis == BASIS_NONE:
        income = "chưa có thu nhập và điểm A" if vi else "no income and no score A given"
    else:
        if line is None or line != line:
            income = area_label
        elif vi:
            income = f"chuẩn nghèo {money(line, lang)}/người/tháng, {area_label}"
        else:
            income = f"line {money(line, lang)} per person per month, {area_label}"
    dep = (f"thiếu hụt {len(deprived)} chỉ số" if vi else f"{len(deprived)} deprivation(s)") + \
          (": " + indicator_list(deprived, inds, lang) if deprived else "")
    unk = ""
    if unknown:
        unk = (f"; chưa rõ {len(unknown)} chỉ số: " if vi else f"; {len(unknown)} indicator(s) unknown: ") + \
              indicator_list(unknown, inds, lang)
    if class_id == "unknown":
        head = getattr(cl.unknown, lang)
        need = ""
        if undecided:
            need = ("; cần bổ sung: " if vi else "; would be decided by: ") + inputs_named(undecided, lang)
        return f"{head} ({income}): {dep}{unk}{need}."
    rule = next(c for c in cl.classes if c.id == class_id)
    cite = _class_citation(regime, class_id, lang)
    return f"{getattr(rule.label, lang)} — {getattr(rule.reason, lang)} ({income}); {dep}{unk} [{cite}]."


# ----------------------------------------------------------------------------------------------------------------
# The branches of an `any` that hold, with their own reasons (lists, explanations)


def filled(text: str, params: dict) -> str:
    """A reason text with its "{parameter id}" placeholders replaced by the parameters' values at the date (a whole
    number without a decimal point)."""
    def shown(v):
        return f"{v:g}" if isinstance(v, float) else str(v)
    return text.format(**{p: shown(params[p]) if p in params else "?" for p in placeholders(text)})


def branch_reasons(ev, cond, level: str, params: dict, lang: str) -> list[tuple[str, np.ndarray]]:
    """(reason text in `lang`, where the branch holds: a bool mask over the evaluator's rows at `level`) of every
    branch of `cond` that gives a reason of its own (`tieuchi.rulebook.tree.reasoned_branches`), in the rule's order.
    `ev`: an evaluator over the rows to explain (the vectorized one, over a result's rows: the same compiled
    conditions every engine agrees on), so every engine's result is explained the same way."""
    out = []
    for branch in reasoned_branches(cond):
        t, _ = ev.eval(branch, level)
        out.append((filled(getattr(branch.reason, lang), params), np.broadcast_to(t, (ev.n(level),))))
    return out
