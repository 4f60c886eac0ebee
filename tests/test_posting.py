"""Posting lists per village (`tieuchi eligible … --format xlsx --by village`, tieuchi.outputs.posting): a workbook
per item and commune with a sheet per village, a print-ready HTML per commune, a PDF when Chromium is there."""
from __future__ import annotations

import datetime as dt
import os
import re
import stat
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

import tieuchi
from tieuchi.api import Result
from tieuchi.cli import app
from tieuchi.outputs import posting as P
from tieuchi.outputs.eligible import eligibility_counts, eligibility_lists, item_units

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "datasets" / "examples" / "tiny"
RULES = tieuchi.load_rules(dt.date(2025, 6, 30))
ITEMS = item_units(RULES)
HOUSEHOLD_ITEMS = [i for i, u in ITEMS.items() if u == "household"]
PERSON_ITEMS = [i for i, u in ITEMS.items() if u == "person"]
HH_ITEM, PERSON_ITEM = HOUSEHOLD_ITEMS[0], PERSON_ITEMS[0]
PROGRAM = RULES.regime.program
CLASS_VI = RULES.regime.class_labels("vi")
SCRIPT_NAME = "<script>alert(1)</script> Lò Văn"
FORMULA_VILLAGE = "=HYPERLINK(\"http://x\")"
LONG_VILLAGE = "Thôn Đồng Tâm Thượng Hạ Đông Nam Bắc 1"  # more than 31 characters, like its neighbour
B = "boolean"


def built() -> Result:
    """Two communes; commune 07210 with three villages (one a formula-like text, one a long name) and a household
    without a village; commune 07213 with one village. Names: a head whose name holds "<script>"."""
    ids = ["1", "2", "3", "4", "5", "6", "7", "8"]
    hh = pd.DataFrame({
        "household_id": ids,
        "regime": "vn_2022_2026",
        "commune_code": ["07210"] * 6 + ["07213"] * 2,
        "commune_name": ["Thị trấn Cao Thượng"] * 6 + ["Xã Cao Xá"] * 2,
        "village": ["Tổ 2", "Tổ 2", "Tổ 10", FORMULA_VILLAGE, LONG_VILLAGE, None, "Thôn Hậu", "Thôn Hậu"],
        "household_class": ["poor", "near_poor", "poor", "poor", "poor", "poor", "near_poor", "other"],
    })
    hh["eligibility_class"] = hh["household_class"]
    for c in ("newly_escaped_poverty", "no_labour_capacity", "class_mismatch"):
        hh[c] = pd.array([False] * 8, dtype=B)
    for i in HOUSEHOLD_ITEMS:
        hh[f"eligible_{i}"] = pd.array([True, True, True, True, True, True, True, None], dtype=B)
        hh[f"priority_{i}"] = pd.array([pd.NA] * 8, dtype="string")
    groups = PROGRAM.priority_order
    hh[f"priority_{HH_ITEM}"] = pd.array([pd.NA, f"{groups[0]};{groups[1]}", pd.NA, pd.NA, pd.NA, pd.NA, pd.NA,
                                          pd.NA], dtype="string")
    mem = pd.DataFrame({
        "household_id": ids + ["1", "7"],
        "member_no": [1] * 8 + [2, 2],
        "full_name": [SCRIPT_NAME, "Lê Văn Chi", "Phạm Văn Dũng", "=1+1", "Vũ Văn Giang", "Đỗ Văn Hải", "Lý Thị Mai",
                      "Hà Văn Nam", "Nguyễn Thị Lan", "Lý Văn Sơn"],
    })
    for i in PERSON_ITEMS:
        mem[f"eligible_{i}"] = pd.array([False] * 8 + [True, True], dtype=B)
    communes = pd.DataFrame({"commune_code": ["07210", "07213"], "commune_name": ["Thị trấn Cao Thượng (bảng xã)",
                                                                                 None]})
    return Result(households=hh, members=mem, rejects=pd.DataFrame(), regime="vn_2022_2026", rules_version="test",
                  reference_date=dt.date(2025, 6, 30), indicators=[], communes=communes, rules=RULES)


