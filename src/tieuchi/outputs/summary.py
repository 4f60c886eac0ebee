"""The short summary printed after a classification: households per class and the poverty rates.

The rates and their denominators follow the one rule of :mod:`tieuchi.outputs.rates` (the report and the diff use
it too), on the computed class (``household_class``): per commune its ``households_total`` from the communes table,
else its surveyed households; the survey's denominator is their sum, its source ``communes``, ``surveyed`` or
``mixed``, and the summary says which. Unknown households stay in the denominator; unknown and rejected counts are
shown beside every rate.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from tieuchi.contract.columns import columns
from tieuchi.i18n import LANGS
from tieuchi.outputs.rates import ALL, RATES, commune_denominators, rate_table, rejected_households
from tieuchi.rulebook.load import rules_of
from tieuchi.rulebook.regime import UNKNOWN

# The classes (ids, order and labels) are the rules' (classification.yaml), read from the result's rules.
LABELS = {
    "vi": {
        "surveyed": "Hộ được phân loại",
        "rejected": "Hộ bị loại (dữ liệu lỗi)",
        "poor_rate": "Tỷ lệ hộ nghèo",
        "near_poor_rate": "Tỷ lệ hộ cận nghèo",
        "poor_or_near_poor_rate": "Tỷ lệ nghèo đa chiều (nghèo + cận nghèo)",
        "denominator": "Mẫu số",
        "title": "Kết quả phân loại hộ",
        "rates_title": "Tỷ lệ",
        "class": "Phân loại",
        "households": "Số hộ",
        "share": "Tỷ trọng",
        "rate": "Tỷ lệ",
        "beside": "Chưa xác định / bị loại",
        "regime": "Bộ tiêu chí",
        "overlay": "Bộ điều chỉnh của địa phương",
        "date": "Ngày tham chiếu",
        "src_communes": "tổng số hộ cư trú của {n} xã (bảng xã, cột {col})",
        "src_surveyed": "số hộ được điều tra và phân loại — không có tổng số hộ của xã, nên tỷ lệ này có thể "
                        "cao hơn tỷ lệ trên toàn bộ hộ cư trú",
        "src_mixed": "tổng số hộ cư trú của {n} xã; {m} xã không có tổng số hộ nên dùng số hộ được điều tra ({codes})",
        "n_a": "không tính được (mẫu số bằng 0)",
        "over": "Cảnh báo: xã {codes} có số hộ được điều tra lớn hơn tổng số hộ trong bảng xã.",
    },
    "en": {
        "surveyed": "Households classified",
        "rejected": "Households rejected (bad data)",
        "poor_rate": "Poor-household rate",
        "near_poor_rate": "Near-poor household rate",
        "poor_or_near_poor_rate": "Multidimensional poverty rate (poor + near-poor)",
        "denominator": "Denominator",
        "title": "Household classification",
        "rates_title": "Rates",
        "class": "Class",
        "households": "Households",
        "share": "Share",
        "rate": "Rate",
        "beside": "Unknown / rejected",
        "regime": "Regime",
        "overlay": "Local overlay",
        "date": "Reference date",
        "src_communes": "all resident households of {n} commune(s) (communes table, column {col})",
        "src_surveyed": "surveyed and classified households — no commune totals were given, so the rates "
                        "may overstate the rates over all resident households",
        "src_mixed": "all resident households of {n} commune(s); {m} commune(s) without a total use their surveyed "
                     "households ({codes})",
        "n_a": "not computable (denominator is 0)",
        "over": "Warning: commune(s) {codes} have more surveyed households than their households_total.",
    },
}


@dataclass
class Rate:
    id: str
    numerator: int
    denominator: int
    value: float | None  # a fraction 0–1; None when the denominator is 0


@dataclass
class Summary:
    counts: dict[str, int]  # households per class, over accepted households
    n_households_in: int
    n_surveyed: int  # accepted (classified) households
    n_rejected: int  # rejected households
    n_unknown: int
    denominator: int
    denominator_source: str  # "communes" | "surveyed" | "mixed"
    communes_with_total: list[str] = field(default_factory=list)
    communes_surveyed_denominator: list[str] = field(default_factory=list)  # communes that fell back
    communes_over_total: list[str] = field(default_factory=list)  # surveyed > households_total
    rates: dict[str, Rate] = field(default_factory=dict)
    regime: str | None = None
    reference_date: dt.date | None = None
    by_commune: pd.DataFrame | None = None
    class_labels: dict[str, dict[str, str]] = field(default_factory=dict)  # lang -> class id -> label (the rules')
    overlay: str | None = None  # the id of the overlay the rules were changed by, if any
    overlay_labels: dict[str, str] = field(default_factory=dict)  # lang -> its label

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("by_commune")
        d.pop("class_labels")
        d.pop("overlay_labels")
        if self.reference_date is not None:
            d["reference_date"] = self.reference_date.isoformat()
        return d


def summarize(result: Any) -> Summary:
    hh = result.households
    cls = hh["household_class"].astype("string") if len(hh) else pd.Series([], dtype="string")
    vc = cls.value_counts(dropna=False)
    classes, labels = _classes(result, vc.index)
    counts = {c: int(vc.get(c, 0)) for c in classes}
    counts[UNKNOWN] += int(cls.isna().sum())  # a missing class is unknown, never dropped
    n_surveyed = len(hh)
    n_in = getattr(result, "n_households_in", None)
    n_rejected = rejected_households(result)[ALL]
    if n_in is None:
        n_in = n_surveyed + n_rejected

    codes = hh["commune_code"] if "commune_code" in hh.columns else pd.Series(pd.NA, index=hh.index, dtype="string")
    communes = getattr(result, "communes", None)
    by = commune_denominators(codes, communes)
    table = rate_table(cls, codes, communes, by)  # the one rate rule (outputs/rates.py), on the computed class
    area = table[table["scope"] == ALL].set_index("rate_id")
    denominator = int(area["denominator"].iloc[0]) if len(area) else 0
    has = by["households_total"].notna().to_numpy()
    with_total = [str(c) for c in by.index[has]]
    fell_back = [str(c) for c in by.index[~has]]
    over = [str(c) for c in by.index[has & (by["surveyed"] > by["households_total"].fillna(0)).to_numpy()]]
    source = str(area["denominator_source"].iloc[0]) if len(area) else "surveyed"
    by_commune = _by_commune(table, by)
    rates = {f"{rid}_rate": _rate(f"{rid}_rate", int(area.loc[rid, "numerator"]) if len(area) else 0, denominator)
             for rid in RATES}
    return Summary(counts=counts, n_households_in=int(n_in), n_surveyed=n_surveyed, n_rejected=n_rejected,
                   n_unknown=counts["unknown"], denominator=denominator, denominator_source=source,
                   communes_with_total=with_total, communes_surveyed_denominator=fell_back, communes_over_total=over,
                   rates=rates, regime=getattr(result, "regime", None),
                   reference_date=getattr(result, "reference_date", None), by_commune=by_commune,
                   class_labels=labels, **_overlay(result))


def _overlay(result: Any) -> dict[str, Any]:
    """The overlay (a local standard) the result's rules were changed by: its id and labels; empty when none."""
    overlay = getattr(getattr(rules_of(result), "regime", None), "overlay", None)
    if overlay is None:
        return {}
    return {"overlay": overlay.id, "overlay_labels": {lang: getattr(overlay.label, lang) for lang in LANGS}}


