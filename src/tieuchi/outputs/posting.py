"""Posting lists: per commune and village, each program item's eligible households or people as the list a commune
posts for the village meeting ("DANH SÁCH HỘ ĐỦ ĐIỀU KIỆN ĐỀ NGHỊ HỖ TRỢ …"), ready to print.

Built from the lists of :func:`tieuchi.outputs.eligible.eligibility_lists` and the counts of
:func:`tieuchi.outputs.eligible.eligibility_counts`, both made with ``by="village"`` (the rank is the village's STT),
and written by ``tieuchi eligible … --format xlsx --by village`` beside ``eligible.xlsx``:

    OUT/niem_yet/index.html                       every commune, its villages and items, with counts and links
    OUT/niem_yet/<mã xã> <tên xã>/<item>.xlsx      one workbook per item: a "Mục lục" sheet, then one sheet per village
    OUT/niem_yet/<mã xã> <tên xã>/danh_sach.html   every item and village of the commune, one printed page per list
    OUT/niem_yet/<mã xã> <tên xã>/danh_sach.pdf    the same, printed by Chromium headless, when asked (`--pdf`)

Why one folder per commune: a district runs 200 communes of ~10 villages; each commune gets its own folder to hand
on, a workbook per item stays small (a sheet per village, no 2,000-sheet workbook) and the one HTML/PDF per commune
is what the commune prints for its meetings (one Chromium run per commune, not one per item and village).

Each list: the authority and the national motto, the title, the item's label, the program's label, the village,
commune and reference date, the table (STT, mã hộ, thành viên số for a person item, the head of household's or the
person's name only with ``show_names``, the class label, the priority groups' labels, the reason, an empty "Ghi chú"
column for the meeting), the total, and the signature block (place and date line, "Người lập biểu", "Trưởng thôn",
"TM. Ủy ban nhân dân"). Item, class and priority-group labels are the rules'; commune names come from the survey's
communes table, else from the households table, else the code.

Every data text is escaped: in a workbook a text cell is never a formula (:func:`tieuchi.contract.write.keep_text`),
in HTML it is HTML-escaped.
"""
from __future__ import annotations

import datetime as dt
import html
import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

import numpy as np
import pandas as pd

from tieuchi.contract import write as w
from tieuchi.i18n import table, text
from tieuchi.outputs.eligible import program_of
from tieuchi.rulebook.load import rules_of

FOLDER = "niem_yet"
INDEX = "index.html"
HTML_NAME = "danh_sach.html"
PDF_NAME = "danh_sach.pdf"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PDF_TIMEOUT = 300  # seconds for one commune's PDF
NO_VILLAGE = "\x00"  # the group key of households without a village