def posted(tmp_path: Path, lang: str = "vi", show_names: bool = False, browser: str | None = None) -> P.Written:
    r = built()
    lists = eligibility_lists(r, by="village", lang=lang, show_names=show_names)
    counts = eligibility_counts(r, by="village")
    return P.write_posting(P.posting_lists(r, lists, counts, lang, show_names), tmp_path / "out", browser=browser)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """The posting lists written once per (language, names) for the tests that only read them."""
    cache: dict = {}

    def get(lang: str = "vi", show_names: bool = False) -> tuple[Path, P.Written]:
        if (lang, show_names) not in cache:
            root = tmp_path_factory.mktemp(f"posting_{lang}_{int(show_names)}")
            cache[lang, show_names] = (root, posted(root, lang, show_names))
        return cache[lang, show_names]

    return get


def folder(tmp_path: Path, code: str) -> Path:
    found = [p for p in (tmp_path / "out" / P.FOLDER).iterdir() if p.name.startswith(code)]
    assert len(found) == 1, found
    return found[0]


def values(ws) -> list[tuple]:
    return [tuple(c for c in row) for row in ws.iter_rows(values_only=True)]


def table_rows(ws, first: str = "STT") -> list[tuple]:
    """The rows of a list sheet's table (after its header row, up to the total line)."""
    rows = values(ws)
    head = next(k for k, r in enumerate(rows) if r[0] == first)
    out = []
    for r in rows[head + 1:]:
        if not isinstance(r[0], int):
            break
        out.append(r)
    return out


# ------------------------------------------------------------------ the workbooks


def test_each_commune_gets_a_folder_with_a_workbook_per_item_whose_sheets_are_its_villages(made):
    tmp_path, _ = made()
    one = folder(tmp_path, "07210")
    assert one.name == "07210 Thị trấn Cao Thượng (bảng xã)"  # the communes table's name comes first
    assert {p.name for p in one.glob("*.xlsx")} == {f"{i}.xlsx" for i in ITEMS}
    book = openpyxl.load_workbook(one / f"{HH_ITEM}.xlsx")
    assert book.sheetnames[0] == "Mục lục"
    assert set(book.sheetnames[1:]) == {"Tổ 2", "Tổ 10", '=HYPERLINK("http---x")', LONG_VILLAGE[:31],
                                       "(chưa ghi thôn)"}
    # villages in a Vietnamese reader's order: numbers as numbers ("Tổ 2" before "Tổ 10"), no village last
    names = book.sheetnames[1:]
    assert names.index("Tổ 2") < names.index("Tổ 10") and names[-1] == "(chưa ghi thôn)"
    assert len(names) == 5 and all(len(n) <= 31 for n in names)
    two = openpyxl.load_workbook(folder(tmp_path, "07213") / f"{HH_ITEM}.xlsx")
    assert two.sheetnames == ["Mục lục", "Thôn Hậu"]