def _classes(result: Any, seen) -> tuple[list[str], dict[str, dict[str, str]]]:
    """The class ids of the result's rules, in their order with unknown last, and their labels per language; a
    result without rules: the classes it holds, labelled by their ids."""
    regime = getattr(rules_of(result), "regime", None)
    if regime is not None:
        return regime.class_ids, {lang: regime.class_labels(lang) for lang in LANGS}
    ids = sorted({str(c) for c in seen if isinstance(c, str)} - {UNKNOWN}) + [UNKNOWN]
    return ids, {lang: {c: c for c in ids} for lang in LANGS}


def _rate(id_: str, num: int, den: int) -> Rate:
    return Rate(id_, int(num), int(den), (num / den) if den else None)


def _by_commune(table: pd.DataFrame, by: pd.DataFrame) -> pd.DataFrame:
    """Per commune: the columns of `by` (surveyed, households_total, denominator, denominator_source), then poor,
    near_poor, unknown and the three rates (fractions), as the rate table gives them."""
    per = table[table["scope"] != ALL]
    out = by.reset_index()
    codes = out["commune_code"].astype("string")
    num = per.pivot(index="scope", columns="rate_id", values="numerator").reindex(columns=list(RATES))
    value = per.pivot(index="scope", columns="rate_id", values="value").reindex(columns=list(RATES))
    for rid in ("poor", "near_poor"):
        out[rid] = codes.map(num[rid]).fillna(0).astype("int64")
    out["unknown"] = codes.map(per.drop_duplicates("scope").set_index("scope")["unknown"]).fillna(0).astype("int64")
    for rid in RATES:
        out[f"{rid}_rate"] = codes.map(value[rid]).astype("Float64")
    return out


