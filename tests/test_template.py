"""The data-entry template: Vietnamese headers, drop-downs from the alias table, and it always reads back."""
from __future__ import annotations

from openpyxl import load_workbook

from tieuchi.contract.columns import column_table, columns
from tieuchi.contract.read import read_survey
from tieuchi.contract.template import GUIDE_SHEET, labels, write_template
from tieuchi.contract.validate import normalize_survey


def fill(ws, rows: list[dict]):
    headers = [c.value for c in ws[1]]
    for r, row in enumerate(rows, start=2):
        for name, value in row.items():
            ws.cell(row=r, column=headers.index(columns(ws.title)[name].header) + 1, value=value)


def test_the_template_has_vietnamese_headers_drop_downs_and_a_guide(tmp_path):
    path = write_template(tmp_path / "mau.xlsx")
    wb = load_workbook(path)
    assert {"households", "members", "communes", GUIDE_SHEET} <= set(wb.sheetnames)
    assert [c.value for c in wb["members"][1]][:4] == ["Mã hộ", "STT", "Họ và tên", "Giới tính"]
    n_lists = sum(1 for s in columns("households").values() if s.type in ("code", "codes", "bool"))
    assert len(wb["households"].data_validations.dataValidation) == n_lists
    guide = [r for r in wb[GUIDE_SHEET].iter_rows(min_row=2, values_only=True)]
    assert len(guide) == sum(len(columns(t)) for t in ("households", "members", "communes"))
    assert any(r[2] == "water_source" and "Nước máy (piped)" in r[5] for r in guide)


def test_a_filled_in_template_using_the_drop_down_labels_reads_back_with_zero_rejects(tmp_path):
    path = write_template(tmp_path / "mau.xlsx")
    wb = load_workbook(path)
    yes, no = column_table().bool_labels
    hh_specs = columns("households")
    every_label = {n: labels(s) for n, s in hh_specs.items() if s.type in ("code", "bool")}
    rows = []
    for i in range(3):  # every row picks a different drop-down value in every list
        row = {n: v[i % len(v)] for n, v in every_label.items()}
        row.update(household_id=f"00{i}", commune_code="X01", commune_name="Xã Phúc Hòa", village="Thôn Đông",
                   income_per_capita_month="1.500.000", floor_area_m2=32.5, info_devices="Ti vi; Điện thoại thông minh",
                   independent_since="15/03/2010")
        if row["has_dwelling"] == no:
            row["floor_area_m2"] = None  # no dwelling, no floor area (both would be refused as a contradiction)
        rows.append(row)
    fill(wb["households"], rows)
    mem_labels = {n: labels(s) for n, s in columns("members").items() if s.type in ("code", "bool")}
    members = []
    for i in range(3):
        for no_ in (1, 2):
            m = {n: v[(i + no_) % len(v)] for n, v in mem_labels.items()}
            m.update(household_id=f"00{i}", member_no=no_, full_name="Nguyễn Văn A", birth_date="01/02/1970",
                     birth_year=1970)
            members.append(m)
    fill(wb["members"], members)
    fill(wb["communes"], [{"commune_code": "X01", "commune_name": "Xã Phúc Hòa", "households_total": 1200,
                           "population_total": 4800, "poor_commune": no}])
    wb.save(path)

    out = normalize_survey(read_survey(path))
    assert len(out.rejects) == 0, out.rejects.to_string()
    h = out.households
    assert h["household_id"].tolist() == ["000", "001", "002"]
    assert h["area"].tolist() == ["rural", "urban", "rural"]
    assert h["has_dwelling"].tolist() == [True, False, True] and yes == "Có"
    assert h["info_devices"].tolist() == ["smartphone;tv"] * 3
    assert h["recognised_class"].tolist() == ["poor", "near_poor", "average_living"]
    assert len(out.members) == 6 and out.communes["households_total"].tolist() == [1200]