T = table(
    vi={
        "authority": "ỦY BAN NHÂN DÂN",
        "nation": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "motto": "Độc lập - Tự do - Hạnh phúc",
        "title_household": "DANH SÁCH HỘ ĐỦ ĐIỀU KIỆN ĐỀ NGHỊ HỖ TRỢ",
        "title_person": "DANH SÁCH NGƯỜI ĐỦ ĐIỀU KIỆN ĐỀ NGHỊ HỖ TRỢ",
        "where": "Thôn: {village} — {commune} — Ngày tham chiếu: {day}",
        "village_of": "Thôn: {village}",
        "no_village": "(chưa ghi thôn)",
        "commune_code": "Xã mã {code}",
        "stt": "STT", "household_id": "Mã hộ", "member_no": "Thành viên số", "head_name": "Họ tên chủ hộ",
        "person_name": "Họ và tên", "class": "Phân loại hộ", "priority": "Nhóm ưu tiên", "reason": "Lý do",
        "note": "Ghi chú",
        "total_household": "Tổng số: {n} hộ.",
        "total_person": "Tổng số: {n} người.",
        "nobody_household": "Không có hộ nào đủ điều kiện.",
        "nobody_person": "Không có người nào đủ điều kiện.",
        "place_date": "{place}, ngày …… tháng …… năm ……",
        "prepared": "NGƯỜI LẬP BIỂU",
        "village_head": "TRƯỞNG THÔN",
        "group_head": "TỔ TRƯỞNG TỔ DÂN PHỐ",
        "committee": "TM. ỦY BAN NHÂN DÂN",
        "chair": "CHỦ TỊCH",
        "sign": "(Ký, ghi rõ họ tên)",
        "sign_seal": "(Ký tên, đóng dấu)",
        "page": "Trang &P / &N",
        "page_css": "Trang ",
        "of_css": " / ",
        "toc": "Mục lục",
        "toc_title": "MỤC LỤC DANH SÁCH NIÊM YẾT",
        "index_title": "DANH SÁCH NIÊM YẾT THEO THÔN",
        "index_intro": "Ngày tham chiếu: {day}. Mỗi xã một thư mục: một tệp Excel cho mỗi hạng mục (mỗi thôn một "
                       "trang tính) và một tệp để in ({html}, {pdf}) gồm mọi hạng mục và thôn của xã.",
        "commune": "Xã", "code": "Mã xã", "village": "Thôn", "villages": "Số thôn", "item": "Hạng mục",
        "eligible": "Đủ điều kiện", "undecided": "Chưa xác định", "sheet": "Trang tính", "files": "Tệp",
        "print": "Bản in", "page_word": "Trang",
        "undecided_note": "Chưa xác định: chưa đủ thông tin để xác định (xem counts trong eligible.xlsx); không có "
                          "trong danh sách.",
        "unit_household": "hộ", "unit_person": "người",
        "day": "{d:02d}/{m:02d}/{y}",
        "pdf_missing": "Không tìm thấy Chromium nên chưa tạo bản PDF; đã ghi bản HTML để in ({html}: mở bằng trình "
                       "duyệt rồi chọn In). Cài Chromium (Debian: apt-get install chromium) để có PDF.",
        "pdf_failed": "Chromium không tạo được bản PDF cho {n} xã ({first}); bản HTML để in vẫn được ghi.",
        "posted": "Danh sách niêm yết theo thôn: {communes} xã, {villages} thôn; mục lục: {index}",
    },
    en={
        "authority": "PEOPLE'S COMMITTEE",
        "nation": "SOCIALIST REPUBLIC OF VIET NAM",
        "motto": "Independence - Freedom - Happiness",
        "title_household": "LIST OF HOUSEHOLDS ELIGIBLE FOR SUPPORT",
        "title_person": "LIST OF PEOPLE ELIGIBLE FOR SUPPORT",
        "where": "Village: {village} — {commune} — Reference date: {day}",
        "village_of": "Village: {village}",
        "no_village": "(no village given)",
        "commune_code": "Commune {code}",
        "stt": "No.", "household_id": "Household id", "member_no": "Member no.", "head_name": "Head of household",
        "person_name": "Full name", "class": "Household class", "priority": "Priority groups", "reason": "Reason",
        "note": "Notes",
        "total_household": "Total: {n} households.",
        "total_person": "Total: {n} people.",
        "nobody_household": "No household is eligible.",
        "nobody_person": "Nobody is eligible.",
        "place_date": "{place}, date: ……/……/……",
        "prepared": "PREPARED BY",
        "village_head": "VILLAGE HEAD",
        "group_head": "HEAD OF RESIDENTIAL GROUP",
        "committee": "FOR THE PEOPLE'S COMMITTEE",
        "chair": "CHAIRPERSON",
        "sign": "(signature and full name)",
        "sign_seal": "(signature and seal)",
        "page": "Page &P of &N",
        "page_css": "Page ",
        "of_css": " of ",
        "toc": "Contents",
        "toc_title": "CONTENTS OF THE POSTING LISTS",
        "index_title": "POSTING LISTS PER VILLAGE",
        "index_intro": "Reference date: {day}. One folder per commune: one Excel file per item (a sheet per "
                       "village) and one file to print ({html}, {pdf}) with every item and village of the commune.",
        "commune": "Commune", "code": "Commune code", "village": "Village", "villages": "Villages", "item": "Item",
        "eligible": "Eligible", "undecided": "Undecided", "sheet": "Sheet", "files": "Files",
        "print": "To print", "page_word": "Page",
        "undecided_note": "Undecided: not enough information to decide (see counts in eligible.xlsx); not on the "
                          "lists.",
        "unit_household": "households", "unit_person": "people",
        "day": "{y}-{m:02d}-{d:02d}",
        "pdf_missing": "Chromium was not found, so no PDF was made; the HTML to print was written ({html}: open it "
                       "in a browser and print). Install Chromium (Debian: apt-get install chromium) to get PDFs.",
        "pdf_failed": "Chromium could not make the PDF of {n} commune(s) ({first}); the HTML to print was written.",
        "posted": "Posting lists per village: {communes} commune(s), {villages} village(s); contents: {index}",
    },
)

# the unit words a commune's name begins with, left out of the place in "<place>, ngày … tháng … năm …"
_UNIT_WORDS = ("thị trấn", "phường", "xã")


# --------------------------------------------------------------------------------------------------------------
# the lists as data


@dataclass
class VillageList:
    """One (commune, village, item) list: its rows (display texts, in the list's order) and counts."""

    village: str | None
    rows: pd.DataFrame
    eligible: int
    undecided: int


@dataclass
class ItemPosting:
    item: str
    unit: str  # "household" | "person"
    label: str
    villages: list[VillageList]


@dataclass
class CommunePosting:
    code: str
    name: str | None
    villages: list[str | None]
    items: list[ItemPosting] = field(default_factory=list)

    def shown(self, lang: str) -> str:
        return self.name or text(T, "commune_code", lang, code=self.code)


@dataclass
class Posting:
    lang: str
    show_names: bool
    reference_date: dt.date
    program_label: str
    communes: list[CommunePosting]


def posting_lists(result: Any, lists: dict[str, pd.DataFrame], counts: pd.DataFrame, lang: str = "vi",
                  show_names: bool = False) -> Posting:
    """The posting lists of every commune and village of `counts` (made with ``by="village"``), per item of
    `lists`: display columns ``stt``, ``household_id`` (, ``member_no``) (, ``full_name`` with `show_names`),
    ``class``, ``priority``, ``reason`` — labels read from the result's rules."""
    rules = rules_of(result)
    program = program_of(rules)
    class_labels = rules.regime.class_labels(lang) if rules is not None else {}
    group_labels = program.priority_labels(lang) if program is not None else {}
    item_labels = {i: getattr(it.label, lang) for i, it in program.items.items()} if program is not None else {}
    names = commune_names(result)
    counts = counts.assign(_v=counts["village"].astype("string").fillna(NO_VILLAGE),
                           commune_code=counts["commune_code"].astype("string"))
    order = counts.drop_duplicates(["commune_code", "_v"])
    communes: dict[str, CommunePosting] = {}
    for code, v in order[["commune_code", "_v"]].itertuples(index=False):
        c = communes.setdefault(code, CommunePosting(code, names.get(code), []))
        c.villages.append(None if v == NO_VILLAGE else v)
    for c in communes.values():
        c.villages.sort(key=village_order)
    per = {(i, c, v): (int(e), int(u)) for i, c, v, e, u in
           counts[["item", "commune_code", "_v", "eligible", "undecided"]].itertuples(index=False)}
    for item, df in lists.items():
        unit = "person" if "member_no" in df.columns else "household"
        shown = _display(df, class_labels, group_labels, show_names)
        keys = pd.DataFrame({"c": df["commune_code"].astype("string"),
                             "v": df["village"].astype("string").fillna(NO_VILLAGE)})
        at = keys.groupby(["c", "v"], sort=False).indices if len(keys) else {}
        for c in communes.values():
            lists_of = []
            for v in c.villages:
                k = NO_VILLAGE if v is None else v
                pos = at.get((c.code, k), np.array([], dtype=np.int64))
                e, u = per.get((item, c.code, k), (len(pos), 0))
                lists_of.append(VillageList(v, shown.iloc[pos].reset_index(drop=True), e, u))
            c.items.append(ItemPosting(item, unit, item_labels.get(item, item), lists_of))
    label = getattr(program.program.label, lang) if program is not None else ""
    return Posting(lang, show_names, result.reference_date, label, list(communes.values()))