# --------------------------------------------------------------------------------------------------------------
# rendering


def _pct(v: float | None, lang: str) -> str:
    if v is None:
        return "—"
    s = f"{v * 100:.2f}%"
    return s.replace(".", ",") if lang == "vi" else s


def _int(n: int, lang: str) -> str:
    s = f"{n:,}"
    return s.replace(",", ".") if lang == "vi" else s


def denominator_text(s: Summary, lang: str = "vi") -> str:
    L = LABELS.get(lang, LABELS["en"])
    if s.denominator_source == "communes":
        # the column as the template names it (Vietnamese), its id in English
        col = columns("communes")["households_total"].header if lang == "vi" else "households_total"
        return L["src_communes"].format(n=len(s.communes_with_total), col=col)
    if s.denominator_source == "mixed":
        surveyed = s.communes_surveyed_denominator
        codes = ", ".join(surveyed[:10]) + ("…" if len(surveyed) > 10 else "")
        return L["src_mixed"].format(n=len(s.communes_with_total), m=len(s.communes_surveyed_denominator), codes=codes)
    return L["src_surveyed"]


def render(s: Summary, lang: str = "vi"):
    """A rich renderable: the class table, the rates table (each with unknown / rejected beside it) and notes."""
    L = LABELS.get(lang, LABELS["en"])
    head = Text(L["title"], style="bold")
    if s.regime or s.reference_date:
        when = s.reference_date.isoformat() if s.reference_date else "?"
        head.append(f"\n{L['regime']}: {s.regime or '?'} · {L['date']}: {when}", style="not bold")
    if s.overlay:
        label = s.overlay_labels.get(lang) or s.overlay_labels.get("vi") or ""
        head.append(f"\n{L['overlay']}: {s.overlay}" + (f" — {label}" if label else ""), style="not bold")
    classes = Table()
    classes.add_column(L["class"])
    classes.add_column(L["households"], justify="right")
    classes.add_column(L["share"], justify="right")
    names = s.class_labels.get(lang) or s.class_labels.get("vi") or {}
    for c in s.counts:
        share = s.counts[c] / s.n_surveyed if s.n_surveyed else None
        classes.add_row(names.get(c, c), _int(s.counts[c], lang), _pct(share, lang))
    classes.add_section()
    classes.add_row(L["surveyed"], _int(s.n_surveyed, lang), "")
    classes.add_row(L["rejected"], _int(s.n_rejected, lang), "")

    rates = Table(title=L["rates_title"], title_justify="left")
    rates.add_column("")
    rates.add_column(L["rate"], justify="right")
    rates.add_column(L["households"], justify="right")
    rates.add_column(L["denominator"], justify="right")
    rates.add_column(L["beside"], justify="right")
    beside = f"{_int(s.n_unknown, lang)} / {_int(s.n_rejected, lang)}"
    for r in s.rates.values():
        rates.add_row(L[r.id], _pct(r.value, lang), _int(r.numerator, lang), _int(r.denominator, lang), beside)

    notes = [Text(f"{L['denominator']}: {denominator_text(s, lang)}.")]
    if s.denominator == 0:
        notes.append(Text(f"{L['rate']}: {L['n_a']}."))
    if s.communes_over_total:
        codes = ", ".join(s.communes_over_total[:10]) + ("…" if len(s.communes_over_total) > 10 else "")
        notes.append(Text(L["over"].format(codes=codes), style="yellow"))
    return Group(head, classes, rates, *notes)


def render_text(s: Summary, lang: str = "vi", width: int = 100) -> str:
    """The same as :func:`render`, as plain text."""
    console = Console(width=width, record=True, file=_Null(), color_system=None)
    console.print(render(s, lang))
    return console.export_text()


class _Null:
    def write(self, _s: str) -> int:
        return 0

    def flush(self) -> None:
        pass
