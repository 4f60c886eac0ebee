"""report.html and report.xlsx from a hand-built Report: self-contained, Vietnamese first, numbers stay numbers."""
from __future__ import annotations

import math
import re
from datetime import date, datetime
from html.parser import HTMLParser

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from tieuchi.outputs.report_render import COLUMNS, Report, fmt_number, render_html, write_html, write_xlsx

NAN = math.nan
ESCAPED_LABEL = "Hộ <b>mới</b> thoát nghèo có mô hình sinh kế"


def sample_report() -> Report:
    """Two communes, one target of every status, NaNs where a survey leaves holes, a label with markup in it."""
    targets = [  # id, section, label vi, label en, comparator, target, status, values per scope (all, c1, c2)
        ("poverty_rate", "II.1", "Tỷ lệ hộ nghèo giảm còn dưới 3%", "Poverty rate below 3%", "le", 3.0, "met",
         (2.5, 2.0, 3.25)),
        ("health_insurance", "II.2", "Tỷ lệ người thuộc hộ nghèo có thẻ bảo hiểm y tế",
         "Members of poor households with health insurance", "ge", 95.0, "not_met", (91.25, 96.0, 86.5)),
        ("clean_water", "II.3", "Tỷ lệ hộ nghèo sử dụng nước sinh hoạt an toàn", "Poor households with safe water",
         "ge", 90.0, "not_measurable", (NAN, NAN, NAN)),
        ("livelihood_models", "II.4", ESCAPED_LABEL, "Households <b>newly</b> out of poverty with a livelihood "
         "model", "", NAN, "no_numeric_target", (12.5, 10.0, 15.0)),
        ("solid_housing", "II.5", "Tỷ lệ hộ nghèo có nhà ở kiên cố", "Poor households in solid housing", "ge", 80.0,
         "not_judged", (85.0, 88.0, 82.0)),
    ]
    scopes = ["all", "10001", "10002"]
    ach = []
    for tid, _, _, _, comp, target, status, values in targets:
        for scope, value in zip(scopes, values):
            if status in ("met", "not_met"):
                met = (value <= target) if comp == "le" else (value >= target)
                row_status = "met" if met else "not_met"
            else:
                met, row_status = pd.NA, status
            gap = value - target if not (math.isnan(value) or math.isnan(target)) else NAN
            ach.append(dict(target_id=tid, scope=scope, value=value, target=target, comparator=comp, met=met,
                            gap=gap, gap_units=NAN if math.isnan(gap) else round(abs(gap) * 4), unit="persons"
                            if tid == "health_insurance" else "households", numerator=NAN if math.isnan(value)
                            else 40, denominator=NAN if math.isnan(value) else 400, unknown=3, status=row_status))
    achievement = pd.DataFrame(ach)
    achievement["met"] = achievement["met"].astype("boolean")
    rates = pd.DataFrame([
        dict(scope=s, rate_id=r, value=v, numerator=n, denominator=d, denominator_source=src, unknown=u, rejected=j)
        for s, d, src, u, j, vals in [("all", 2400, "communes", 7, 2, (4.25, 6.5, 10.75)),
                                      ("10001", 1400, "communes", 4, 0, (3.5, 5.0, 8.5)),
                                      ("10002", 1000, "surveyed", 3, 2, (5.3, NAN, NAN))]
        for r, v in zip(("poor", "near_poor", "poor_or_near_poor"), vals)
        for n in [NAN if math.isnan(v) else round(v * d / 100)]
    ])
    movements = pd.DataFrame([
        dict(scope=s, movement=m, households=h)
        for s, counts in [("all", (60, 25, 12, 18, 4, 40, 56, 9, 2)), ("10001", (35, 15, 5, 8, 1, 20, 30, 5, 1)),
                          ("10002", (25, 10, 7, 10, 3, 20, 26, 4, 1))]
        for m, h in zip(("escaped_poverty", "escaped_near_poverty", "newly_poor", "newly_near_poor",
                         "fell_back_into_poverty", "stayed_poor", "stayed_near_poor", "no_previous_class",
                         "unknown"), counts)
    ])
    mpi = pd.DataFrame([
        dict(scope=s, population=p, excluded=x, H=h, A=a, M0=h * a, k=3)
        for s, p, x, h, a in [("all", 9600, 12, 0.2534, 0.4567), ("10001", 5600, 5, 0.21, 0.44),
                              ("10002", 4000, 7, 0.31, NAN)]
    ])
    contributions = pd.DataFrame([
        dict(scope=s, indicator=i, uncensored_headcount=u, censored_headcount=c, contribution=w)
        for s in ("all", "10001")
        for i, u, c, w in [("health_insurance", 0.40, 0.20, 30.5), ("water", 0.30, 0.15, 25.25),
                           ("sanitation", 0.35, 0.14, 24.25), ("telecom", 0.28, 0.12, 20.0)]
    ])
    budget = pd.DataFrame([
        dict(scope="all", budget_line="p5_housing", item="Hỗ trợ nhà ở", amount_million_vnd=1234.5,
             eligible_units=37, unit="households", per_unit_vnd=1234.5e6 / 37),
        dict(scope="10001", budget_line="p3_2_nutrition", item="Cải thiện dinh dưỡng", amount_million_vnd=NAN,
             eligible_units=18, unit="persons", per_unit_vnd=NAN),
    ])
    return Report(
        plan_id="tan_yen_2024", plan_label={"vi": "Kế hoạch giảm nghèo huyện Tân Yên năm 2024",
                                            "en": "Tân Yên district poverty reduction plan 2024"},
        regime="vn_2022_2026", rules_version="2024.12.1", reference_date=date(2024, 12, 1),
        survey="Rà soát hộ nghèo, hộ cận nghèo cuối năm 2024",
        achievement=achievement, rates=rates, movements=movements, mpi=mpi, contributions=contributions,
        budget=budget,
        target_labels={t[0]: {"vi": t[2], "en": t[3]} for t in targets},
        target_sections={t[0]: t[1] for t in targets},
        communes={"10001": "Xã Phúc Hòa", "10002": "Xã Lam Cốt"},
        indicator_labels={"health_insurance": {"vi": "Bảo hiểm y tế", "en": "Health insurance"},
                          "water": {"vi": "Nguồn nước sinh hoạt", "en": "Domestic water"},
                          "sanitation": {"vi": "Nhà tiêu hợp vệ sinh", "en": "Hygienic latrine"},
                          "telecom": {"vi": "Sử dụng dịch vụ viễn thông", "en": "Telecommunications"}},
        notes=[{"vi": "Mẫu số của xã Lam Cốt là số hộ được rà soát: thiếu bảng danh sách xã.",
                "en": "Lam Cốt's denominators are surveyed households: no communes table."}],
    )