def village_order(village: str | None) -> tuple:
    """How villages follow one another in a commune, as a Vietnamese reader expects: letters without their marks
    first (then with them), "đ" after "d", numbers as numbers ("Tổ 2" before "Tổ 10"); no village last."""
    if village is None:
        return (1,)
    key = []
    for part in re.split(r"(\d+)", village.casefold()):
        if part.isdigit():
            key.append((1, int(part), ""))
        elif part:
            plain = "".join(ch for ch in unicodedata.normalize("NFD", part.replace("đ", "d\uffff"))
                            if not unicodedata.combining(ch))
            key.append((0, 0, plain))
    return (0, key, village)


def commune_names(result: Any) -> dict[str, str]:
    """{commune code: name}: the survey's communes table first, then the households table."""
    names: dict[str, str] = {}
    communes = getattr(result, "communes", None)
    if communes is not None and {"commune_code", "commune_name"} <= set(communes.columns):
        for c, nm in zip(communes["commune_code"].astype("string"), communes["commune_name"]):
            if not pd.isna(nm) and str(nm).strip():
                names.setdefault(str(c), str(nm).strip())
    hh = result.households
    if "commune_name" in hh.columns:
        pairs = hh[["commune_code", "commune_name"]].astype("string").dropna().drop_duplicates("commune_code")
        for c, nm in pairs.itertuples(index=False):
            if nm.strip():
                names.setdefault(c, nm.strip())
    return names


def _display(df: pd.DataFrame, class_labels: dict[str, str], group_labels: dict[str, str],
             show_names: bool) -> pd.DataFrame:
    """A list's columns as a person reads them: labels for class and priority ids (one lookup per distinct
    value)."""
    out = pd.DataFrame({"stt": df["rank"].astype("Int64"), "household_id": df["household_id"].astype("string")})
    if "member_no" in df.columns:
        out["member_no"] = df["member_no"].astype("Int64")
    if show_names:
        out["full_name"] = df["full_name"].astype("string") if "full_name" in df.columns else pd.NA
    out["class"] = df["eligibility_class"].astype("string").map(lambda c: class_labels.get(c, c), na_action="ignore")
    codes, uniques = pd.factorize(df["priority_groups"].astype("string").fillna(""))
    said = [", ".join(group_labels.get(g, g) for g in str(u).split(";") if g) for u in uniques]
    out["priority"] = pd.Series(np.asarray(said, dtype=object)[codes] if len(codes) else [], index=df.index,
                                dtype="string")
    out["reason"] = df["reason"].astype("string")
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------------------------------
# names of files and sheets


_FORBIDDEN_FILE = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_FORBIDDEN_SHEET = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
SHEET_MAX = 31  # Excel's limit on a sheet name


def folder_name(commune: CommunePosting) -> str:
    """``<code> <name>``, safe as a folder name on Windows, macOS and Linux."""
    name = f"{commune.code} {commune.name}" if commune.name else commune.code
    name = _FORBIDDEN_FILE.sub("_", name).strip(" .")[:80].strip(" .")
    return name or "_"


def sheet_names(names: list[str], taken: tuple[str, ...] = ()) -> list[str]:
    """Excel sheet names for `names`: forbidden characters replaced, at most 31 characters, no leading or trailing
    apostrophe, unique without regard to case (Excel's rule) and different from `taken` and "History"."""
    seen = {t.casefold() for t in taken} | {"history"}
    out = []
    for n in names:
        base = _FORBIDDEN_SHEET.sub("-", n).strip().strip("'").strip() or "-"
        base = base[:SHEET_MAX].strip()
        cand, k = base, 2
        while cand.casefold() in seen:
            suffix = f" ({k})"
            cand = base[:SHEET_MAX - len(suffix)].rstrip() + suffix
            k += 1
        seen.add(cand.casefold())
        out.append(cand)
    return out


def _place(commune: CommunePosting, lang: str) -> str:
    """The place of the date line: the commune's name without its unit word ("Xã Cao Xá" -> "Cao Xá")."""
    if not commune.name:
        return "……"
    name = commune.name
    low = name.casefold()
    for word in _UNIT_WORDS:
        if low.startswith(word + " ") and len(name) > len(word) + 1:
            return name[len(word) + 1:].strip()
    return name


