"""What each reject problem code means, and what to do about it — in Vietnamese and English."""
from __future__ import annotations

from tieuchi.i18n import DEFAULT, table, text

PROBLEM_TEXT = table(
    vi={
        "required": "Ô bắt buộc đang để trống: hãy điền giá trị.",
        "invalid_code": "Giá trị không nằm trong danh mục: chọn một giá trị trong danh sách (xem trang 'Hướng dẫn').",
        "invalid_bool": "Giá trị không phải Có/Không: ghi Có hoặc Không (hoặc true/false, 1/0), để trống nếu chưa "
                        "biết.",
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
        "invalid_code": "The value is not one of the allowed codes: use a listed value (see the 'Hướng dẫn' sheet).",
        "invalid_bool": "Not a yes/no value: write Có/Không, true/false, yes/no or 1/0; leave empty when unknown.",
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
        "household_id_blank": "The member's household id (Mã hộ) is empty: write the id on every member row (in "
                              "Excel, one merged Mã hộ cell over the household's rows is read too). The row is taken "
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
UNKNOWN = table(vi={"unknown": "Lỗi '{code}'."}, en={"unknown": "Problem '{code}'."})  # a code not listed above


def problem_text(code: str, lang: str = "vi") -> str:
    """A sentence saying what a problem code means and what to do; `lang` is "vi" or "en"."""
    if code not in PROBLEM_TEXT[DEFAULT]:
        return text(UNKNOWN, "unknown", lang, code=code)
    return text(PROBLEM_TEXT, code, lang)