def test_a_village_sheet_has_the_title_commune_village_date_and_that_villages_rows_in_the_lists_order(made):
    tmp_path, _ = made()
    book = openpyxl.load_workbook(folder(tmp_path, "07210") / f"{HH_ITEM}.xlsx")
    ws = book["Tổ 2"]
    cells = [v for row in values(ws) for v in row if isinstance(v, str)]
    assert "DANH SÁCH HỘ ĐỦ ĐIỀU KIỆN ĐỀ NGHỊ HỖ TRỢ" in cells
    assert PROGRAM.items[HH_ITEM].label.vi in cells  # the item's label, from the rules
    assert "THỊ TRẤN CAO THƯỢNG (BẢNG XÃ)" in cells and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in cells
    assert "Thôn: Tổ 2 — Thị trấn Cao Thượng (bảng xã) — Ngày tham chiếu: 30/06/2025" in cells
    rows = table_rows(ws)
    # household 2 is in two priority groups, so it comes before household 1: the list's own order and STT
    assert [(r[0], r[1]) for r in rows] == [(1, "2"), (2, "1")]
    labels = PROGRAM.priority_labels("vi")
    first = dict(zip(values(ws)[9], rows[0]))
    assert first["Phân loại hộ"] == CLASS_VI["near_poor"]
    assert first["Nhóm ưu tiên"] == f"{labels[PROGRAM.priority_order[0]]}, {labels[PROGRAM.priority_order[1]]}"
    assert first["Lý do"] and first["Ghi chú"] is None
    assert "Tổng số: 2 hộ." in cells


def test_the_undecided_household_is_on_no_sheet_and_is_counted_in_the_contents(made):
    tmp_path, _ = made()
    book = openpyxl.load_workbook(folder(tmp_path, "07213") / f"{HH_ITEM}.xlsx")
    assert [r[1] for r in table_rows(book["Thôn Hậu"])] == ["7"]
    toc = values(book["Mục lục"])
    head = next(k for k, r in enumerate(toc) if r[0] == "STT")
    assert toc[head] == ("STT", "Thôn", "Đủ điều kiện (hộ)", "Chưa xác định (hộ)", "Trang tính")
    assert toc[head + 1] == (1, "Thôn Hậu", 1, 1, "Thôn Hậu")
    assert book["Mục lục"].cell(row=head + 2, column=5).hyperlink.location == "'Thôn Hậu'!A1"


def test_names_are_shown_only_with_show_names_and_a_household_list_names_the_head(made):
    a, _ = made()
    b, _ = made(show_names=True)
    without = openpyxl.load_workbook(folder(a, "07210") / f"{HH_ITEM}.xlsx")["Tổ 2"]
    named = openpyxl.load_workbook(folder(b, "07210") / f"{HH_ITEM}.xlsx")["Tổ 2"]
    assert "Họ tên chủ hộ" not in values(without)[9]
    assert all(SCRIPT_NAME not in row for row in values(without))
    header = values(named)[9]
    assert header[:3] == ("STT", "Mã hộ", "Họ tên chủ hộ")
    assert [r[2] for r in table_rows(named)] == ["Lê Văn Chi", SCRIPT_NAME]  # member 1 of households 2 and 1
    people = openpyxl.load_workbook(folder(b, "07210") / f"{PERSON_ITEM}.xlsx")["Tổ 2"]
    assert values(people)[9][:4] == ("STT", "Mã hộ", "Thành viên số", "Họ và tên")
    assert [r[:4] for r in table_rows(people)] == [(1, "1", 2, "Nguyễn Thị Lan")]


