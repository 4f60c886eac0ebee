"""What each reject problem code means, and what to do about it — in Vietnamese and English — and the one message a
reject row shows (`reject_message`): the column named by its header as the user wrote it, what is wrong, and what to
write instead — for a code or yes/no column the allowed values as the user would type them (vi: the Vietnamese labels
of columns.yaml, "Nam, Nữ"; en: the codes, "male, female"), for a number its bounds. One language per message.

Messages depend on (problem, table, column, header) only, never on a row: a caller renders each distinct one once
and maps it onto the rows (`tieuchi.contract.write.messages`).
"""
from __future__ import annotations

from tieuchi.contract.columns import ColumnSpec, column_table, columns
from tieuchi.i18n import DEFAULT, table, text

PROBLEM_TEXT = table(
    vi={
        "required": "Ô bắt buộc đang để trống: hãy điền giá trị.",
        "invalid_code": "Giá trị không nằm trong danh mục: chọn một giá trị trong danh sách (danh sách chọn có "
                        "trong mẫu nhập liệu: `tieuchi template`).",
        "invalid_bool": "Giá trị không phải Có/Không: ghi Có hoặc Không (hoặc 1/0), để trống nếu chưa biết.",
        "invalid_number": "Không phải là số hợp lệ: ghi số, ví dụ 1500000 hoặc 1.500.000.",
        "invalid_date": "Ngày không hợp lệ: ghi theo dạng DD/MM/YYYY hoặc YYYY-MM-DD.",
        "invalid_id": "Mã không hợp lệ: mã phải là chữ hoặc số nguyên.",
        "out_of_range": "Giá trị nằm ngoài khoảng cho phép (ví dụ số âm, STT nhỏ hơn 1, năm sinh hoặc ngày sinh trước "
                        "năm 1900, năm sinh sau năm tham chiếu): kiểm tra lại.",
        "duplicate_household_id": "Mã hộ bị trùng: mỗi hộ phải có một mã riêng; sửa mã hoặc xóa dòng thừa.",
        "household_id_in_several_files": "Mã hộ này có ở nhiều tệp (cột Giá trị ghi tên các tệp có mã này): mỗi hộ "
                                         "chỉ được khai ở một tệp; xóa hộ ở tệp thừa hoặc sửa lại mã.",
        "duplicate_member_no": "STT thành viên bị trùng trong cùng một hộ: đánh số lại thành viên.",
        "duplicate_commune_code": "Mã xã bị trùng trong bảng xã: giữ một dòng cho mỗi xã.",
        "no_members": "Hộ không có thành viên nào: thêm các thành viên của hộ vào bảng thành viên.",
        "unknown_household": "Mã hộ của thành viên không có trong bảng hộ: sửa mã hộ hoặc thêm hộ.",
        "household_rejected": "Thành viên không lỗi nhưng hộ của họ bị loại: sửa các lỗi khác của hộ này.",
        "member_rejected": "Hộ bị loại vì có thành viên bị lỗi: sửa dòng thành viên bị lỗi.",
        "birth_mismatch": "Ngày sinh và năm sinh không khớp nhau: sửa một trong hai hoặc bỏ năm sinh.",
        "dwelling_mismatch": "Ghi \"không có nhà ở\" nhưng lại có diện tích nhà ở lớn hơn 0: sửa một trong hai (hộ có "
                             "nhà thì ghi Có nhà ở; hộ không có nhà thì để trống hoặc ghi 0 ở diện tích).",
        "birth_in_future": "Ngày sinh sau ngày tham chiếu: kiểm tra lại ngày sinh.",
        "household_id_blank": "Ô Mã hộ của thành viên để trống: ghi mã hộ trên mọi dòng thành viên (trong Excel, một "
                              "ô Mã hộ gộp cho cả hộ cũng được đọc). Dòng này được coi là thành viên của hộ ở dòng "
                              "trên, nên hộ đó cũng bị loại cho đến khi sửa.",
        "too_many_fields": "Dòng có nhiều ô hơn dòng tiêu đề (cột giá trị: số ô của dòng > số cột), thường do dấu "
                           "phẩy trong một ô không đặt trong ngoặc kép: sửa dòng này; hộ của dòng cũng bị loại.",
        "invalid_json": "Dòng JSON không đọc được: mỗi dòng phải là một đối tượng hộ có danh sách \"members\".",
        "internal_error": "tieuchi không đánh giá được hộ này do lỗi của chương trình (không phải lỗi dữ liệu): các "
                          "hộ khác vẫn được phân loại; vui lòng báo lại kèm dòng dữ liệu này (đã bỏ họ tên).",
    },
    en={
        "required": "A required cell is empty: fill it in.",
        "invalid_code": "The value is not one of the allowed codes: use a listed value (the data-entry template, "
                        "`tieuchi template`, lists them).",
        "invalid_bool": "Not a yes/no value: write true or false (yes/no and 1/0 are read too); leave empty when "
                        "unknown.",
        "invalid_number": "Not a valid number: write a number such as 1500000 or 1.500.000.",
        "invalid_date": "Not a valid date: write it as DD/MM/YYYY or YYYY-MM-DD.",
        "invalid_id": "Invalid id: an id must be text or a whole number.",
        "out_of_range": "The value is out of range (e.g. negative, member number below 1, birth year or birth date "
                        "before 1900, birth year after the reference year): check it.",
        "duplicate_household_id": "The household id is duplicated: give each household its own id or remove the extra "
                                  "row.",
        "household_id_in_several_files": "The household id is in several files (the value column names the files "
                                         "that have it): a household belongs in one file only; remove it from the "
                                         "extra file or correct the id.",
        "duplicate_member_no": "The member number appears twice in the household: renumber the members.",
        "duplicate_commune_code": "The commune code appears twice in the communes table: keep one row per commune.",
        "no_members": "The household has no members: add its members to the members table.",
        "unknown_household": "The member's household id is not in the households table: fix the id or add the "
                             "household.",
        "household_rejected": "This member has no problem of its own, but its household was rejected: fix the "
                              "household's other problems.",
        "member_rejected": "The household was rejected because one of its members was: fix that member's row.",
        "birth_mismatch": "Birth date and birth year disagree: correct one of them or leave the year empty.",
        "dwelling_mismatch": "The household is recorded as having no dwelling but with a floor area above 0: correct "
                             "one of them (a household with a dwelling answers yes; one without leaves the area empty "
                             "or 0).",
        "birth_in_future": "The birth date is after the reference date: check it.",
        "household_id_blank": "The member's household id is empty: write the id on every member row (in Excel, one "
                              "merged household id cell over the household's rows is read too). The row is taken "
                              "as a member of the household above it, so that household is rejected too until it is "
                              "fixed.",
        "too_many_fields": "The row has more cells than the header (value: its cells > the columns), usually a comma "
                           "in a cell that is not inside quotes: fix the row; its household is rejected too.",
        "invalid_json": "The JSON line could not be read: each line must be one household object with a \"members\" "
                        "list.",
        "internal_error": "tieuchi could not evaluate this household because of a defect in the program (not in the "
                          "data); the other households were classified. Please report it with this row (names "
                          "removed).",
    },
)
PROBLEMS = tuple(PROBLEM_TEXT[DEFAULT])  # every problem code a reject may carry
# the rows rejected only because another row was: what the user fixes is that other row (the "root" problem)
CONSEQUENCES = ("household_rejected", "member_rejected")
UNKNOWN = table(vi={"unknown": "Lỗi '{code}'."}, en={"unknown": "Problem '{code}'."})  # a code not listed above