def _village_head(village: str | None, lang: str) -> str:
    """"Trưởng thôn", or the head of a residential group (tổ dân phố) for a village named "Tổ …"."""
    if village is not None and village.casefold().startswith("tổ"):
        return text(T, "group_head", lang)
    return text(T, "village_head", lang)


def _village(village: str | None, lang: str) -> str:
    return text(T, "no_village", lang) if village is None else village


def _day(day: dt.date, lang: str) -> str:
    return text(T, "day", lang, d=day.day, m=day.month, y=day.year)


def _columns(item: ItemPosting, show_names: bool, lang: str) -> list[tuple[str, str, float]]:
    """(column of the display frame, header, Excel width) of a list, in order; "note" is the empty column."""
    cols = [("stt", text(T, "stt", lang), 7), ("household_id", text(T, "household_id", lang), 11)]
    if item.unit == "person":
        cols.append(("member_no", text(T, "member_no", lang), 10))
    if show_names:
        cols.append(("full_name", text(T, "head_name" if item.unit == "household" else "person_name", lang), 24))
    cols += [("class", text(T, "class", lang), 17), ("priority", text(T, "priority", lang), 24),
             ("reason", text(T, "reason", lang), 52), ("note", text(T, "note", lang), 12)]
    return cols


# --------------------------------------------------------------------------------------------------------------
# writing


@dataclass
class Written:
    paths: list[Path]  # every file written
    index: Path  # the index to open first
    notes: list[str]  # what the terminal says (a PDF that could not be made)
    n_communes: int = 0
    n_villages: int = 0


def write_posting(posting: Posting, out_dir: str | Path,
                  progress: Callable[[str, int, int], None] | None = None,
                  browser: str | None = None) -> Written:
    """Write the posting lists under ``out_dir/niem_yet/`` (see the module's docstring). `browser`: the Chromium
    to print PDFs with ("find": look on PATH; None: no PDF). A missing or failing Chromium is a note, never an
    error: the HTML to print is there."""
    root = w.make_out_dir(Path(out_dir) / FOLDER)
    lang = posting.lang
    paths: list[Path] = []
    htmls: list[tuple[CommunePosting, Path]] = []
    steps = 2 * len(posting.communes) or 1
    for k, commune in enumerate(posting.communes):
        folder = w.make_out_dir(root / folder_name(commune))
        for item in commune.items:
            path = folder / f"{item.item}.xlsx"
            with w.writing(path):
                _item_workbook(posting, commune, item).save(path)
            paths.append(path)
        page = folder / HTML_NAME
        with w.writing(page):
            page.write_text(commune_html(posting, commune), encoding="utf-8")
        paths.append(page)
        htmls.append((commune, page))
        if progress is not None:
            progress("write", k + 1, steps)
    notes, with_pdf = [], set()
    # a PDF only when asked (`--pdf`): Chromium prints ~400 pages per commune in about a minute, so a district's 200
    # communes would take hours by default; the HTML prints the same pages from any browser
    exe = find_browser() if browser == "find" else browser
    if browser == "find" and exe is None:
        notes.append(text(T, "pdf_missing", lang, html=HTML_NAME))
    elif exe is not None:
        failed = []
        for k, (commune, page) in enumerate(htmls):
            pdf = print_pdf(exe, page, page.with_name(PDF_NAME))
            if pdf is None:
                failed.append(commune.code)
            else:
                paths.append(pdf)
                with_pdf.add(commune.code)
            if progress is not None:
                progress("write", len(htmls) + k + 1, steps)
        if failed:
            notes.append(text(T, "pdf_failed", lang, n=len(failed), first=", ".join(failed[:5])
                              + ("…" if len(failed) > 5 else "")))
    index = root / INDEX
    with w.writing(index):
        index.write_text(index_html(posting, with_pdf), encoding="utf-8")
    paths.append(index)
    return Written(paths, index, notes, len(posting.communes), sum(len(c.villages) for c in posting.communes))