class Page(HTMLParser):
    """What the tests look at: every start tag with its attributes, the CSS, the text, and table rows as cells."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.css, self.text, self.rows = [], [], []
        self._in, self._row, self._cell = [], None, None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in.append(tag)
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        while self._in and self._in.pop() != tag:
            pass

    def handle_data(self, data):
        if self._in and self._in[-1] == "style":
            self.css.append(data)
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def count(self, tag: str) -> int:
        return sum(1 for t, _ in self.tags if t == tag)

    def row_with(self, text: str) -> list[str]:
        return next(r for r in self.rows if text in r)

    @property
    def all_text(self) -> str:
        return " ".join(self.text)


@pytest.fixture(scope="module")
def report() -> Report:
    return sample_report()


@pytest.fixture(scope="module")
def vi(report) -> tuple[str, Page]:
    text = render_html(report)
    return text, Page(text)


@pytest.fixture(scope="module")
def en(report) -> tuple[str, Page]:
    text = render_html(report, "en")
    return text, Page(text)


# --------------------------------------------------------------------------------------------------------------
# html: self-contained


def test_the_report_draws_its_charts_as_inline_svg(vi):
    _, page = vi
    assert page.count("svg") >= 3
    assert page.count("script") == 0 and page.count("img") == 0


def test_no_element_points_outside_the_file(vi):
    _, page = vi
    assert page.count("link") == 0 and page.count("iframe") == 0 and page.count("object") == 0
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            if name in ("src", "href", "xlink:href", "srcset", "action", "data", "poster", "background"):
                assert value and (value.startswith("#") or value.startswith("data:")), (tag, name, value)


def test_no_address_on_the_web_appears_in_attributes_or_css(vi):
    text, page = vi
    values = [v or "" for _, attrs in page.tags for v in attrs.values()]
    css = "".join(page.css)
    for scheme in ("http://", "https://"):
        assert not any(scheme in v for v in values)
        assert scheme not in css
        assert scheme not in text
    assert "@import" not in css and "url(" not in css


def test_the_default_report_is_vietnamese_utf8_with_diacritics(vi):
    text, page = vi
    html_attrs = next(a for t, a in page.tags if t == "html")
    assert html_attrs["lang"] == "vi"
    assert any(t == "meta" and a.get("charset") == "utf-8" for t, a in page.tags)
    body = page.all_text
    for label in ("Kết quả thực hiện chỉ tiêu", "Đạt", "Chưa đạt", "Không đo được", "Không có chỉ tiêu bằng số",
                  "Tỷ lệ hộ nghèo", "Tỷ lệ hộ cận nghèo", "Tỷ lệ nghèo đa chiều (hộ nghèo và cận nghèo)",
                  "Thoát nghèo", "Tái nghèo", "Nghèo phát sinh", "Xã Phúc Hòa", "Kế hoạch giảm nghèo huyện Tân Yên",
                  "Bảo hiểm y tế", "01/12/2024", "thiếu bảng danh sách xã"):
        assert label in body, label
    assert "Target achievement" not in body


def test_the_english_report_has_english_labels(en):
    _, page = en
    assert next(a for t, a in page.tags if t == "html")["lang"] == "en"
    body = page.all_text
    for label in ("Target achievement", "Met", "Not met", "Not measurable", "No numeric target", "Poverty rate",
                  "Near-poverty rate", "Escaped poverty", "Fell back into poverty", "Newly poor", "Whole survey",
                  "Health insurance", "2024-12-01", "no communes table"):
        assert label in body, label
    assert "Chưa đạt" not in body and "Thoát nghèo" not in body


def test_numbers_use_the_decimal_comma_and_thousands_dot_in_vietnamese(vi):
    _, page = vi
    assert page.row_with("p5_housing")[3] == "1.234,5"
    assert page.row_with("p5_housing")[5] == "33.364.865"
    assert page.row_with("Tỷ lệ người thuộc hộ nghèo có thẻ bảo hiểm y tế")[2] == "91,25"
    assert page.row_with("Tỷ lệ người thuộc hộ nghèo có thẻ bảo hiểm y tế")[3] == "≥ 95,00"
    assert "91.25" not in page.all_text


def test_numbers_use_the_decimal_point_and_thousands_comma_in_english(en):
    _, page = en
    assert page.row_with("p5_housing")[3] == "1,234.5"
    assert page.row_with("p5_housing")[5] == "33,364,865"
    assert page.row_with("Members of poor households with health insurance")[2] == "91.25"
    assert "91,25" not in page.all_text


def test_a_missing_value_is_shown_as_a_dash_never_as_nan_or_zero(vi):
    _, page = vi
    water = page.row_with("Tỷ lệ hộ nghèo sử dụng nước sinh hoạt an toàn")
    assert water[2] == "—" and water[5] == "—" and water[6] == "—"
    assert page.row_with("p3_2_nutrition")[3] == "—"
    assert not re.search(r"\bnan\b", page.all_text, re.IGNORECASE)


def test_a_label_with_markup_is_escaped_not_rendered(vi, en):
    for text, page in (vi, en):
        assert "&lt;b&gt;" in text
        assert page.count("b") == 0
    assert ESCAPED_LABEL in vi[1].all_text


def test_each_measurable_target_has_its_own_table_with_a_row_per_commune_and_status_symbols(vi):
    text, page = vi
    section = Page(text[text.index('<section id="communes"'):text.index('<section id="rates"')])
    lam_cot = [r for r in section.rows if r and r[0] == "Xã Lam Cốt"]
    assert len(lam_cot) == 4  # poverty rate, insurance, the model without a number, housing; not the water target
    assert ["3,25 ✗", "86,50 ✗"] == [r[1] for r in lam_cot[:2]]
    assert any(r[1] == "2,00 ✓" for r in section.rows if r and r[0] == "Xã Phúc Hòa")
    assert section.count("table") == 4 and "Tỷ lệ hộ nghèo có nhà ở kiên cố" in section.all_text
    assert "Không đo được" in section.all_text and "nước sinh hoạt an toàn" in section.all_text  # named, no table


def test_the_css_has_print_rules(vi):
    _, page = vi
    assert "@media print" in "".join(page.css)


def test_an_empty_report_renders_with_no_data_notes_and_no_charts(tmp_path):
    r = Report(plan_id="p", plan_label={"vi": "Kế hoạch trống"}, regime="vn_2022_2026", rules_version="1",
               reference_date=date(2025, 1, 1), survey="s")
    for lang, words in (("vi", "Không có dữ liệu."), ("en", "No data.")):
        path = write_html(r, tmp_path / f"empty_{lang}.html", lang)
        page = Page(path.read_text(encoding="utf-8"))
        assert words in page.all_text and page.count("svg") == 0
        assert "Kế hoạch trống" in page.all_text  # a missing English label falls back to Vietnamese, not to nothing


def test_a_frame_missing_columns_is_refused_naming_every_table_and_column():
    with pytest.raises(ValueError) as err:
        Report(plan_id="p", plan_label={}, regime="r", rules_version="1", reference_date=date(2025, 1, 1),
               survey="s", rates=pd.DataFrame(columns=["scope", "value"]), budget=pd.DataFrame(columns=["scope"]))
    message = str(err.value)
    assert "'rates'" in message and "rate_id" in message and "'budget'" in message and "per_unit_vnd" in message


def test_an_unknown_language_is_refused(report):
    with pytest.raises(ValueError, match="vi, en"):
        render_html(report, "fr")


def test_write_html_writes_the_rendered_text_as_utf8(report, tmp_path):
    path = write_html(report, tmp_path / "out" / "report.html")
    assert path.read_bytes() == render_html(report).encode("utf-8")


# --------------------------------------------------------------------------------------------------------------
# number formatting


@pytest.mark.parametrize("x, lang, decimals, expected", [
    (1234.5, "vi", 1, "1.234,5"), (1234.5, "en", 1, "1,234.5"), (1234567, "vi", 0, "1.234.567"),
    (-0.001, "vi", 2, "0,00"), (-1.5, "en", 1, "-1.5"), (NAN, "vi", 2, "—"), (None, "en", 0, "—"),
    (pd.NA, "vi", 0, "—"), (math.inf, "vi", 0, "—"), (0, "en", 2, "0.00"),
])
def test_numbers_are_formatted_per_language(x, lang, decimals, expected):
    assert fmt_number(x, lang, decimals) == expected


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False), st.integers(min_value=0, max_value=3))
def test_vietnamese_and_english_formats_differ_only_by_swapped_separators(x, decimals):
    vi, en = fmt_number(x, "vi", decimals), fmt_number(x, "en", decimals)
    assert vi == en.translate(str.maketrans(",.", ".,"))
    assert float(en.replace(",", "")) == pytest.approx(round(x, decimals), abs=10 ** -decimals)


# --------------------------------------------------------------------------------------------------------------
# xlsx


@pytest.fixture(scope="module")
def workbook(report, tmp_path_factory):
    return load_workbook(write_xlsx(report, tmp_path_factory.mktemp("xlsx") / "report.xlsx"))


def test_the_workbook_has_an_info_sheet_and_one_sheet_per_table(workbook):
    assert workbook.sheetnames == ["info", *COLUMNS]


def test_each_sheet_has_translated_headers_over_machine_ids_both_frozen_and_bold(workbook):
    ws = workbook["achievement"]
    assert ws["A1"].value == "Mã chỉ tiêu" and ws["A2"].value == "target_id"
    assert ws["A1"].font.bold and ws.freeze_panes == "A3"
    assert ws.column_dimensions["C"].width > 8
    for sheet, columns in COLUMNS.items():
        ids = [c.value for c in workbook[sheet][2]]
        assert set(columns) <= set(ids), sheet
    assert workbook["rates"]["E1"].value == "Tỷ lệ (%)"
    assert workbook["budget"]["G1"].value == "Kinh phí (triệu đồng)"  # after the line's and the item's labels


def test_a_person_reads_labels_the_machine_ids_beside_them_are_hidden_columns(workbook):
    for sheet in ("achievement", "rates", "movements", "contributions", "budget"):
        ws = workbook[sheet]
        ids = [c.value for c in ws[2]]
        hidden = {ids[j] for j in range(len(ids)) if ws.column_dimensions[chr(65 + j)].hidden}
        for machine in hidden:  # every hidden id column has its label beside it
            assert {f"{machine}_label", "status_label", "rate_label"} & set(ids), (sheet, machine)
        assert "scope" not in hidden and "scope_name" not in hidden  # commune codes are for people too
    budget = workbook["budget"]
    row = [c.value for c in budget[3]]
    ids = [c.value for c in budget[2]]
    assert row[ids.index("budget_line")] == "p5_housing" and row[ids.index("unit_label")] == "hộ"
    assert {"target_id", "status", "unit"} <= {c for j, c in enumerate(
        [c.value for c in workbook["achievement"][2]]) if workbook["achievement"].column_dimensions[chr(65 + j)].hidden}


def test_numeric_cells_are_numbers_and_missing_cells_are_empty(workbook):
    def column(sheet, name):
        ws = workbook[sheet]
        j = [c.value for c in ws[2]].index(name)
        return [row[j] for row in ws.iter_rows(min_row=3, values_only=True)]

    values = column("achievement", "value")
    assert all(v is None or isinstance(v, (int, float)) for v in values)
    assert 91.25 in values and None in values
    assert set(column("achievement", "met")) == {True, False, None}
    assert column("budget", "amount_million_vnd") == [1234.5, None]
    assert all(isinstance(v, int) for v in column("movements", "households"))
    assert column("mpi", "H")[0] == pytest.approx(0.2534)
    assert workbook["mpi"]["E3"].number_format == "0.00%"
    assert column("achievement", "scope_name")[0] == "Toàn bộ địa bàn khảo sát"
    assert "Chưa đạt" in column("achievement", "status_label")


def test_the_info_sheet_holds_the_metadata_with_a_real_date(workbook):
    rows = {r[1]: r[2] for r in workbook["info"].iter_rows(min_row=3, values_only=True)}
    assert rows["plan_id"] == "tan_yen_2024" and rows["rules_version"] == "2024.12.1"
    assert rows["reference_date"] in (datetime(2024, 12, 1), date(2024, 12, 1))
    assert rows["commune:10002"] == "Xã Lam Cốt" and "thiếu bảng" in rows["note_1"]


def test_the_english_workbook_has_english_headers_and_an_empty_report_still_writes(report, tmp_path):
    wb = load_workbook(write_xlsx(report, tmp_path / "en.xlsx", "en"))
    assert wb["achievement"]["A1"].value == "Target id" and wb["achievement"]["A2"].value == "target_id"
    empty = Report(plan_id="p", plan_label={}, regime="r", rules_version="1", reference_date=date(2025, 1, 1),
                   survey="s")
    wb = load_workbook(write_xlsx(empty, tmp_path / "empty.xlsx"))
    assert wb["rates"].max_row == 2