def problem_text(code: str, lang: str = "vi") -> str:
    """A sentence saying what a problem code means and what to do; `lang` is "vi" or "en"."""
    if code not in PROBLEM_TEXT[DEFAULT]:
        return text(UNKNOWN, "unknown", lang, code=code)
    return text(PROBLEM_TEXT, code, lang)


# ----------------------------------------------------------------------------------------------------------------
# a reject row's message: its column as written, then what is wrong with the cell and what to write

WHERE = table(
    vi={
        "column": "Cột '{header}'",
        "column_label": "Cột '{header}' ({label})",  # the header as written is not the Vietnamese header
        "one_of": "Cột {names}",
        "or": " hoặc ",
    },
    en={
        "column": "Column '{header}'",
        "column_label": "Column '{header}' ({label})",  # the header as written is not the canonical name
        "one_of": "Column {names}",
        "or": " or ",
    },
)
CELL_TEXT = table(
    vi={
        "invalid_code": "Giá trị không nằm trong danh mục: ghi một trong: {allowed}.",
        "invalid_codes": "Có giá trị không nằm trong danh mục: ghi một hoặc nhiều giá trị, cách nhau bằng dấu ;, "
                         "trong: {allowed}.",
        "invalid_bool": "Giá trị không phải Có/Không: ghi {yes} hoặc {no} (hoặc 1/0), để trống nếu chưa biết.",
        "invalid_int": "Không phải là số nguyên hợp lệ: ghi số nguyên, ví dụ 1500000 hoặc 1.500.000.",
        "required_one_of": "Cả hai ô đều trống: điền một trong hai.",
        "at_least": "Giá trị nhỏ hơn {min}: ghi số từ {min} trở lên.",
        "between": "Giá trị nằm ngoài khoảng cho phép: ghi số từ {min} đến {max}.",
        "year": "Năm sinh nằm ngoài khoảng cho phép: ghi năm từ {min} đến năm tham chiếu.",
        "date_from": "Ngày sinh trước năm {min}: kiểm tra lại.",
    },
    en={
        "invalid_code": "The value is not one of the allowed codes: write one of: {allowed}.",
        "invalid_codes": "A value is not one of the allowed codes: write one or more of {allowed}, separated by ';'.",
        "invalid_bool": "Not a yes/no value: write {yes} or {no} (yes/no and 1/0 are read too); leave empty when "
                        "unknown.",
        "invalid_int": "Not a valid whole number: write a whole number such as 1500000 or 1.500.000.",
        "required_one_of": "Both cells are empty: fill in one of them.",
        "at_least": "The value is below {min}: write a number of at least {min}.",
        "between": "The value is out of range: write a number from {min} to {max}.",
        "year": "The birth year is out of range: write a year from {min} to the reference year.",
        "date_from": "The birth date is before {min}: check it.",
    },
)
BOOL_EN = ("true", "false")  # what an English message asks for; the Vietnamese labels are columns.yaml's


