"""Render a plan achievement report as one self-contained ``report.html`` and a ``report.xlsx``.

Another module computes the tables; this one only renders them, so that what a commune officer reads and what the
statistics say cannot drift apart through a second copy of any rule. Input is a :class:`Report`: pandas frames with
fixed columns plus the plan's metadata and labels.

Why it looks the way it does:

- **Self-contained HTML.** A report is mailed, copied to a USB stick and opened offline in a commune office, so the
  file references nothing outside itself: no script, stylesheet, font or image link. The CSS sits in one ``<style>``
  block and has print rules (A4, table headers repeated, rows kept whole), because these reports get printed.
- **Hand-written SVG charts.** The three bar charts (targets against values, poverty rates per commune, indicator
  contributions to M0) are inline SVG written here. Three bar charts do not justify a 40 MB dependency such as
  matplotlib, and inline SVG prints sharply and needs no JavaScript.
- **Vietnamese first.** ``lang="vi"`` by default, every label in Vietnamese and English, and numbers written the
  Vietnamese way in ``vi`` (``1.234,5``: thousands dot, decimal comma) and the English way in ``en`` (``1,234.5``).
  A missing value (NaN, ``pd.NA``, None) is shown as "—", never as 0 or "nan". All text goes through
  :func:`html.escape`: labels come from rule files and surveys, not from us.
- **xlsx keeps numbers as numbers**, so that officers can sum and filter. Each table sheet has two header rows:
  row 1 the translated headers (bold), row 2 the machine column ids (grey italic), both frozen; data start on row 3.
  ``pd.read_excel(path, sheet_name="rates", header=1)`` reads a sheet back with the machine ids as columns. Cells hold
  the machine values (``met``, ``poor``, commune codes); label columns (``target_label``, ``status_label``,
  ``scope_name``, ...) are added beside them in the report's language. Percent columns keep the frame's unit: 0–100
  for values in percent, fractions 0–1 for H, A and the headcounts (shown with an Excel percent format).
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd

from tieuchi.contract.workbook import write_sheet
from tieuchi.i18n import LANGS
from tieuchi.outputs.mpi import CONTRIBUTION_COLUMNS, MPI_COLUMNS

DASH = "—"

# the columns of each table of the report, in order: the one list report.py builds them with and every renderer shows
COLUMNS: dict[str, list[str]] = {
    "achievement": ["target_id", "scope", "value", "target", "comparator", "met", "gap", "gap_units", "unit",
                    "numerator", "denominator", "unknown", "status"],
    "rates": ["scope", "rate_id", "value", "numerator", "denominator", "denominator_source", "unknown", "rejected"],
    "movements": ["scope", "movement", "households"],
    "mpi": MPI_COLUMNS,
    "contributions": CONTRIBUTION_COLUMNS,
    "budget": ["scope", "budget_line", "item", "amount_million_vnd", "eligible_units", "unit", "per_unit_vnd"],
}


def _empty(table: str) -> Callable[[], pd.DataFrame]:
    return lambda: pd.DataFrame(columns=COLUMNS[table])


@dataclass
class Report:
    """Everything a plan achievement report shows. Tables default to empty (a survey without a previous round has
    no movements; a plan without budget lines has no budget). Percent columns are in percent 0–100 except ``mpi``'s
    H, A, M0 and ``contributions``' headcounts, which are fractions 0–1. A note is a string, or ``{"vi", "en"}`` when
    it can be said in both languages. Extra columns in a frame are ignored."""

    plan_id: str
    plan_label: dict[str, str]
    regime: str
    rules_version: str
    reference_date: date
    survey: str
    achievement: pd.DataFrame = field(default_factory=_empty("achievement"))
    rates: pd.DataFrame = field(default_factory=_empty("rates"))
    movements: pd.DataFrame = field(default_factory=_empty("movements"))
    mpi: pd.DataFrame = field(default_factory=_empty("mpi"))
    contributions: pd.DataFrame = field(default_factory=_empty("contributions"))
    budget: pd.DataFrame = field(default_factory=_empty("budget"))
    target_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    target_sections: dict[str, str] = field(default_factory=dict)
    communes: dict[str, str] = field(default_factory=dict)
    indicator_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    notes: list[str | dict[str, str]] = field(default_factory=list)
    budget_labels: dict[str, dict[str, str]] = field(default_factory=dict)  # budget line id -> its plan label
    budget_sections: dict[str, str] = field(default_factory=dict)  # budget line id -> the plan's section ("III.1")
    item_labels: dict[str, dict[str, str]] = field(default_factory=dict)  # eligibility item id -> its rule label
    regime_label: dict[str, str] = field(default_factory=dict)
    selected: list[str] = field(default_factory=list)  # --commune: the communes this report is for (empty: all)
    k: float | None = None  # the Alkire–Foster cutoff (else read from the mpi table)
    unit: str = "households"  # the unit of the Alkire–Foster measures

    def __post_init__(self) -> None:
        """Check every frame at once so that the engineer building a Report sees all missing columns together."""
        problems = []
        for table, columns in COLUMNS.items():
            frame = getattr(self, table)
            if frame is None:
                setattr(self, table, pd.DataFrame(columns=columns))
                continue
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                problems.append(f"table '{table}' lacks column(s) {', '.join(missing)}")
        if problems:
            raise ValueError("Report: " + "; ".join(problems) + ". Give each frame exactly the columns in "
                             "tieuchi.outputs.report_render.COLUMNS (an empty frame is fine).")


# --------------------------------------------------------------------------------------------------------------
# words


T: dict[str, tuple[str, str]] = {
    "title": ("Báo cáo kết quả thực hiện chỉ tiêu", "Plan achievement report"),
    "plan": ("Kế hoạch", "Plan"),
    "regime": ("Chuẩn nghèo áp dụng", "Poverty standard"),
    "reference_date": ("Ngày tham chiếu", "Reference date"),
    "rules_version": ("Phiên bản quy tắc", "Rules version"),
    "survey": ("Cuộc rà soát", "Survey"),
    "notes": ("Ghi chú", "Notes"),
    "contents": ("Nội dung", "Contents"),
    "no_data": ("Không có dữ liệu.", "No data."),
    "all": ("Toàn bộ địa bàn khảo sát", "Whole survey"),
    "sec_targets": ("Kết quả thực hiện chỉ tiêu", "Target achievement"),
    "sec_targets_sub": ("Toàn bộ địa bàn khảo sát", "Whole survey"),
    "sec_chart_targets": ("Thực hiện so với kế hoạch", "Values against targets"),
    "sec_communes": ("Kết quả thực hiện chỉ tiêu theo xã", "Target values by commune"),
    "sec_rates": ("Tỷ lệ hộ nghèo, hộ cận nghèo theo xã", "Poverty and near-poverty rates by commune"),
    "sec_movements": ("Biến động hộ nghèo, hộ cận nghèo", "Movements between classes"),
    "sec_mpi": ("Chỉ số nghèo đa chiều (Alkire–Foster)", "Multidimensional poverty (Alkire–Foster)"),
    "sec_contrib": ("Mức đóng góp của từng chỉ số vào M0 (toàn bộ địa bàn)",
                    "Contribution of each indicator to M0 (whole survey)"),
    "sec_budget": ("Kinh phí thực hiện", "Budget"),
    "chart_targets_note": ("Mỗi chỉ tiêu có thang đo riêng (số ở cuối thanh); vạch đen là mức kế hoạch.",
                           "Each target has its own scale (number at the end of the track); the black mark is the "
                           "target."),
    "chart_rates": ("Tỷ lệ hộ nghèo và hộ cận nghèo theo xã (%)", "Poverty and near-poverty rates by commune (%)"),
    "chart_contrib": ("Đóng góp vào M0 (%)", "Contribution to M0 (%)"),
    "legend_value": ("Thực hiện", "Value"),
    "legend_target": ("Kế hoạch", "Target"),
    "commune": ("Xã", "Commune"),
    "section": ("Mục", "Section"),
    "target_name": ("Chỉ tiêu", "Target"),
    "rate": ("Chỉ tiêu", "Rate"),
    "numerator_of": ("Tử số / mẫu số", "Numerator / denominator"),
    "symbols": ("✓ đạt · ✗ chưa đạt · ? không đo được", "✓ met · ✗ not met · ? not measurable"),
    "footer": ("Báo cáo do tieuchi tạo từ kết quả phân loại; số liệu không qua chỉnh sửa thủ công.",
               "Report made by tieuchi from the classification results; no figure was edited by hand."),
    "item": ("Mục", "Item"),
    "key": ("Mã", "Key"),
    "value_col": ("Giá trị", "Value"),
    "language": ("Ngôn ngữ", "Language"),
    "plan_label": ("Tên kế hoạch", "Plan name"),
    "note_n": ("Ghi chú {n}", "Note {n}"),
    "selected": ("Báo cáo cho xã", "Report for"),
    "plan_target": ("Kế hoạch", "Target"),
    "whole_target": ("kế hoạch đặt cho toàn địa bàn; các xã chỉ so sánh, không đánh giá đạt hay chưa đạt",
                     "the target is set for the whole area; communes are compared with it, not judged"),
    "per_target_index": ("Mỗi chỉ tiêu một bảng, mỗi xã một dòng (sắp xếp, lọc trong report.xlsx, trang "
                         "achievement):", "One table per target, one row per commune (sort and filter them in "
                         "report.xlsx, sheet achievement):"),
    "not_measured_here": ("Không đo được (xem Ghi chú): {labels}.", "Not measurable (see Notes): {labels}."),
    "short_of": ("Tô màu: xã còn thiếu so với kế hoạch.", "Shaded: communes short of the target."),
    "still_needed": ("Còn thiếu", "Still needed"),
    "counted": ("Tử số", "Numerator"),
    "population_of": ("Mẫu số", "Denominator"),
    "poor_n": ("Số hộ nghèo", "Poor households"),
    "near_poor_n": ("Số hộ cận nghèo", "Near-poor households"),
    "chart_rates_top": ("{n} xã có tỷ lệ hộ nghèo cao nhất (%)", "The {n} communes with the highest poverty rate (%)"),
    "mpi_cutoff": ("Một {unit} nghèo đa chiều khi tổng trọng số các chỉ số thiếu hụt đạt k = {k}. H, A và M0 tính "
                   "bằng phần trăm (M0 = H × A).",
                   "A {unit} is multidimensionally poor when its weighted deprivations reach k = {k}. H, A and M0 "
                   "in percent (M0 = H × A)."),
    "unit_col": ("Đơn vị", "Unit"),
}

STATUS = {
    "met": ("Đạt", "Met"),
    "not_met": ("Chưa đạt", "Not met"),
    "not_measurable": ("Không đo được", "Not measurable"),
    "no_numeric_target": ("Không có chỉ tiêu bằng số", "No numeric target"),
    "not_judged": ("Chưa đánh giá", "Not judged"),
}
STATUS_SYMBOL = {"met": "✓", "not_met": "✗", "not_measurable": "?"}
RATES = {
    "poor": ("Tỷ lệ hộ nghèo", "Poverty rate"),
    "near_poor": ("Tỷ lệ hộ cận nghèo", "Near-poverty rate"),
    "poor_or_near_poor": ("Tỷ lệ nghèo đa chiều (hộ nghèo và cận nghèo)",
                          "Multidimensional poverty rate (poor and near-poor households)"),
}
MOVEMENTS = {
    "escaped_poverty": ("Thoát nghèo", "Escaped poverty"),
    "escaped_near_poverty": ("Thoát cận nghèo", "Escaped near-poverty"),
    "newly_poor": ("Nghèo phát sinh", "Newly poor"),
    "newly_near_poor": ("Cận nghèo phát sinh", "Newly near-poor"),
    "fell_back_into_poverty": ("Tái nghèo", "Fell back into poverty"),
    "stayed_poor": ("Vẫn là hộ nghèo", "Stayed poor"),
    "stayed_near_poor": ("Vẫn là hộ cận nghèo", "Stayed near-poor"),
    "stayed_above_near_poverty": ("Vẫn trên chuẩn cận nghèo", "Stayed above near-poverty"),
    "no_previous_class": ("Không có phân loại kỳ trước", "No previous class"),
    "unknown": ("Chưa xác định", "Unknown"),
}
DENOMINATOR_SOURCE = {
    "communes": ("Tổng số hộ theo danh sách xã", "Households per the communes table"),
    "surveyed": ("Số hộ được rà soát", "Surveyed households"),
}
UNITS = {"households": ("hộ", "households"), "persons": ("người", "persons"), "models": ("mô hình", "models"),
         "officials": ("cán bộ", "officials")}
UNIT_ONE = {"households": "household", "persons": "person", "models": "model", "officials": "official"}  # en, 1
COMPARATOR = {"ge": "≥", "le": "≤"}

# one header per column id, in both languages (xlsx row 1, and the HTML tables where they fit)
HEADERS: dict[str, tuple[str, str]] = {
    "target_id": ("Mã chỉ tiêu", "Target id"),
    "section": ("Mục", "Section"),
    "target_label": ("Chỉ tiêu", "Target"),
    "scope": ("Mã phạm vi", "Scope"),
    "scope_name": ("Địa bàn", "Area"),
    "value": ("Thực hiện (%)", "Value (%)"),
    "target": ("Kế hoạch (%)", "Target (%)"),
    "comparator": ("Điều kiện", "Comparator"),
    "met": ("Đạt", "Met"),
    "gap": ("Chênh lệch (điểm %)", "Gap (points)"),
    "gap_units": ("Chênh lệch (số đơn vị)", "Gap (units)"),
    "unit": ("Đơn vị", "Unit"),
    "numerator": ("Tử số", "Numerator"),
    "denominator": ("Mẫu số", "Denominator"),
    "unknown": ("Chưa xác định", "Unknown"),
    "status": ("Mã đánh giá", "Status id"),
    "status_label": ("Đánh giá", "Status"),
    "rate_id": ("Mã tỷ lệ", "Rate id"),
    "rate_label": ("Tỷ lệ", "Rate"),
    "rate_value": ("Tỷ lệ (%)", "Rate (%)"),
    "denominator_source": ("Nguồn mẫu số", "Denominator source"),
    "rejected": ("Bị loại do lỗi dữ liệu", "Rejected (data problems)"),
    "movement": ("Mã biến động", "Movement id"),
    "movement_label": ("Biến động", "Movement"),
    "households": ("Số hộ", "Households"),
    "population": ("Dân số", "Population"),
    "excluded": ("Loại trừ (thiếu dữ liệu)", "Excluded (missing data)"),
    "H": ("H — tỷ lệ nghèo đa chiều", "H — headcount ratio"),
    "A": ("A — mức độ thiếu hụt bình quân", "A — intensity"),
    "M0": ("M0 — chỉ số nghèo đa chiều", "M0 — adjusted headcount ratio"),
    "k": ("k — ngưỡng thiếu hụt", "k — poverty cutoff"),
    "indicator": ("Mã chỉ số", "Indicator id"),
    "indicator_label": ("Chỉ số thiếu hụt", "Indicator"),
    "uncensored_headcount": ("Tỷ lệ thiếu hụt (mọi hộ)", "Uncensored headcount"),
    "censored_headcount": ("Tỷ lệ thiếu hụt (hộ nghèo đa chiều)", "Censored headcount"),
    "contribution": ("Đóng góp vào M0 (%)", "Contribution to M0 (%)"),
    "budget_line": ("Dòng kinh phí", "Budget line"),
    "item": ("Nội dung hỗ trợ", "Item"),
    "amount_million_vnd": ("Kinh phí (triệu đồng)", "Amount (million VND)"),
    "eligible_units": ("Số đối tượng đủ điều kiện", "Eligible units"),
    "per_unit_vnd": ("Bình quân mỗi đối tượng (đồng)", "Per unit (VND)"),
    "unit_label": ("Đơn vị", "Unit"),
    "denominator_source_label": ("Nguồn mẫu số", "Denominator source"),
    "budget_line_label": ("Dòng kinh phí", "Budget line"),
    "item_label": ("Nội dung hỗ trợ", "Item"),
}


def _lang(lang: str) -> int:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, got {lang!r}")
    return LANGS.index(lang)


def _t(key: str, lang: str, table: dict[str, tuple[str, str]] = T) -> str:
    pair = table.get(key)
    return pair[_lang(lang)] if pair else str(key)


def _pick(labels: dict[str, str] | str | None, lang: str, fallback: str = "") -> str:
    """A label in ``lang``, else in the other language, else the id: a missing translation must not hide a row."""
    if isinstance(labels, str):
        return labels
    labels = labels or {}
    return labels.get(lang) or labels.get("vi") or labels.get("en") or fallback


def is_missing(x: Any) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def fmt_number(x: Any, lang: str = "vi", decimals: int = 0) -> str:
    """``1234.5`` → ``1.234,5`` (vi) or ``1,234.5`` (en); missing or infinite → "—"; no "-0"."""
    _lang(lang)
    if is_missing(x) or isinstance(x, bool):
        return DASH
    v = float(x)
    if not math.isfinite(v):
        return DASH
    s = f"{v:,.{decimals}f}"
    if s.startswith("-") and not s.strip("-0.,"):
        s = s[1:]
    return s.translate(str.maketrans(",.", ".,")) if lang == "vi" else s


def fmt_pct(x: Any, lang: str = "vi", decimals: int = 2) -> str:
    s = fmt_number(x, lang, decimals)
    return s if s == DASH else s + "%"


def fmt_general(x: Any, lang: str = "vi", max_decimals: int = 3) -> str:
    """A number with only the decimals it needs (k may be 3 deprivations or a share such as 0.333)."""
    s = fmt_number(x, lang, max_decimals)
    if s == DASH or max_decimals == 0:
        return s
    point = "," if lang == "vi" else "."
    return s.rstrip("0").rstrip(point)


def fmt_date(d: Any, lang: str) -> str:
    if is_missing(d):
        return DASH
    if isinstance(d, str):
        d = date.fromisoformat(d[:10])
    return d.strftime("%d/%m/%Y") if lang == "vi" else d.strftime("%Y-%m-%d")


def _scope_name(report: Report, scope: Any, lang: str) -> str:
    if scope == "all":
        return _t("all", lang)
    return report.communes.get(str(scope), str(scope))


def _scopes(report: Report, scopes: Iterable[Any]) -> list[Any]:
    """"all" first, then communes in the order the communes table gives them, then any other code."""
    present = list(dict.fromkeys(scopes))
    order = {code: i for i, code in enumerate(report.communes)}
    return sorted(present, key=lambda s: (s != "all", order.get(str(s), len(order)), str(s)))


def _note_text(note: str | dict[str, str], lang: str) -> str:
    return _pick(note, lang, "")


# --------------------------------------------------------------------------------------------------------------
# HTML building blocks

e = html.escape


def _cell(text: str, cls: str = "", title: str = "", tag: str = "td", attrs: str = "") -> str:
    a = (f' class="{e(cls)}"' if cls else "") + (f' title="{e(title)}"' if title else "") + attrs
    return f"<{tag}{a}>{e(text)}</{tag}>"


def _table(headers: list[tuple[str, str]], rows: list[str], lang: str, cls: str = "") -> str:
    """``headers`` as (text, css class); ``rows`` already rendered ``<tr>`` strings."""
    if not rows:
        return f'<p class="empty">{e(_t("no_data", lang))}</p>'
    head = "".join(_cell(text, c, tag="th", attrs=' scope="col"') for text, c in headers)
    body = "\n".join(rows)
    return (f'<div class="table-wrap"><table class="{e(cls)}"><thead><tr>{head}</tr></thead>\n'
            f"<tbody>\n{body}\n</tbody></table></div>")


def _status_cell(status: Any, lang: str) -> str:
    s = "" if is_missing(status) else str(status)
    return _cell(_t(s, lang, STATUS) if s else DASH, f"status status-{s}" if s else "status")


def _target_text(comparator: Any, target: Any, lang: str) -> str:
    t = fmt_number(target, lang, 2)
    if t == DASH or is_missing(comparator):
        return t
    sym = COMPARATOR.get(str(comparator), "")
    return f"{sym} {t}" if sym else t


def unit_word(unit: str, lang: str, n: Any = 2) -> str:
    """The word for `unit` after the number `n`: "hộ" in Vietnamese whatever the number; "1 household", "2
    households" in English."""
    if lang == "en" and not is_missing(n) and float(n) == 1 and unit in UNIT_ONE:
        return UNIT_ONE[unit]
    return _t(unit, lang, UNITS)