def test_every_sheet_ends_with_the_place_and_date_line_and_the_signature_block_even_without_names(made):
    tmp_path, _ = made()
    book = openpyxl.load_workbook(folder(tmp_path, "07210") / f"{HH_ITEM}.xlsx")
    for name in book.sheetnames[1:]:
        cells = [v for row in values(book[name]) for v in row if isinstance(v, str)]
        assert "Cao Thượng (bảng xã), ngày …… tháng …… năm ……" in cells
        assert {"NGƯỜI LẬP BIỂU", "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "(Ký, ghi rõ họ tên)", "(Ký tên, đóng dấu)"} \
            <= set(cells)
    assert "TỔ TRƯỞNG TỔ DÂN PHỐ" in [v for row in values(book["Tổ 2"]) for v in row]  # a "Tổ …" has no trưởng thôn
    hau = openpyxl.load_workbook(folder(tmp_path, "07213") / f"{HH_ITEM}.xlsx")["Thôn Hậu"]
    assert "TRƯỞNG THÔN" in [v for row in values(hau) for v in row]


def test_a_village_sheet_prints_on_a4_landscape_fitted_to_width_with_its_table_header_on_every_page(made):
    tmp_path, _ = made()
    book = openpyxl.load_workbook(folder(tmp_path, "07210") / f"{HH_ITEM}.xlsx")
    for ws in book.worksheets:
        assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert "&P" in ws.oddFooter.right.text and "&N" in ws.oddFooter.right.text
    ws = book["Tổ 2"]
    assert ws.page_setup.orientation == "landscape"
    assert ws.print_title_rows == "$10:$10" and values(ws)[9][0] == "STT"
    col = values(ws)[9].index("Lý do") + 1
    assert ws.column_dimensions[openpyxl.utils.get_column_letter(col)].width >= 50
    assert ws.cell(row=11, column=col).alignment.wrap_text and ws.cell(row=11, column=col).border.left.style


def test_a_formula_like_village_or_name_stays_text_in_the_workbook(made):
    tmp_path, _ = made(show_names=True)
    book = openpyxl.load_workbook(folder(tmp_path, "07210") / f"{HH_ITEM}.xlsx")
    formula_sheet = next(n for n in book.sheetnames if n.startswith("="))
    ws = book[formula_sheet]
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type != "f" for c in cells)
    assert [r[2] for r in table_rows(ws)] == ["=1+1"]
    assert any(c.value == f"Thôn: {FORMULA_VILLAGE}" for c in cells)


def test_sheet_names_replace_forbidden_characters_keep_31_characters_and_stay_unique_whatever_the_case():
    got = P.sheet_names(["a/b:c*d?e[f]g\\h", "x" * 40, "x" * 40, "Tổ 1", "TỔ 1", "'quoted'", "History"],
                        taken=("Mục lục",))
    assert got[0] == "a-b-c-d-e-f-g-h"
    assert got[1] == "x" * 31 and got[2] == "x" * 27 + " (2)"
    assert got[3] == "Tổ 1" and got[4] == "TỔ 1 (2)"
    assert got[5] == "quoted" and got[6] == "History (2)"
    assert P.sheet_names(["Mục lục"], taken=("Mục lục",)) == ["Mục lục (2)"]


def test_english_lists_with_lang_en(made):
    tmp_path, _ = made("en")
    book = openpyxl.load_workbook(folder(tmp_path, "07213") / f"{HH_ITEM}.xlsx")
    assert book.sheetnames == ["Contents", "Thôn Hậu"]
    cells = [v for row in values(book["Thôn Hậu"]) for v in row if isinstance(v, str)]
    assert "LIST OF HOUSEHOLDS ELIGIBLE FOR SUPPORT" in cells and PROGRAM.items[HH_ITEM].label.en in cells
    assert "Village: Thôn Hậu — Xã Cao Xá — Reference date: 2025-06-30" in cells
    assert {"PREPARED BY", "VILLAGE HEAD", "FOR THE PEOPLE'S COMMITTEE"} <= set(cells)
    assert values(book["Thôn Hậu"])[9][:2] == ("No.", "Household id")


# ------------------------------------------------------------------ HTML and PDF


def test_the_html_holds_one_section_per_village_and_every_list_starts_a_new_printed_page(made):
    tmp_path, _ = made(show_names=True)
    page = (folder(tmp_path, "07210") / P.HTML_NAME).read_text(encoding="utf-8")
    sections = re.findall(r'<section class="village" id="v\d+" data-village="([^"]*)">', page)
    assert len(sections) == 5 and sections.index("Tổ 2") < sections.index("Tổ 10")
    assert sections[-1] == "(chưa ghi thôn)"
    assert re.search(r"\.list, \.contents \{ break-before: page; page-break-before: always; \}", page)
    assert "size: A4 landscape" in page and "thead { display: table-header-group; }" in page
    assert page.count('<article class="list"') == page.count("NGƯỜI LẬP BIỂU")  # a signature block per list
    lists = re.findall(r'<article class="list" id="(v\d+)-([a-z0-9_]+)">', page)
    to2, to10 = f"v{sections.index('Tổ 2')}", f"v{sections.index('Tổ 10')}"
    assert (to2, HH_ITEM) in lists and (to2, PERSON_ITEM) in lists
    assert (to10, HH_ITEM) in lists and (to10, PERSON_ITEM) not in lists  # an empty list is not a page