def table_label(table_name: str, lang: str = "vi") -> str:
    """A survey table as a message names it: in Vietnamese its sheet name of columns.yaml ("Hộ", "Thành viên", "Xã"),
    in English its name ("households"); anything else as it is."""
    names = column_table().sheet_names.get(table_name)
    if lang == "vi" and names and len(names) > 1:
        return names[1]
    return table_name


def _spec(table_name: str | None, column: str | None) -> ColumnSpec | None:
    if table_name not in ("households", "members", "communes") or not isinstance(column, str):
        return None
    return columns(table_name).get(column)


def allowed_values(spec: ColumnSpec, lang: str = "vi") -> list[str]:
    """The values of a code or yes/no column as a user would type them: in Vietnamese the labels of columns.yaml
    ("Nam", "Nữ"; "Có", "Không"), in English the codes ("male", "female"; "true", "false"). Both are read."""
    if spec.type == "bool":
        return list(column_table().bool_labels) if lang == "vi" else list(BOOL_EN)
    return [spec.labels[c] for c in spec.codes] if lang == "vi" else list(spec.codes)


def column_phrase(table_name: str | None, column: str | None, lang: str = "vi", header: str | None = None,
                  problem: str | None = None) -> str:
    """"Cột 'sex' (Giới tính)" / "Column 'Giới tính' (sex)": the column by its header as the user wrote it
    (`header`; the canonical name when not known), with the name the reader's language knows it by when that is
    another (vi: the Vietnamese header; en: the canonical name). '' when the reject has no column."""
    spec = _spec(table_name, column)
    if not isinstance(column, str) or not column:
        return ""
    if spec is not None and spec.one_of and problem == "required":  # the group: one of them must be filled
        group = [s for s in columns(spec.table).values() if s.one_of == spec.one_of]
        names = text(WHERE, "or", lang).join(f"'{s.header if lang == 'vi' else s.name}'" for s in group)
        return text(WHERE, "one_of", lang, names=names)
    written = header if isinstance(header, str) and header else column
    label = (spec.header if lang == "vi" else spec.name) if spec is not None else written
    if label == written:
        return text(WHERE, "column", lang, header=written)
    return text(WHERE, "column_label", lang, header=written, label=label)


def _number(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def cell_text(code: str, lang: str = "vi", table_name: str | None = None, column: str | None = None) -> str:
    """What is wrong with a cell of `column` and what to write there: the allowed values of a code or yes/no column,
    the bounds of a number; else the problem's own sentence (`problem_text`)."""
    spec = _spec(table_name, column)
    if spec is not None:
        if code == "invalid_code" and spec.type in ("code", "codes"):
            key = "invalid_codes" if spec.type == "codes" else "invalid_code"
            return text(CELL_TEXT, key, lang, allowed=", ".join(allowed_values(spec, lang)))
        if code == "invalid_bool" and spec.type == "bool":
            yes, no = allowed_values(spec, lang)
            return text(CELL_TEXT, "invalid_bool", lang, yes=yes, no=no)
        if code == "invalid_number" and spec.type == "int":
            return text(CELL_TEXT, "invalid_int", lang)
        if code == "required" and spec.one_of:
            return text(CELL_TEXT, "required_one_of", lang)
        if code == "out_of_range":
            if spec.name == "birth_year" and spec.min is not None:
                return text(CELL_TEXT, "year", lang, min=_number(spec.min))
            if spec.type == "date" and spec.one_of:  # birth_date: the same lower bound as birth_year's
                low = next((s.min for s in columns(spec.table).values() if s.one_of == spec.one_of and s.min), None)
                if low is not None:
                    return text(CELL_TEXT, "date_from", lang, min=_number(low))
            elif spec.min is not None and spec.max is not None:
                return text(CELL_TEXT, "between", lang, min=_number(spec.min), max=_number(spec.max))
            elif spec.min is not None:
                return text(CELL_TEXT, "at_least", lang, min=_number(spec.min))
    return problem_text(code, lang)


def reject_message(code: str, lang: str = "vi", table_name: str | None = None, column: str | None = None,
                   header: str | None = None) -> str:
    """The message of a reject row in `lang`: "Cột 'sex' (Giới tính): giá trị không nằm trong danh mục: ghi một
    trong: Nam, Nữ." — the column as the user wrote it (`header`), then `cell_text`. Without a column (a whole row's
    problem), the problem's own sentence."""
    where = column_phrase(table_name, column, lang, header, code)
    said = cell_text(code, lang, table_name, column)
    if not where:
        return said
    if len(said) > 1 and not said[1].isupper():  # "Giá trị …" → "giá trị …"; "STT …", "JSON …" stay
        said = said[0].lower() + said[1:]
    return f"{where}: {said}"