def _units_text(n: Any, unit: Any, lang: str, decimals: int = 0) -> str:
    s = fmt_number(n, lang, decimals)
    if s == DASH or is_missing(unit) or not str(unit):
        return s
    return f"{s} {unit_word(str(unit), lang, n)}"


def _ratio_text(num: Any, den: Any, lang: str) -> str:
    if is_missing(num) and is_missing(den):
        return DASH
    return f"{fmt_number(num, lang)} / {fmt_number(den, lang)}"


# --------------------------------------------------------------------------------------------------------------
# SVG charts (hand-written: see the module docstring)

SVG_W = 760
CHAR_PX = 6.6  # average glyph width of a 12 px sans-serif, for truncating labels that SVG cannot wrap
COLOURS = {"met": "#2b7bba", "not_met": "#e66101", "not_measurable": "#9e9e9e", "no_numeric_target": "#9e9e9e",
           "not_judged": "#9e9e9e", "poor": "#c2410c", "near_poor": "#f2b134", "contribution": "#2b7bba"}


def _nice_ceiling(x: float) -> float:
    if not (x > 0 and math.isfinite(x)):
        return 1.0
    p = 10 ** math.floor(math.log10(x))
    for m in (1, 2, 2.5, 5, 10):
        if m * p >= x - 1e-12:
            return m * p
    return 10 * p