def test_the_html_escapes_data_so_a_name_with_a_script_tag_stays_text(made):
    tmp_path, _ = made(show_names=True)
    page = (folder(tmp_path, "07210") / P.HTML_NAME).read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Lò Văn" in page
    assert "=HYPERLINK(&quot;http://x&quot;)" in page


def test_the_html_shows_no_name_without_show_names(made):
    tmp_path, _ = made()
    page = (folder(tmp_path, "07210") / P.HTML_NAME).read_text(encoding="utf-8")
    assert "Lò Văn" not in page and "Họ tên chủ hộ" not in page and "NGƯỜI LẬP BIỂU" in page


def test_the_index_links_every_commune_its_workbooks_and_its_page_to_print(made):
    tmp_path, written = made()
    index = written.index.read_text(encoding="utf-8")
    assert written.index == tmp_path / "out" / P.FOLDER / P.INDEX
    assert 'href="07210%20Th%E1%BB%8B%20tr%E1%BA%A5n%20Cao%20Th%C6%B0%E1%BB%A3ng%20%28b%E1%BA%A3ng%20x%C3%A3%29/' \
           f'{P.HTML_NAME}"' in index
    assert f'href="07213%20X%C3%A3%20Cao%20X%C3%A1/{HH_ITEM}.xlsx"' in index
    assert P.PDF_NAME not in index.split("<tbody>")[1]  # no PDF was made: no link to one


def test_no_pdf_is_printed_unless_asked_and_nothing_is_said_of_it(made):
    tmp_path, written = made()
    assert not written.notes
    assert not list((tmp_path / "out").rglob("*.pdf"))
    assert (folder(tmp_path, "07210") / P.HTML_NAME).is_file()


def test_a_pdf_asked_for_without_chromium_writes_the_html_and_a_note_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(P, "find_browser", lambda: None)
    written = posted(tmp_path, browser="find")
    assert written.notes and "Chromium" in written.notes[0] and P.HTML_NAME in written.notes[0]
    assert not list((tmp_path / "out").rglob("*.pdf"))
    assert (folder(tmp_path, "07210") / P.HTML_NAME).is_file()