def find_browser() -> str | None:
    """The Chromium on PATH (Debian's `chromium`, or Chrome), or None."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def print_pdf(browser: str, page: Path, pdf: Path, timeout: float = PDF_TIMEOUT) -> Path | None:
    """`page` printed to `pdf` by Chromium headless (A4 and page breaks come from the page's own CSS); None when
    Chromium fails or takes too long."""
    if pdf.exists():
        pdf.unlink()  # never leave a stale PDF beside a new HTML
    with tempfile.TemporaryDirectory(prefix="tieuchi_pdf_") as profile:  # a throw-away profile: no lock, no state
        cmd = [browser, "--headless", "--disable-gpu", f"--user-data-dir={profile}", "--no-pdf-header-footer",
               f"--print-to-pdf={pdf.resolve()}", page.resolve().as_uri()]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox; the page is ours
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired):
            return None
    return pdf if done.returncode == 0 and pdf.is_file() and pdf.stat().st_size > 0 else None


# --------------------------------------------------------------------------------------------------------------
# the workbook of one item of one commune


def _item_workbook(posting: Posting, commune: CommunePosting, item: ItemPosting):
    from openpyxl import Workbook  # heavy: openpyxl, needed only for a workbook

    lang = posting.lang
    book = Workbook()
    _styles(book)
    toc = book.active
    toc.title = sheet_names([text(T, "toc", lang)])[0]
    names = sheet_names([_village(v.village, lang) for v in item.villages], taken=(toc.title,))
    _toc_sheet(toc, posting, commune, item, names)
    for vl, name in zip(item.villages, names):
        _list_sheet(book.create_sheet(name), posting, commune, item, vl)
    return book


def _put(ws: Any, row: int, col: int, value: Any, style: str | None = None, **attrs: Any) -> Any:
    """One cell: text made safe for Excel (never a formula, no illegal character), then its named `style` (fast:
    one lookup) or its own `attrs`."""
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        value = w.excel_text(value)
    elif value is not None and pd.isna(value):
        value = None
    elif isinstance(value, np.integer):
        value = int(value)
    cell.value = value
    if isinstance(value, str) and value[:1] in ("=", "#"):
        w.keep_text([cell])
    if style is not None:
        cell.style = style
    for k, v in attrs.items():
        setattr(cell, k, v)
    return cell


def _merged(ws: Any, row: int, first: int, last: int, value: Any, **attrs: Any) -> Any:
    """A text over columns `first`..`last` of `row` (the merged cells are left empty, as Excel has them)."""
    from openpyxl.worksheet.cell_range import CellRange  # heavy: openpyxl

    cell = _put(ws, row, first, value, **attrs)
    if last > first:  # what ws.merge_cells does, without making every covered cell a MergedCell (slow)
        ws.merged_cells.add(CellRange(min_col=first, min_row=row, max_col=last, max_row=row))
    return cell


def _styles(book: Any) -> None:
    """The named styles of a list's table, registered once per workbook."""
    from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side  # heavy: openpyxl

    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    book.add_named_style(NamedStyle(name=HEAD, font=Font(bold=True), border=box,
                                    fill=PatternFill("solid", fgColor="E7E6E6"),
                                    alignment=Alignment(horizontal="center", vertical="center", wrap_text=True)))
    centre = dict(horizontal="center", vertical="center", wrap_text=True)
    for name, font in ((TITLE, Font(bold=True, size=14)), (SUBTITLE, Font(bold=True, size=12)),
                       (BOLD, Font(bold=True)), (ITALIC, Font(italic=True)), (PLAIN, Font()),
                       (MOTTO, Font(bold=True, underline="single"))):
        book.add_named_style(NamedStyle(name=name, font=font, alignment=Alignment(**centre)))
    book.add_named_style(NamedStyle(name=CELL, border=box, alignment=Alignment(vertical="top", wrap_text=True)))
    book.add_named_style(NamedStyle(name=CELL_CENTRE, border=box,
                                    alignment=Alignment(horizontal="center", vertical="top", wrap_text=True)))


HEAD, CELL, CELL_CENTRE = "tieuchi_head", "tieuchi_cell", "tieuchi_cell_centre"
TITLE, SUBTITLE, BOLD, ITALIC, PLAIN, MOTTO = (f"tieuchi_{k}" for k in ("title", "subtitle", "bold", "italic",
                                                                       "plain", "motto"))  # centred


def _print_setup(ws: Any, landscape: bool, title_row: int | None, footer_left: str, lang: str) -> None:
    """A4, fit to the page's width, the table's header repeated on every page, margins, page numbers."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = 0.6
    ws.page_margins.bottom = 0.7
    ws.page_margins.footer = 0.3
    if title_row is not None:
        ws.print_title_rows = f"{title_row}:{title_row}"
    ws.oddFooter.left.text = footer_left.replace("&", "&&")  # & starts a header/footer code
    ws.oddFooter.left.size = 9
    ws.oddFooter.right.text = text(T, "page", lang)
    ws.oddFooter.right.size = 9


def _heading(ws: Any, posting: Posting, commune: CommunePosting, n: int, village: str | None) -> int:
    """The authority (left) and the national motto (right) in rows 1-2 over `n` columns; the next free row."""

    lang = posting.lang
    # the authority's block spans at least 3 columns: over STT and Mã hộ alone (narrow), "ỦY BAN NHÂN DÂN" wraps
    # onto the commune's name in LibreOffice
    left = min(max(round(n * 0.4), 3), n - 1) if n > 2 else 1
    _merged(ws, 1, 1, left, text(T, "authority", lang), style=BOLD)
    _merged(ws, 2, 1, left, commune.shown(lang).upper(), style=BOLD)
    _merged(ws, 1, left + 1, n, text(T, "nation", lang), style=BOLD)
    _merged(ws, 2, left + 1, n, text(T, "motto", lang), style=MOTTO)
    if village is not None:
        _merged(ws, 3, 1, left, text(T, "village_of", lang, village=village), style=ITALIC)
    return 5


def _list_sheet(ws: Any, posting: Posting, commune: CommunePosting, item: ItemPosting, vl: VillageList) -> None:
    from openpyxl.styles import Alignment  # heavy: openpyxl
    from openpyxl.utils import get_column_letter  # heavy: openpyxl

    lang = posting.lang
    cols = _columns(item, posting.show_names, lang)
    n = len(cols)
    village = _village(vl.village, lang)
    r = _heading(ws, posting, commune, n, village)
    _merged(ws, r, 1, n, text(T, f"title_{item.unit}", lang), style=TITLE)
    _merged(ws, r + 1, 1, n, item.label, style=SUBTITLE)
    if posting.program_label:
        _merged(ws, r + 2, 1, n, f"({posting.program_label})", style=ITALIC)
    _merged(ws, r + 3, 1, n, text(T, "where", lang, village=village, commune=commune.shown(lang),
                                  day=_day(posting.reference_date, lang)), style=PLAIN)
    head = r + 5
    for j, (_, header, width) in enumerate(cols, start=1):
        _put(ws, head, j, header, HEAD)
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.row_dimensions[head].height = 32  # two lines ("Thành viên số")
    rows = vl.rows
    data = [rows[c].astype(object).where(rows[c].notna(), None).to_numpy() if c in rows.columns
            else np.full(len(rows), None, dtype=object) for c, _, _ in cols]
    styles = [CELL_CENTRE if c in ("stt", "household_id", "member_no") else CELL for c, _, _ in cols]
    for k in range(len(rows)):
        for j in range(n):
            _put(ws, head + 1 + k, j + 1, data[j][k], styles[j])
    for k, height in enumerate(row_heights(data, [width for _, _, width in cols])):
        ws.row_dimensions[head + 1 + k].height = height
    end = head + len(rows)
    if not len(rows):
        end += 1
        _merged(ws, end, 1, n, text(T, f"nobody_{item.unit}", lang), style=ITALIC)
    _merged(ws, end + 1, 1, n, text(T, f"total_{item.unit}", lang, n=_number(len(rows), lang)),
            style=BOLD, alignment=Alignment(horizontal="left"))
    _signatures(ws, posting, commune, vl.village, n, end + 3)
    ws.freeze_panes = ws.cell(row=head + 1, column=1)
    _print_setup(ws, True, head, f"{commune.shown(lang)} – {village}", lang)


def row_heights(data: list[np.ndarray], widths: list[float]) -> np.ndarray:
    """Row heights (points) that show every wrapped line: Excel and LibreOffice do not grow a row written by
    openpyxl to fit its wrapped text, so the lines are estimated from each text's length and its column's width."""
    if not data or not len(data[0]):
        return np.array([], dtype=float)
    lines = np.ones(len(data[0]), dtype=np.int64)
    for col, width in zip(data, widths):
        length = pd.Series(col, dtype="object").map(lambda v: len(v) if isinstance(v, str) else 0).to_numpy()
        lines = np.maximum(lines, -(-length // max(int(width * 1.05) - 2, 1)))
    return 15.0 * lines + 2


def _signatures(ws: Any, posting: Posting, commune: CommunePosting, village: str | None, n: int, row: int) -> None:
    """The place and date line (right) and three signature columns, with room to sign."""

    lang = posting.lang
    blocks = [b for b in np.array_split(np.arange(1, n + 1), 3) if len(b)]
    _merged(ws, row, int(blocks[-1][0]) if len(blocks) > 1 else 1, n,
            text(T, "place_date", lang, place=_place(commune, lang)), style=ITALIC)
    who = [(text(T, "prepared", lang), "", text(T, "sign", lang)),
           (_village_head(village, lang), "", text(T, "sign", lang)),
           (text(T, "committee", lang), text(T, "chair", lang), text(T, "sign_seal", lang))]
    for b, (title, under, how) in zip(blocks, who):
        first, last = int(b[0]), int(b[-1])
        _merged(ws, row + 1, first, last, title, style=BOLD)
        if under:
            _merged(ws, row + 2, first, last, under, style=BOLD)
        _merged(ws, row + 3, first, last, how, style=ITALIC)
    for k in range(row + 4, row + 9):  # room to sign
        ws.row_dimensions[k].height = 18


def _toc_sheet(ws: Any, posting: Posting, commune: CommunePosting, item: ItemPosting, names: list[str]) -> None:
    from openpyxl.styles import Alignment, Font  # heavy: openpyxl
    from openpyxl.utils import get_column_letter  # heavy: openpyxl
    from openpyxl.worksheet.hyperlink import Hyperlink  # heavy: openpyxl

    lang = posting.lang
    n = 5
    r = _heading(ws, posting, commune, n, None)
    _merged(ws, r, 1, n, text(T, "toc_title", lang), style=TITLE)
    _merged(ws, r + 1, 1, n, item.label, style=SUBTITLE)
    _merged(ws, r + 2, 1, n, f"{commune.shown(lang)} — {_day(posting.reference_date, lang)}", style=PLAIN)
    head = r + 4
    unit = text(T, f"unit_{item.unit}", lang)
    headers = [(text(T, "stt", lang), 6), (text(T, "village", lang), 30),
               (f"{text(T, 'eligible', lang)} ({unit})", 16), (f"{text(T, 'undecided', lang)} ({unit})", 16),
               (text(T, "sheet", lang), 30)]
    for j, (h, width) in enumerate(headers, start=1):
        _put(ws, head, j, h, HEAD)
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.row_dimensions[head].height = 32
    for k, (vl, name) in enumerate(zip(item.villages, names), start=1):
        row = head + k
        _put(ws, row, 1, k, CELL_CENTRE)
        _put(ws, row, 2, _village(vl.village, lang), CELL)
        _put(ws, row, 3, vl.eligible, CELL)
        _put(ws, row, 4, vl.undecided, CELL)
        link = _put(ws, row, 5, name, CELL, font=Font(color="0563C1", underline="single"))
        link.hyperlink = Hyperlink(ref=link.coordinate, location="'" + name.replace("'", "''") + "'!A1")
    total = head + len(item.villages) + 1
    _put(ws, total, 2, text(T, f"total_{item.unit}", lang, n=_number(sum(v.eligible for v in item.villages), lang)),
         style=BOLD, alignment=Alignment(horizontal="left"))
    _merged(ws, total + 1, 1, n, text(T, "undecided_note", lang), font=Font(italic=True),
            alignment=Alignment(wrap_text=True, vertical="top"))
    ws.row_dimensions[total + 1].height = 30
    ws.freeze_panes = ws.cell(row=head + 1, column=1)
    _print_setup(ws, False, head, commune.shown(lang), lang)


def _number(n: int, lang: str) -> str:
    s = f"{n:,}"
    return s.replace(",", ".") if lang == "vi" else s


# --------------------------------------------------------------------------------------------------------------
# HTML: one page per list, printed A4 landscape

_CSS = """
@page { size: A4 landscape; margin: 12mm 12mm 14mm 12mm;
  @bottom-right { content: "%(page)s" counter(page) "%(of)s" counter(pages); font-size: 9pt; } }
* { box-sizing: border-box; }
body { font-family: "Times New Roman", "Liberation Serif", "DejaVu Serif", serif; font-size: 12pt; color: #000;
  margin: 0; }
.sheet { padding: 0 0.3mm; }
.list, .contents { break-before: page; page-break-before: always; }
.contents:first-child { break-before: auto; page-break-before: auto; }
.heading { display: flex; justify-content: space-between; text-align: center; font-weight: bold; padding-top: 2mm;
  line-height: 1.3; font-size: 11pt; }
.heading > div { width: 48%%; }
.heading .motto { text-decoration: underline; }
.heading .village { font-weight: normal; font-style: italic; }
h1 { font-size: 13pt; text-align: center; margin: 3mm 0 0.5mm; }
h2 { font-size: 12pt; text-align: center; margin: 0 0 0.5mm; }
p.program { text-align: center; font-style: italic; margin: 0 0 0.5mm; }
p.where { text-align: center; margin: 0 0 2mm; }
table { border-collapse: collapse; width: 100%%; font-size: 11pt; }
table.rows { table-layout: fixed; }
th, td { border: 1px solid #000; padding: 0.8mm 1.5mm; vertical-align: top; text-align: left; }
th { background: #e7e6e6; text-align: center; vertical-align: middle; }
td.n { text-align: center; white-space: nowrap; }
td.v { white-space: nowrap; }
.contents table { font-size: 10.5pt; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
p.total { font-weight: bold; margin: 2mm 0; }
p.nobody { font-style: italic; }
.signatures { break-inside: avoid; page-break-inside: avoid; margin-top: 2mm; }
.signatures .date { text-align: right; font-style: italic; margin: 0 6%% 1mm 0; }
.signatures .cols { display: flex; justify-content: space-between; text-align: center; }
.signatures .cols > div { width: 32%%; }
.signatures .who { font-weight: bold; min-height: 2.7em; }
.signatures .how { font-style: italic; }
.signatures .room { height: 16mm; }
.contents td, .contents th { padding: 1mm 2mm; }
a { color: #0563c1; }
@media screen {
  body { background: #ddd; }
  .sheet { max-width: 297mm; margin: 6mm auto; }
  .list, .contents { background: #fff; padding: 12mm; margin-bottom: 6mm; box-shadow: 0 1px 4px #888; }
  body.wide .sheet { max-width: none; margin: 6mm; }
}
"""


def _e(value: Any) -> str:
    """Data as HTML text: escaped (a name "<script>" stays text); missing is empty."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True)


def _page(title: str, lang: str, body: str, wide: bool = False) -> str:
    css = _CSS % {"page": text(T, "page_css", lang), "of": text(T, "of_css", lang)}
    klass = ' class="wide"' if wide else ""
    return (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n<title>{_e(title)}</title>\n'
            f"<style>{css}</style>\n</head>\n<body{klass}>\n<div class=\"sheet\">\n{body}</div>\n</body>\n</html>\n")


def _anchor(v: int, item: str | None = None) -> str:
    return f"v{v}" + (f"-{item}" if item else "")


def commune_html(posting: Posting, commune: CommunePosting) -> str:
    """One commune's lists to print: a contents page, then one section per village holding one page per item that
    has someone on it (an empty list is only counted in the contents)."""
    lang = posting.lang
    day = _day(posting.reference_date, lang)
    parts = [_contents(posting, commune)]
    for v, village in enumerate(commune.villages):
        parts.append(f'<section class="village" id="{_anchor(v)}" data-village="{_e(_village(village, lang))}">\n')
        for item in commune.items:
            vl = item.villages[v]
            if len(vl.rows):
                parts.append(_list_html(posting, commune, item, vl, v, day))
        parts.append("</section>\n")
    title = f"{text(T, 'index_title', lang)} — {commune.shown(lang)}"
    return _page(title, lang, "".join(parts))


def _heading_html(posting: Posting, commune: CommunePosting, village: str | None) -> str:
    lang = posting.lang
    sub = f'<div class="village">{_e(text(T, "village_of", lang, village=village))}</div>' if village else ""
    return (f'<div class="heading"><div>{_e(text(T, "authority", lang))}<br>{_e(commune.shown(lang).upper())}{sub}'
            f'</div><div>{_e(text(T, "nation", lang))}<br><span class="motto">{_e(text(T, "motto", lang))}</span>'
            "</div></div>\n")


def _contents(posting: Posting, commune: CommunePosting) -> str:
    lang = posting.lang
    rows = []
    for v, village in enumerate(commune.villages):
        cells = []
        for item in commune.items:
            vl = item.villages[v]
            n = _number(vl.eligible, lang)
            cells.append(f'<td class="n"><a href="#{_anchor(v, item.item)}">{n}</a></td>' if len(vl.rows)
                         else f'<td class="n">{n}</td>')
        rows.append(f'<tr><td class="n">{v + 1}</td><td class="v">{_e(_village(village, lang))}</td>'
                    f'{"".join(cells)}</tr>')
    heads = "".join(f"<th>{_e(i.label)} ({_e(text(T, 'unit_' + i.unit, lang))})</th>" for i in commune.items)
    files = " · ".join(f'<a href="{quote(i.item)}.xlsx">{_e(i.item)}.xlsx</a>' for i in commune.items)
    return (f'<section class="contents">\n{_heading_html(posting, commune, None)}'
            f"<h1>{_e(text(T, 'toc_title', lang))}</h1>\n<p class=\"where\">{_e(commune.shown(lang))} — "
            f"{_e(_day(posting.reference_date, lang))}</p>\n"
            f"<table><thead><tr><th>{_e(text(T, 'stt', lang))}</th><th>{_e(text(T, 'village', lang))}</th>{heads}"
            f"</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody></table>\n"
            f"<p>{_e(text(T, 'files', lang))}: {files}</p>\n</section>\n")


def _list_html(posting: Posting, commune: CommunePosting, item: ItemPosting, vl: VillageList, v: int,
               day: str) -> str:
    lang = posting.lang
    cols = _columns(item, posting.show_names, lang)
    village = _village(vl.village, lang)
    head = "".join(f"<th>{_e(h)}</th>" for _, h, _ in cols)
    total_width = sum(width for _, _, width in cols)
    widths = "".join(f'<col style="width:{100 * width / total_width:.1f}%">' for _, _, width in cols)
    rows = vl.rows
    data = [rows[c].to_numpy(dtype=object, na_value=None) if c in rows.columns
            else np.full(len(rows), None, dtype=object) for c, _, _ in cols]
    centred = {"stt", "household_id", "member_no"}
    klass = ['class="n"' if c in centred else "" for c, _, _ in cols]
    body = "\n".join("<tr>" + "".join(f"<td {klass[j]}>{_e(data[j][k])}</td>" for j in range(len(cols))) + "</tr>"
                     for k in range(len(rows)))
    program = f'<p class="program">({_e(posting.program_label)})</p>\n' if posting.program_label else ""
    who = [(text(T, "prepared", lang), "", text(T, "sign", lang)),
           (_village_head(vl.village, lang), "", text(T, "sign", lang)),
           (text(T, "committee", lang), text(T, "chair", lang), text(T, "sign_seal", lang))]
    signs = "".join(f'<div><div class="who">{_e(a)}{"<br>" + _e(b) if b else ""}</div><div class="how">{_e(c)}'
                    '</div><div class="room"></div></div>' for a, b, c in who)
    return (f'<article class="list" id="{_anchor(v, item.item)}">\n{_heading_html(posting, commune, village)}'
            f"<h1>{_e(text(T, 'title_' + item.unit, lang))}</h1>\n<h2>{_e(item.label)}</h2>\n{program}"
            f"<p class=\"where\">{_e(text(T, 'where', lang, village=village, commune=commune.shown(lang), day=day))}"
            f"</p>\n<table class=\"rows\"><colgroup>{widths}</colgroup><thead><tr>{head}</tr></thead>\n"
            f"<tbody>\n{body}\n</tbody></table>\n"
            f"<p class=\"total\">{_e(text(T, 'total_' + item.unit, lang, n=_number(len(rows), lang)))}</p>\n"
            f'<div class="signatures"><p class="date">'
            f"{_e(text(T, 'place_date', lang, place=_place(commune, lang)))}</p>"
            f'<div class="cols">{signs}</div></div>\n</article>\n')


def index_html(posting: Posting, with_pdf: set[str] | frozenset[str] = frozenset()) -> str:
    """The index of every commune: its villages, its eligible count per item, links to its files (to its PDF for
    the communes of `with_pdf`)."""
    lang = posting.lang
    items = posting.communes[0].items if posting.communes else []
    heads = "".join(f"<th>{_e(i.label)} ({_e(text(T, 'unit_' + i.unit, lang))})</th>" for i in items)
    rows = []
    for k, c in enumerate(posting.communes, start=1):
        folder = quote(folder_name(c))
        counts = "".join(f'<td class="n"><a href="{folder}/{quote(i.item)}.xlsx">'
                         f"{_number(sum(v.eligible for v in i.villages), lang)}</a></td>" for i in c.items)
        pdf = f' · <a href="{folder}/{PDF_NAME}">{PDF_NAME}</a>' if c.code in with_pdf else ""
        rows.append(f'<tr><td class="n">{k}</td><td>{_e(c.code)}</td><td>{_e(c.shown(lang))}</td>'
                    f'<td class="n">{len(c.villages)}</td>{counts}'
                    f'<td><a href="{folder}/{HTML_NAME}">{HTML_NAME}</a>{pdf}</td></tr>')
    day = _day(posting.reference_date, lang)
    program = f'<p class="program">({_e(posting.program_label)})</p>\n' if posting.program_label else ""
    body = (f'<section class="contents">\n<h1>{_e(text(T, "index_title", lang))}</h1>\n{program}'
            f"<p>{_e(text(T, 'index_intro', lang, day=day, html=HTML_NAME, pdf=PDF_NAME))}</p>\n"
            f"<table><thead><tr><th>{_e(text(T, 'stt', lang))}</th><th>{_e(text(T, 'code', lang))}</th>"
            f"<th>{_e(text(T, 'commune', lang))}</th><th>{_e(text(T, 'villages', lang))}</th>{heads}"
            f"<th>{_e(text(T, 'print', lang))}</th></tr></thead>\n<tbody>\n" + "\n".join(rows) +
            f"\n</tbody></table>\n<p>{_e(text(T, 'undecided_note', lang))}</p>\n</section>\n")
    return _page(text(T, "index_title", lang), lang, body, wide=True)