def _fit(text: str, px: float) -> str:
    n = max(4, int(px / CHAR_PX))
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _num(v: Any) -> float:
    return math.nan if is_missing(v) else float(v)


def _svg(title: str, height: float, body: list[str]) -> str:
    h = int(math.ceil(height))
    return (f'<svg class="chart" role="img" aria-label="{e(title)}" viewBox="0 0 {SVG_W} {h}" width="{SVG_W}" '
            f'height="{h}" font-size="12">\n<title>{e(title)}</title>\n' + "\n".join(body) + "\n</svg>")


def _legend(items: list[tuple[str, str, str]], y: float) -> list[str]:
    """``items`` as (kind "box" | "mark", colour, text)."""
    out, x = [], 8.0
    for kind, colour, text in items:
        if kind == "box":
            out.append(f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="12" height="12" fill="{colour}"/>')
        else:
            out.append(f'<rect x="{x + 5:.1f}" y="{y - 12:.1f}" width="2.5" height="16" fill="{colour}"/>')
        out.append(f'<text x="{x + 17:.1f}" y="{y:.1f}">{e(text)}</text>')
        x += 17 + len(text) * CHAR_PX + 18
    return out


def svg_targets(rows: list[dict[str, Any]], lang: str) -> str:
    """Bullet chart: per target a grey track on its own scale, a bar for the value coloured by status and a black
    mark at the target. Own scales because a poverty rate of 3% and an insurance coverage of 95% share no axis
    worth reading; the scale's end is written at the end of each track."""
    title = _t("sec_chart_targets", lang)
    x0, x1 = 8.0, SVG_W - 52.0
    body = _legend([("box", COLOURS["met"], _t("met", lang, STATUS)),
                    ("box", COLOURS["not_met"], _t("not_met", lang, STATUS)),
                    ("box", COLOURS["not_measurable"], _t("not_measurable", lang, STATUS)),
                    ("mark", "#111", _t("legend_target", lang))], 18)
    y = 34.0
    for r in rows:
        value, target = _num(r["value"]), _num(r["target"])
        top = max([v for v in (value, target) if math.isfinite(v)], default=1.0)
        scale = _nice_ceiling(top * 1.15)
        if top <= 100 < scale:
            scale = 100.0
        colour = COLOURS.get(r["status"], "#9e9e9e")
        right = (f"{fmt_pct(value, lang)} / {_target_text(r['comparator'], target, lang)}% — "
                 f"{_t(r['status'], lang, STATUS)}")
        label = _fit(r["label"], SVG_W - 24 - len(right) * CHAR_PX)
        body.append(f'<text x="{x0}" y="{y + 12:.1f}"><title>{e(r["label"])}</title>{e(label)}</text>')
        body.append(f'<text x="{SVG_W - 8}" y="{y + 12:.1f}" text-anchor="end" font-weight="bold" '
                    f'fill="{colour}">{e(right)}</text>')
        ty = y + 18
        body.append(f'<rect x="{x0}" y="{ty:.1f}" width="{x1 - x0:.1f}" height="14" fill="#ececec"/>')
        if math.isfinite(value) and value > 0:
            w = min(value, scale) / scale * (x1 - x0)
            body.append(f'<rect x="{x0}" y="{ty:.1f}" width="{w:.1f}" height="14" fill="{colour}"/>')
        if math.isfinite(target):
            tx = x0 + min(max(target, 0), scale) / scale * (x1 - x0)
            body.append(f'<rect x="{tx - 1.5:.1f}" y="{ty - 4:.1f}" width="3" height="22" fill="#111"/>')
        body.append(f'<text x="{x1 + 6:.1f}" y="{ty + 11:.1f}" fill="#666" font-size="10">'
                    f'{e(fmt_general(scale, lang, 2))}%</text>')
        y = ty + 28
    return _svg(title, y + 4, body)


def svg_bars(title: str, groups: list[tuple[str, list[float]]], series: list[tuple[str, str]], lang: str,
             label_px: float = 170, decimals: int = 2) -> str:
    """Horizontal bars on one common axis from 0: per group (label, one value per series). Values in percent."""
    x0, x1 = label_px + 14, SVG_W - 70.0
    finite = [v for _, vals in groups for v in vals if math.isfinite(v)]
    scale = _nice_ceiling(max(finite, default=1.0))
    body = _legend([("box", colour, name) for name, colour in series], 18) if len(series) > 1 else []
    axis_y = 44.0 if len(series) > 1 else 20.0
    for i in range(5):
        v = scale * i / 4
        x = x0 + (x1 - x0) * i / 4
        body.append(f'<text x="{x:.1f}" y="{axis_y - 6:.1f}" text-anchor="middle" fill="#666" font-size="10">'
                    f'{e(fmt_general(v, lang, 2))}%</text>')
    bar_h, gap = 13.0, 2.0
    y = axis_y
    for label, vals in groups:
        gh = len(vals) * (bar_h + gap)
        body.append(f'<text x="{label_px + 6:.1f}" y="{y + gh / 2 + 4:.1f}" text-anchor="end">'
                    f'<title>{e(label)}</title>{e(_fit(label, label_px))}</text>')
        for (name, colour), v in zip(series, vals):
            if math.isfinite(v) and v > 0:
                w = min(v, scale) / scale * (x1 - x0)
                body.append(f'<rect x="{x0:.1f}" y="{y:.1f}" width="{w:.1f}" height="{bar_h}" fill="{colour}">'
                            f'<title>{e(name)}: {e(fmt_pct(v, lang, decimals))}</title></rect>')
            else:
                w = 0.0
            body.append(f'<text x="{x0 + w + 4:.1f}" y="{y + bar_h - 2.5:.1f}" font-size="11">'
                        f'{e(fmt_pct(v, lang, decimals))}</text>')
            y += bar_h + gap
        y += 8
    grid = [f'<line x1="{x0 + (x1 - x0) * i / 4:.1f}" y1="{axis_y - 2:.1f}" x2="{x0 + (x1 - x0) * i / 4:.1f}" '
            f'y2="{y - 6:.1f}" stroke="#d0d0d0" stroke-width="1"/>' for i in range(5)]
    return _svg(title, y + 2, grid + body)


# --------------------------------------------------------------------------------------------------------------
# sections


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict("records") if len(frame) else []


def _target_label(report: Report, tid: Any, lang: str) -> str:
    return _pick(report.target_labels.get(str(tid)), lang, str(tid))


def _section_header(report: Report, lang: str) -> str:
    meta = [("plan", _pick(report.plan_label, lang, report.plan_id)),
            ("regime", _pick(report.regime_label, lang, report.regime)),
            ("reference_date", fmt_date(report.reference_date, lang)),
            ("rules_version", report.rules_version), ("survey", report.survey)]
    if report.selected:
        meta.insert(0, ("selected", "; ".join(f"{_scope_name(report, c, lang)} ({c})" for c in report.selected)))
    dl = "".join(f"<dt>{e(_t(k, lang))}</dt><dd>{e(str(v))}</dd>" for k, v in meta)
    notes = [_note_text(n, lang) for n in report.notes]
    notes_html = ""
    if notes:
        items = "".join(f"<li>{e(n)}</li>" for n in notes)
        notes_html = f'<div class="notes"><h2>{e(_t("notes", lang))}</h2><ul>{items}</ul></div>'
    return (f'<header><h1>{e(_t("title", lang))}</h1>\n<p class="plan-name">'
            f'{e(_pick(report.plan_label, lang, report.plan_id))}</p>\n<dl class="meta">{dl}</dl>\n{notes_html}'
            "</header>")


def _section_targets(report: Report, lang: str) -> str:
    rows = _rows(report.achievement[report.achievement["scope"] == "all"])
    h = lambda k: _t(k, lang, HEADERS)  # noqa: E731
    headers = [(h("section"), ""), (h("target_label"), ""), (h("value"), "num"), (h("target"), "num"),
               (h("status_label"), ""), (h("gap"), "num"), (h("gap_units"), "num"),
               (_t("numerator_of", lang), "num"), (h("unknown"), "num")]
    trs = []
    for r in rows:
        tid = str(r["target_id"])
        trs.append("<tr>" + "".join([
            _cell(report.target_sections.get(tid, ""), "section"),
            _cell(_target_label(report, tid, lang), "label", title=tid),
            _cell(fmt_number(r["value"], lang, 2), "num"),
            _cell(_target_text(r["comparator"], r["target"], lang), "num"),
            _status_cell(r["status"], lang),
            _cell(fmt_number(r["gap"], lang, 2), "num"),
            _cell(_units_text(r["gap_units"], r["unit"], lang), "num"),
            _cell(_ratio_text(r["numerator"], r["denominator"], lang), "num"),
            _cell(fmt_number(r["unknown"], lang), "num"),
        ]) + "</tr>")
    chart_rows = [dict(label=" ".join(filter(None, [report.target_sections.get(str(r["target_id"]), ""),
                                                     _target_label(report, r["target_id"], lang)])),
                       value=r["value"], target=r["target"], comparator=r["comparator"],
                       status=str(r["status"]))
                  for r in rows if not is_missing(r["target"])]
    chart = ""
    if chart_rows:
        chart = (f'<figure><figcaption>{e(_t("sec_chart_targets", lang))}</figcaption>\n'
                 f'{svg_targets(chart_rows, lang)}\n<p class="small">{e(_t("chart_targets_note", lang))}</p>'
                 "</figure>")
    return (f'<section id="targets"><h2>1. {e(_t("sec_targets", lang))}</h2>\n'
            f'<p class="sub">{e(_t("sec_targets_sub", lang))}</p>\n'
            f"{_table(headers, trs, lang, 'targets')}\n{chart}</section>")


def _ordered(report: Report, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of `frame` in report order: "all" first, then the communes in the communes table's order."""
    rows = _rows(frame)
    order = {s: i for i, s in enumerate(_scopes(report, [r["scope"] for r in rows]))}
    return sorted(rows, key=lambda r: order[r["scope"]])


def _section_communes(report: Report, lang: str) -> str:
    """One table per target, one row per commune: with 200 communes a district officer reads down one target
    (which communes are short of it, by how many households) rather than across a grid of every target; the
    workbook's achievement sheet holds the same rows to sort and filter."""
    ach = report.achievement
    by_commune = ach[ach["scope"] != "all"]
    tids = list(dict.fromkeys(by_commune["target_id"].astype(str))) if len(by_commune) else []
    measured = [t for t in tids if (by_commune.loc[by_commune["target_id"].astype(str) == t, "status"]
                                    != "not_measurable").any()]
    h = lambda k: _t(k, lang, HEADERS)  # noqa: E731
    parts = []
    if measured:
        links = "".join(f'<li><a href="#t-{e(t)}">{e(_target_title(report, t, lang))}</a></li>' for t in measured)
        parts.append(f'<p class="small">{e(_t("per_target_index", lang))}</p><ol class="targets">{links}</ol>\n'
                     f'<p class="small">{e(_t("whole_target", lang).capitalize())}. {e(_t("short_of", lang))}</p>')
    for tid in measured:
        rows = _ordered(report, ach[ach["target_id"].astype(str) == tid])
        unit = next((str(r["unit"]) for r in rows if not is_missing(r["unit"]) and str(r["unit"])), "")
        word = f" ({_t(unit, lang, UNITS)})" if unit else ""
        headers = [(_t("commune", lang), ""), (h("value"), "num"), (h("gap"), "num"),
                   (_t("still_needed", lang) + word, "num"), (_t("counted", lang) + word, "num"),
                   (_t("population_of", lang) + word, "num"), (h("unknown") + word, "num")]
        trs = []
        for r in rows:
            status = "" if is_missing(r["status"]) else str(r["status"])
            sym = STATUS_SYMBOL.get(status)
            value = fmt_number(r["value"], lang, 2)
            short = not is_missing(r["gap"]) and float(r["gap"]) > 0
            cls = f"num status-{status}" if r["scope"] == "all" or status in ("met", "not_met") else \
                ("num status-not_met" if short else "num")
            trs.append(f'<tr class="{"total" if r["scope"] == "all" else ""}">' + "".join([
                _cell(_scope_name(report, r["scope"], lang), "label", title=str(r["scope"])),
                _cell(f"{value} {sym}" if sym else value, cls),
                _cell(fmt_number(r["gap"], lang, 2), "num"),
                _cell(fmt_number(r["gap_units"], lang), "num"),
                _cell(fmt_number(r["numerator"], lang), "num"),
                _cell(fmt_number(r["denominator"], lang), "num"),
                _cell(fmt_number(r["unknown"], lang), "num"),
            ]) + "</tr>")
        first = rows[0] if rows else {}
        goal = _target_text(first.get("comparator"), first.get("target"), lang)
        sub = f'{_t("plan_target", lang)}: {goal}%' if goal != DASH else _t("no_numeric_target", lang, STATUS)
        parts.append(f'<h3 id="t-{e(tid)}">{e(_target_title(report, tid, lang))}</h3>\n'
                     f'<p class="sub">{e(sub)}</p>\n'
                     f"{_table(headers, trs, lang, 'per-target')}")
    others = [t for t in tids if t not in measured]
    if others:
        labels = "; ".join(_target_title(report, t, lang) for t in others)
        parts.append(f'<p class="small">{e(_t("not_measured_here", lang, T).format(labels=labels))}</p>')
    body = "\n".join(parts) if parts else f'<p class="empty">{e(_t("no_data", lang))}</p>'
    return f'<section id="communes"><h2>2. {e(_t("sec_communes", lang))}</h2>\n{body}</section>'


def _target_title(report: Report, tid: str, lang: str) -> str:
    sec = report.target_sections.get(tid, "")
    return (sec + " " if sec else "") + _target_label(report, tid, lang)


def _section_rates(report: Report, lang: str) -> str:
    """One row per commune: the three rates, the households they count and their denominator."""
    rates = report.rates
    h = lambda k: _t(k, lang, HEADERS)  # noqa: E731
    hh = f' ({_t("households", lang, UNITS)})'
    headers = [(_t("commune", lang), ""), (_t("poor", lang, RATES) + " (%)", "num"), (_t("poor_n", lang), "num"),
               (_t("near_poor", lang, RATES) + " (%)", "num"), (_t("near_poor_n", lang), "num"),
               (_t("poor_or_near_poor", lang, RATES) + " (%)", "num"), (h("denominator") + hh, "num"),
               (h("denominator_source"), ""), (h("unknown") + hh, "num"), (h("rejected") + hh, "num")]
    by: dict[Any, dict[str, dict[str, Any]]] = {}
    for r in _rows(rates):
        by.setdefault(r["scope"], {})[str(r["rate_id"])] = r
    sources = {str(r["denominator_source"]) for r in _rows(rates) if r["scope"] != "all"
               and not is_missing(r["denominator_source"])}
    one_source = len(sources) == 1  # said once above the table rather than on each of 200 rows
    if one_source:
        headers = [hd for hd in headers if hd[0] != h("denominator_source")]
    trs, groups = [], []
    for scope in _scopes(report, rates["scope"]):
        part = by[scope]
        any_row = next(iter(part.values()))
        name = _scope_name(report, scope, lang)
        src = "" if is_missing(any_row["denominator_source"]) else str(any_row["denominator_source"])
        rate = lambda rid, col="value", d=2: fmt_number(part[rid][col], lang, d) if rid in part else DASH  # noqa
        trs.append(f'<tr class="{"total" if scope == "all" else ""}">' + "".join([
            _cell(name, "label", title=str(scope)),
            _cell(rate("poor"), "num"), _cell(rate("poor", "numerator", 0), "num"),
            _cell(rate("near_poor"), "num"), _cell(rate("near_poor", "numerator", 0), "num"),
            _cell(rate("poor_or_near_poor"), "num"),
            _cell(fmt_number(any_row["denominator"], lang), "num"),
            "" if one_source else _cell(_t(src, lang, DENOMINATOR_SOURCE) if src else DASH),
            _cell(fmt_number(any_row["unknown"], lang), "num"),
            _cell(fmt_number(any_row["rejected"], lang), "num"),
        ]) + "</tr>")
        values = {rid: _num(r["value"]) for rid, r in part.items()}
        if "poor" in values or "near_poor" in values:
            groups.append((name, [values.get("poor", math.nan), values.get("near_poor", math.nan)]))
    chart = ""
    if groups:
        caption = _t("chart_rates", lang)
        if len(groups) > CHART_COMMUNES + 1:  # a bar per commune reads up to a few dozen; beyond, the highest rates
            top = sorted(groups[1:], key=lambda g: -g[1][0] if math.isfinite(g[1][0]) else math.inf)[:CHART_TOP]
            groups = groups[:1] + top  # the whole survey first, as the reference
            caption = _t("chart_rates_top", lang).format(n=CHART_TOP)
        series = [(_t("poor", lang, RATES), COLOURS["poor"]), (_t("near_poor", lang, RATES), COLOURS["near_poor"])]
        chart = (f'<figure><figcaption>{e(caption)}</figcaption>\n'
                 f'{svg_bars(caption, groups, series, lang)}</figure>')
    said = ""
    if one_source and trs:
        said = (f'<p class="sub">{e(h("denominator_source"))}: '
                f'{e(_t(next(iter(sources)), lang, DENOMINATOR_SOURCE))}.</p>\n')
    return (f'<section id="rates"><h2>3. {e(_t("sec_rates", lang))}</h2>\n{said}'
            f"{_table(headers, trs, lang, 'rates')}\n{chart}</section>")


CHART_COMMUNES, CHART_TOP = 30, 20


def _section_movements(report: Report, lang: str) -> str:
    mv = report.movements
    present = list(dict.fromkeys(mv["movement"].astype(str))) if len(mv) else []
    ids = [m for m in MOVEMENTS if m in present] + [m for m in present if m not in MOVEMENTS]
    headers = [(_t("commune", lang), "")] + [(_t(m, lang, MOVEMENTS), "num") for m in ids]
    counts = {(str(r["scope"]), str(r["movement"])): r["households"] for r in _rows(mv)}
    trs = []
    for scope in _scopes(report, mv["scope"]):
        trs.append(f'<tr class="{"total" if scope == "all" else ""}">'
                   + _cell(_scope_name(report, scope, lang), "label", title=str(scope))
                   + "".join(_cell(fmt_number(counts.get((str(scope), m)), lang), "num") for m in ids) + "</tr>")
    unit = f'<p class="small">{e(_t("households", lang, HEADERS))}</p>' if trs else ""
    return (f'<section id="movements"><h2>4. {e(_t("sec_movements", lang))}</h2>\n'
            f"{_table(headers, trs, lang, 'matrix')}\n{unit}</section>")


def _section_mpi(report: Report, lang: str) -> str:
    """H, A and M0 all in percent (M0 = H × A, so one unit reads across the row); k is said once, above."""
    h = lambda k: _t(k, lang, HEADERS)  # noqa: E731
    unit = report.unit if report.unit in UNITS else "households"
    word = f' ({_t(unit, lang, UNITS)})'
    headers = [(_t("commune", lang), ""), (h("population") + word, "num"), (h("excluded") + word, "num"),
               (h("H") + " (%)", "num"), (h("A") + " (%)", "num"), (h("M0") + " (%)", "num")]
    rows = {str(r["scope"]): r for r in _rows(report.mpi)}
    trs = []
    for scope in _scopes(report, report.mpi["scope"]):
        r = rows[str(scope)]
        trs.append(f'<tr class="{"total" if scope == "all" else ""}">' + "".join([
            _cell(_scope_name(report, scope, lang), "label", title=str(scope)),
            _cell(fmt_number(r["population"], lang), "num"),
            _cell(fmt_number(r["excluded"], lang), "num"),
            _cell(fmt_number(_num(r["H"]) * 100, lang, 2), "num"),
            _cell(fmt_number(_num(r["A"]) * 100, lang, 2), "num"),
            _cell(fmt_number(_num(r["M0"]) * 100, lang, 2), "num"),
        ]) + "</tr>")
    k = report.k if report.k is not None else next((_num(r["k"]) for r in rows.values()), math.nan)
    cutoff = ""
    if trs and not is_missing(k):
        k_text = fmt_general(k * 100, lang, 2) + "%" if k <= 1 else fmt_general(k, lang)
        cutoff = (f'<p class="sub">{e(_t("mpi_cutoff", lang).format(unit=unit_word(unit, lang, 1), k=k_text))}'
                  "</p>\n")
    contrib = report.contributions[report.contributions["scope"] == "all"]
    part = sorted(_rows(contrib), key=lambda r: -_num(r["contribution"]) if math.isfinite(_num(r["contribution"]))
                  else math.inf)
    label = lambda r: _pick(report.indicator_labels.get(str(r["indicator"])), lang, str(r["indicator"]))  # noqa: E731
    c_headers = [(h("indicator_label"), ""), (h("uncensored_headcount") + " (%)", "num"),
                 (h("censored_headcount") + " (%)", "num"), (h("contribution"), "num")]
    c_rows = ["<tr>" + "".join([
        _cell(label(r), "label", title=str(r["indicator"])),
        _cell(fmt_number(_num(r["uncensored_headcount"]) * 100, lang, 2), "num"),
        _cell(fmt_number(_num(r["censored_headcount"]) * 100, lang, 2), "num"),
        _cell(fmt_number(r["contribution"], lang, 2), "num"),
    ]) + "</tr>" for r in part]
    chart = ""
    if part:
        groups = [(label(r), [_num(r["contribution"])]) for r in part]
        name = _t("chart_contrib", lang)
        svg = svg_bars(name, groups, [(name, COLOURS["contribution"])], lang, label_px=280)
        chart = f"<figure><figcaption>{e(name)}</figcaption>\n{svg}</figure>"
    return (f'<section id="mpi"><h2>5. {e(_t("sec_mpi", lang))}</h2>\n{cutoff}{_table(headers, trs, lang, "mpi")}\n'
            f'<h3>{e(_t("sec_contrib", lang))}</h3>\n{_table(c_headers, c_rows, lang, "contrib")}\n{chart}</section>')


def _line_label(report: Report, line: Any, lang: str) -> str:
    if is_missing(line) or not str(line):
        return DASH
    sec = report.budget_sections.get(str(line), "")
    return (sec + " " if sec else "") + _pick(report.budget_labels.get(str(line)), lang, str(line))


def _item_label(report: Report, item: Any, lang: str) -> str:
    if is_missing(item) or not str(item):
        return DASH
    return _pick(report.item_labels.get(str(item)), lang, str(item))


def _section_budget(report: Report, lang: str) -> str:
    h = lambda k: _t(k, lang, HEADERS)  # noqa: E731
    headers = [(_t("commune", lang), ""), (h("budget_line"), ""), (h("item"), ""), (h("amount_million_vnd"), "num"),
               (h("eligible_units"), "num"), (h("per_unit_vnd"), "num")]
    b = report.budget
    scopes = _scopes(report, b["scope"])
    per_commune = scopes != ["all"]  # without an allocation table every line is the whole survey's: no column
    if not per_commune:
        headers = headers[1:]
    trs = []
    for scope in scopes:
        for r in _rows(b[b["scope"] == scope]):
            trs.append("<tr>" + "".join([
                _cell(_scope_name(report, scope, lang), "label", title=str(scope)) if per_commune else "",
                _cell(_line_label(report, r["budget_line"], lang), title=str(r["budget_line"])),
                _cell(_item_label(report, r["item"], lang), title="" if is_missing(r["item"]) else str(r["item"])),
                _cell(fmt_number(r["amount_million_vnd"], lang, 1), "num"),
                _cell(_units_text(r["eligible_units"], r["unit"], lang), "num"),
                _cell(fmt_number(r["per_unit_vnd"], lang), "num"),
            ]) + "</tr>")
    return (f'<section id="budget"><h2>6. {e(_t("sec_budget", lang))}</h2>\n'
            f"{_table(headers, trs, lang, 'budget')}</section>")


CSS = """
*{box-sizing:border-box}
body{font-family:"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",Arial,sans-serif;font-size:14px;line-height:1.45;
 color:#1a1a1a;background:#fff;margin:0 auto;padding:24px 28px;max-width:1180px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:19px;margin:32px 0 8px;padding-bottom:4px;border-bottom:2px solid #2b7bba}
h3{font-size:15px;margin:20px 0 6px}
.plan-name{font-size:17px;margin:0 0 12px;color:#333}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0 0 12px}
dl.meta dt{font-weight:600;color:#444}
dl.meta dd{margin:0}
.notes{background:#fff8e1;border-left:4px solid #f2b134;padding:6px 12px;margin:8px 0}
.notes h2{font-size:14px;border:0;margin:2px 0;padding:0}
.notes ul{margin:2px 0;padding-left:20px}
nav ol{margin:4px 0;padding-left:22px;columns:2}
nav a{color:#1d5e91}
.sub,.small{color:#555;font-size:12px;margin:2px 0 6px}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;margin:6px 0 10px;font-size:13px;min-width:40%}
th,td{border:1px solid #c8c8c8;padding:4px 7px;vertical-align:top;text-align:left}
thead th{background:#eef3f8;font-weight:600;vertical-align:bottom}
tbody th{font-weight:normal;text-align:left;background:#fafafa}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
thead th.num{white-space:normal;min-width:70px}
td.section{white-space:nowrap;color:#444}
table.rates td.label,table.per-target td.label,table.mpi td.label,table.matrix td.label{white-space:nowrap}
tr.total>*{font-weight:600}
tr.total>.label{background:#f5f5f5}
tr.group-start>*{border-top:2px solid #999}
.status{white-space:nowrap;font-weight:600}
td.status-met{color:#1d5e91;background:#e3effa}
td.status-not_met{color:#a63603;background:#fde9dc}
td.status-not_measurable,td.status-no_numeric_target,td.status-not_judged{color:#555;background:#f0f0f0}
.empty{color:#666;font-style:italic}
figure{margin:10px 0 16px}
figcaption{font-weight:600;margin-bottom:4px}
svg.chart{max-width:100%;height:auto;display:block}
svg.chart text{font-family:"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",Arial,sans-serif;fill-opacity:1}
footer{margin-top:32px;color:#666;font-size:12px;border-top:1px solid #ccc;padding-top:6px}
@media print{
 @page{size:A4;margin:14mm 12mm}
 body{font-size:10.5pt;padding:0;max-width:none}
 *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 nav{display:none}
 h2{break-after:avoid}
 table{font-size:9pt}
 thead{display:table-header-group}
 tr,figure,svg{break-inside:avoid}
 .table-wrap{overflow:visible}
}
"""


def render_html(report: Report, lang: str = "vi") -> str:
    """The whole report as one HTML document (a string), in ``lang``."""
    _lang(lang)
    sections = [("targets", "sec_targets"), ("communes", "sec_communes"), ("rates", "sec_rates"),
                ("movements", "sec_movements"), ("mpi", "sec_mpi"), ("budget", "sec_budget")]
    nav = "".join(f'<li><a href="#{anchor}">{e(_t(key, lang))}</a></li>' for anchor, key in sections)
    title = f"{_t('title', lang)} — {_pick(report.plan_label, lang, report.plan_id)}"
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        _section_header(report, lang),
        f'<nav><strong>{e(_t("contents", lang))}</strong><ol>{nav}</ol></nav>',
        "<main>",
        _section_targets(report, lang),
        _section_communes(report, lang),
        _section_rates(report, lang),
        _section_movements(report, lang),
        _section_mpi(report, lang),
        _section_budget(report, lang),
        "</main>",
        f'<footer>{e(_t("footer", lang))} {e(_t("rules_version", lang))}: {e(report.rules_version)}.</footer>',
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def write_html(report: Report, path: str | Path, lang: str = "vi") -> Path:
    """Write :func:`render_html` to ``path`` as UTF-8; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report, lang), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------------------------
# xlsx

# Excel number formats by kind of column; the cell keeps the raw number, only the display changes
FORMATS = {"pct": "0.00", "frac_pct": "0.00%", "pct_sign": '0.00"%"', "int": "#,##0", "m0": "0.000",
           "million": "#,##0.0", "vnd": "#,##0", "general": "General"}

SHEETS: dict[str, list[tuple[str, str | None]]] = {  # column id, number kind (None: text)
    "achievement": [("target_id", None), ("section", None), ("target_label", None), ("scope", None),
                    ("scope_name", None), ("value", "pct"), ("target", "pct"), ("comparator", None), ("met", None),
                    ("gap", "pct"), ("gap_units", "int"), ("unit", None), ("unit_label", None),
                    ("numerator", "int"), ("denominator", "int"), ("unknown", "int"), ("status", None),
                    ("status_label", None)],
    "rates": [("scope", None), ("scope_name", None), ("rate_id", None), ("rate_label", None), ("value", "pct"),
              ("numerator", "int"), ("denominator", "int"), ("denominator_source", None),
              ("denominator_source_label", None), ("unknown", "int"), ("rejected", "int")],
    "movements": [("scope", None), ("scope_name", None), ("movement", None), ("movement_label", None),
                  ("households", "int")],
    "mpi": [("scope", None), ("scope_name", None), ("population", "int"), ("excluded", "int"), ("H", "frac_pct"),
            ("A", "frac_pct"), ("M0", "frac_pct"), ("k", "general")],
    "contributions": [("scope", None), ("scope_name", None), ("indicator", None), ("indicator_label", None),
                      ("uncensored_headcount", "frac_pct"), ("censored_headcount", "frac_pct"),
                      ("contribution", "pct_sign")],
    "budget": [("scope", None), ("scope_name", None), ("budget_line", None), ("budget_line_label", None),
               ("item", None), ("item_label", None), ("amount_million_vnd", "million"), ("eligible_units", "int"),
               ("unit", None), ("unit_label", None), ("per_unit_vnd", "vnd")],
}
SHEET_HEADERS = {"rates": {"value": HEADERS["rate_value"]},  # where a column id needs another header
                 "mpi": {"H": ("H — tỷ lệ nghèo đa chiều (%)", "H — headcount ratio (%)"),
                         "A": ("A — mức độ thiếu hụt bình quân (%)", "A — intensity (%)"),
                         "M0": ("M0 — chỉ số nghèo đa chiều (%)", "M0 — adjusted headcount ratio (%)")}}
# machine columns a label column stands beside: hidden in the workbook (still there, and named in row 2, for a
# program that reads the sheet back), so that a person reads labels, not ids
HIDDEN = {"target_id", "comparator", "met", "unit", "status", "rate_id", "denominator_source", "movement",
          "indicator", "budget_line", "item"}


def _sheet_frame(report: Report, sheet: str, lang: str) -> pd.DataFrame:
    """The table with its label columns added, rows in report order ("all" first, communes in table order)."""
    df = getattr(report, sheet).copy()
    if len(df):
        order = {s: i for i, s in enumerate(_scopes(report, df["scope"]))}
        rank = [order[s] for s in df["scope"].tolist()]
        df = df.iloc[sorted(range(len(df)), key=rank.__getitem__)]  # stable: a scope's rows keep their order
    df["scope_name"] = [_scope_name(report, s, lang) for s in df["scope"]]
    if sheet == "achievement":
        df["section"] = [report.target_sections.get(str(t), "") for t in df["target_id"]]
        df["target_label"] = [_target_label(report, t, lang) for t in df["target_id"]]
        df["status_label"] = ["" if is_missing(s) else _t(str(s), lang, STATUS) for s in df["status"]]
        df["unit_label"] = [_unit_label(u, lang) for u in df["unit"]]
    elif sheet == "rates":
        df["rate_label"] = [_t(str(r), lang, RATES) for r in df["rate_id"]]
        df["denominator_source_label"] = ["" if is_missing(x) or not str(x) else _t(str(x), lang, DENOMINATOR_SOURCE)
                                          for x in df["denominator_source"]]
    elif sheet == "budget":
        df["budget_line_label"] = [_line_label(report, x, lang) for x in df["budget_line"]]
        df["item_label"] = ["" if is_missing(x) or not str(x) else _item_label(report, x, lang) for x in df["item"]]
        df["unit_label"] = [_unit_label(u, lang) for u in df["unit"]]
    elif sheet == "movements":
        df["movement_label"] = [_t(str(m), lang, MOVEMENTS) for m in df["movement"]]
    elif sheet == "contributions":
        df["indicator_label"] = [_pick(report.indicator_labels.get(str(i)), lang, str(i)) for i in df["indicator"]]
    return df


def _unit_label(unit: Any, lang: str) -> str:
    return "" if is_missing(unit) or not str(unit) else _t(str(unit), lang, UNITS)


def _excel_value(v: Any, kind: str | None) -> Any:
    """Plain Python values for openpyxl: numbers as int/float, booleans as bool, missing as an empty cell."""
    if is_missing(v):
        return None
    if isinstance(v, bool) or type(v).__name__ == "bool_":
        return bool(v)
    if kind is not None:
        f = float(v)
        if not math.isfinite(f):
            return None
        return int(f) if kind in ("int", "vnd") and f.is_integer() else f
    return v if isinstance(v, (str, int, float)) else str(v)


def _write_sheet(ws: Any, columns: list[tuple[str, str | None]], rows: Iterable[list[Any]], lang: str,
                 headers: dict[str, tuple[str, str]]) -> None:
    ids = [c for c, _ in columns]
    write_sheet(ws, ids, [_t(c, lang, headers) for c in ids], rows, [k for _, k in columns], FORMATS)


def write_xlsx(report: Report, path: str | Path, lang: str = "vi", progress: Callable[[], None] | None = None
               ) -> Path:
    """Write ``report.xlsx``: an ``info`` sheet with the metadata, then one sheet per table (layout in the module
    docstring). `progress()` is called after each sheet. Return the path."""
    from openpyxl import Workbook  # heavy: openpyxl

    _lang(lang)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    info = wb.active
    info.title = "info"
    ref = report.reference_date
    if isinstance(ref, str):
        ref = date.fromisoformat(ref[:10])
    elif isinstance(ref, datetime):
        ref = ref.date()
    meta: list[tuple[str, str, Any]] = [
        (_t("plan", lang), "plan_id", report.plan_id),
        (_t("plan_label", lang), "plan_label", _pick(report.plan_label, lang, report.plan_id)),
        (_t("regime", lang), "regime", report.regime),
        (_t("regime", lang), "regime_label", _pick(report.regime_label, lang, report.regime)),
        (_t("rules_version", lang), "rules_version", report.rules_version),
        (_t("reference_date", lang), "reference_date", ref),
        (_t("survey", lang), "survey", report.survey),
        (_t("language", lang), "lang", lang),
    ]
    if report.selected:
        meta.append((_t("selected", lang), "communes_selected", ", ".join(report.selected)))
    meta += [(_t("note_n", lang).format(n=i), f"note_{i}", _note_text(note, lang))
             for i, note in enumerate(report.notes, start=1)]
    meta += [(_t("commune", lang), f"commune:{code}", name) for code, name in report.communes.items()]
    info_headers = {"item": T["item"], "key": T["key"], "value": T["value_col"]}
    _write_sheet(info, [("item", None), ("key", None), ("value", None)], [list(m) for m in meta], lang, info_headers)
    for row in info.iter_rows(min_row=3):
        if isinstance(row[2].value, (date, datetime)):
            row[2].number_format = "dd/mm/yyyy" if lang == "vi" else "yyyy-mm-dd"
    if progress is not None:
        progress()
    for sheet, columns in SHEETS.items():
        df = _sheet_frame(report, sheet, lang)
        rows = ([_excel_value(r[c], kind) for c, kind in columns] for r in _rows(df))
        headers = {**HEADERS, **SHEET_HEADERS.get(sheet, {})}
        ws = wb.create_sheet(sheet)
        _write_sheet(ws, columns, rows, lang, headers)
        _hide_id_columns(ws, columns)
        if progress is not None:
            progress()
    wb.save(path)
    return path


def _hide_id_columns(ws: Any, columns: list[tuple[str, str | None]]) -> None:
    from openpyxl.utils import get_column_letter  # heavy: openpyxl

    for j, (c, _) in enumerate(columns, start=1):
        if c in HIDDEN:
            ws.column_dimensions[get_column_letter(j)].hidden = True