@pytest.mark.skipif(sys.platform == "win32", reason="a shell script stands in for Chromium")
def test_the_pdf_is_printed_by_chromium_headless_from_each_communes_html(tmp_path):
    fake = tmp_path / "chromium"
    log = tmp_path / "calls.txt"
    fake.write_text("#!/bin/sh\n"
                    f'echo "$@" >> "{log}"\n'
                    'for a in "$@"; do case "$a" in --print-to-pdf=*) printf "%%PDF-1.4" > "${a#--print-to-pdf=}";; '
                    "esac; done\n", encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    written = posted(tmp_path, browser=str(fake))
    assert not written.notes
    calls = log.read_text(encoding="utf-8").splitlines()
    assert len(calls) == 2 and all("--headless" in c and "--print-to-pdf=" in c for c in calls)
    assert all(c.split()[-1].startswith("file://") and c.split()[-1].endswith(P.HTML_NAME) for c in calls)
    pdfs = sorted(p for p in written.paths if p.suffix == ".pdf")
    assert [p.parent.name[:5] for p in pdfs] == ["07210", "07213"]
    assert P.PDF_NAME in written.index.read_text(encoding="utf-8")


def test_a_chromium_that_fails_is_a_note_not_a_failed_run(tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\nexit 3\n", encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    written = posted(tmp_path, browser=str(fake))
    assert len(written.notes) == 1 and "07210, 07213" in written.notes[0]
    assert not list((tmp_path / "out").rglob("*.pdf"))


# ------------------------------------------------------------------ the command


@pytest.fixture()
def fake_classify(monkeypatch):
    monkeypatch.setattr("tieuchi.api.classify", lambda households, members, on, **kw: built())
    monkeypatch.setattr("tieuchi.rulebook.load.load_rules", lambda day, rules=None: RULES)
    monkeypatch.setattr(P, "find_browser", lambda: None)  # the suite never needs a browser


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_the_command_writes_posting_lists_with_xlsx_by_village_and_says_where_their_index_is(fake_classify, tmp_path):
    r = run("eligible", TINY, "--on", "2025-06-30", "--out", tmp_path / "out", "--format", "xlsx", "--by", "village")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "out" / "eligible.xlsx").is_file()  # the existing workbook, as before
    index = tmp_path / "out" / P.FOLDER / P.INDEX
    assert index.is_file()
    assert f"Danh sách niêm yết theo thôn: 2 xã, 6 thôn; mục lục: {index}" in r.stdout.replace("\n", "")
    assert "Chromium" not in r.stderr  # no PDF asked for, none looked for
    assert str(folder(tmp_path, "07210") / f"{HH_ITEM}.xlsx") not in r.stdout  # the index, not 16 paths


def test_the_command_with_pdf_and_no_chromium_still_succeeds_and_says_how_to_print(fake_classify, tmp_path):
    r = run("eligible", TINY, "--on", "2025-06-30", "--out", tmp_path / "out", "--format", "xlsx", "--by", "village",
            "--pdf")
    assert r.exit_code == 0, r.output
    assert "Không tìm thấy Chromium" in r.stderr.replace("\n", " ")
    assert (folder(tmp_path, "07210") / P.HTML_NAME).is_file()


def test_pdf_without_the_posting_lists_is_refused_before_the_survey_is_read(fake_classify, tmp_path):
    r = run("eligible", TINY, "--on", "2025-06-30", "--out", tmp_path / "out", "--pdf")
    assert r.exit_code == 2 and "--format xlsx --by village" in r.stderr.replace("\n", " ")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args", [["--format", "xlsx"], ["--by", "village"], ["--format", "csv", "--by", "village"]])
def test_no_posting_lists_without_both_xlsx_and_by_village(fake_classify, tmp_path, args):
    r = run("eligible", TINY, "--on", "2025-06-30", "--out", tmp_path / "out", *args)
    assert r.exit_code == 0, r.output
    assert not (tmp_path / "out" / P.FOLDER).exists()


def test_a_folder_in_the_way_of_the_index_is_refused_before_the_survey_is_read(fake_classify, tmp_path):
    (tmp_path / "out" / P.FOLDER / P.INDEX).mkdir(parents=True)
    r = run("eligible", TINY, "--on", "2025-06-30", "--out", tmp_path / "out", "--format", "xlsx", "--by", "village")
    assert r.exit_code == 2 and "out_path_blocked" in r.stderr
    assert not (tmp_path / "out" / "eligible.xlsx").exists()


def test_folder_names_are_safe_on_every_system():
    c = P.CommunePosting("07210", 'Xã A/B: "C"?', [])
    assert P.folder_name(c) == "07210 Xã A_B_ _C__"
    assert P.folder_name(P.CommunePosting("07213", None, [])) == "07213"
    assert not set(P.folder_name(P.CommunePosting("1", "x" * 200 + ".", []))) & set('<>:"/\\|?*')
    assert os.sep not in P.folder_name(c)


def test_a_row_is_tall_enough_for_its_wrapped_reason():
    heights = P.row_heights([pd.Series(["ngắn", "x" * 120]).to_numpy(dtype=object)], [52])
    assert heights[0] == 17 and heights[1] >= 3 * 15
