"""Write the committed datasets: datasets/demo/, datasets/examples/ and datasets/manifest.json.

    python scripts/make_datasets.py            # from the repository root

Everything is synthetic (tieuchi.devtools.synth, or hand-made below): no row describes a real person. Re-running the
script gives byte-identical files (fixed seeds); the manifest records each file's rows, sha256 and the command that
made it.
The large survey is not committed; make it with:

    python -m tieuchi.devtools.synth --households 50000 --communes 20 --seed 2024 \
        --out datasets/generated/midland_50k --format parquet
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from tieuchi.devtools import synth  # noqa: E402

DATASETS = ROOT / "datasets"
COMMAND = "python scripts/make_datasets.py"
DEMO = dict(n_households=3000, n_communes=5, seed=7, missing_rate=0.01,
            reference_date="2024-12-01")  # the date the README classifies the demo at
BIG_COMMAND = ("python -m tieuchi.devtools.synth --households 50000 --communes 20 --seed 2024 "
               "--out datasets/generated/midland_50k --format parquet")


def _csv(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


# ---- demo ------------------------------------------------------------------------------------------------------------
def make_demo() -> dict[str, str]:
    hh, mem, com = synth.generate_survey(**DEMO, typed=False)
    # A handful of deliberately invalid rows, so that the demo shows rejects (data contract §2.3).
    hh = hh.copy()
    mem = mem.copy()
    hh.loc[10, "area"] = "Nông trại"                       # not an area code
    first_member_of_20 = mem.index[mem["household_id"] == hh.loc[20, "household_id"]][0]
    mem.loc[first_member_of_20, "sex"] = "X"               # not a sex code -> whole household rejected
    dup = hh.loc[[30]].copy()                               # the same household_id twice
    dup["village"] = hh.loc[31, "village"]
    hh = pd.concat([hh.iloc[:31], dup, hh.iloc[31:]], ignore_index=True)
    orphan = mem.loc[[0]].copy()                            # a member whose household does not exist
    orphan["household_id"] = "999999"
    orphan["member_no"] = "1"
    orphan["full_name"] = "Nguyễn Văn Vô Danh"
    mem = pd.concat([mem, orphan], ignore_index=True)
    hh.loc[40, "income_per_capita_month"] = "-500000"      # money must be >= 0
    out = DATASETS / "demo"
    _csv(hh, out / "households.csv")
    _csv(mem, out / "members.csv")
    _csv(com, out / "communes.csv")
    how = (f"{COMMAND} (tieuchi.devtools.synth.generate_survey(n_households={DEMO['n_households']}, "
           f"n_communes={DEMO['n_communes']}, seed={DEMO['seed']}, missing_rate={DEMO['missing_rate']}, "
           f"typed=False) plus 5 invalid rows)")
    return {f"demo/{n}.csv": how for n in ("households", "members", "communes")}


# ---- hand-made examples --------------------------------------------------------------------------------------------
def _m(no, name, sex, birth, **kw):
    base = {"member_no": no, "full_name": name, "sex": sex, "birth_date": birth, "ethnic_minority": False,
            "disability": "none", "can_work": True, "has_health_insurance": True, "uses_internet": False}
    base.update(kw)
    return base


HH_DEFAULTS = {"commune_code": "07216", "commune_name": "Xã Cao Xá", "area": "rural", "income_score_a": None,
               "has_dwelling": True, "foundation_durable": True, "frame_wall_durable": True, "roof_durable": True,
               "water_source": "drilled_well", "toilet_type": "septic", "info_devices": "tv;smartphone",
               "main_livelihood": "agriculture", "poor_commune": False}


def _hh(hid, village, income, floor, members, **kw):
    d = {"household_id": hid, **HH_DEFAULTS, "village": village, "income_per_capita_month": income,
         "floor_area_m2": floor}
    d.update(kw)
    d["members"] = members
    return d


def tiny_households() -> list[dict]:
    """Seven made-up households; the expected class (reference date 2025-10-01) is in `expected_class`."""
    return [
        # poor: income 1,200,000 <= 1,500,000 and 4 deprivations (health_insurance, adult_education,
        # housing_quality, sanitation)
        _hh("BG-0001", "Thôn Trại Mới", 1_200_000, 40.0, [
            _m(1, "Nguyễn Văn An", "male", "1980-03-12", activity="self_employed",
               highest_qualification="lower_secondary", has_health_insurance=False, enrolled=False),
            _m(2, "Trần Thị Bình", "female", "1983-07-02", activity="family_worker",
               highest_qualification="lower_secondary", uses_internet=True, enrolled=False),
            _m(3, "Nguyễn Văn Cường", "male", "2008-05-20", activity="self_employed", enrolled=False,
               highest_qualification="primary", stunted=False, underweight=False, uses_internet=True),
            _m(4, "Nguyễn Thị Dung", "female", "2015-09-01", can_work=False, activity="student", enrolled=True,
               school_level="primary", highest_qualification="none", stunted=False, underweight=False),
        ], foundation_durable=False, frame_wall_durable=False, toilet_type="simple_pit",
            info_devices="tv;basic_phone", previous_class="poor", expected_class="poor"),
        # near-poor: income 1,350,000 <= line, one deprivation (sanitation)
        _hh("BG-0002", "Thôn Đồng Lầm", 1_350_000, 55.0, [
            _m(1, "Lê Văn Hải", "male", "1975-11-30", activity="wage_employee", has_labour_contract=True,
               highest_qualification="upper_secondary", uses_internet=True, enrolled=False),
            _m(2, "Phạm Thị Hoa", "female", "1977-04-15", activity="self_employed",
               highest_qualification="lower_secondary", uses_internet=True, enrolled=False),
            _m(3, "Lê Minh Huy", "male", "2005-08-08", activity="student", enrolled=True,
               school_level="university", highest_qualification="upper_secondary", uses_internet=True),
        ], toilet_type="simple_pit", previous_class="near_poor", expected_class="near_poor"),
        # average living: 1,500,000 < income 2,000,000 <= 2,250,000 (deprivations do not matter)
        _hh("BG-0003", "Thôn Hậu", 2_000_000, 60.0, [
            _m(1, "Hoàng Văn Long", "male", "1953-02-14", can_work=False, activity="retired",
               highest_qualification="primary"),
            _m(2, "Vũ Thị Lan", "female", "1956-06-21", can_work=False, activity="inactive",
               highest_qualification="primary"),
        ], info_devices="tv", previous_class="average_living", expected_class="average_living"),
        # other: urban, income 6,500,000 > 3,000,000
        _hh("BG-0004", "Tổ dân phố số 2", 6_500_000, 90.0, [
            _m(1, "Đặng Quang Minh", "male", "1985-01-05", activity="wage_employee", has_labour_contract=True,
               highest_qualification="university", uses_internet=True, enrolled=False),
            _m(2, "Bùi Thu Trang", "female", "1988-12-24", activity="wage_employee", has_labour_contract=True,
               highest_qualification="college", uses_internet=True, enrolled=False),
            _m(3, "Đặng Bảo Nam", "male", "2020-03-03", can_work=False, activity="student", enrolled=True,
               school_level="preschool", highest_qualification="none", stunted=False, underweight=False),
        ], commune_code="07210", commune_name="Thị trấn Cao Thượng", area="urban", water_source="piped",
            info_devices="tv;laptop;smartphone", main_livelihood="other", expected_class="other"),
        # unknown: income not given (and no score A), and one unanswered insurance question
        _hh("BG-0005", "Thôn Đông", None, 48.0, [
            _m(1, "Đỗ Văn Sơn", "male", "1978-10-10", activity="self_employed",
               highest_qualification="lower_secondary", uses_internet=True, enrolled=False,
               has_health_insurance=None),
            _m(2, "Ngô Thị Mai", "female", "1980-01-20", activity="family_worker",
               highest_qualification="lower_secondary", enrolled=False),
        ], expected_class="unknown"),
        # unknown: income at or below the line, 2 known deprivations (water, sanitation) and insurance unanswered,
        # so it is poor or near-poor depending on the empty answer
        _hh("BG-0006", "Thôn Tây", 1_450_000, 45.0, [
            _m(1, "Dương Văn Thắng", "male", "1970-05-05", activity="self_employed",
               highest_qualification="primary", uses_internet=True, enrolled=False, has_health_insurance=None),
            _m(2, "Thân Thị Yến", "female", "1972-09-09", activity="self_employed",
               highest_qualification="primary", enrolled=False),
            _m(3, "Dương Thị Ngọc", "female", "2012-02-02", can_work=False, activity="student", enrolled=True,
               school_level="lower_secondary", highest_qualification="primary", stunted=False,
               underweight=False),
        ], water_source="unprotected_dug_well", toilet_type="simple_pit", expected_class="unknown"),
        # rejected: "Nông trại" is not an area (Nông thôn / Thành thị are); the household and its member go to rejects
        _hh("BG-0007", "Thôn Nam", 1_100_000, 30.0, [
            _m(1, "Giáp Văn Tài", "male", "1968-12-12", activity="self_employed",
               highest_qualification="primary", enrolled=False),
        ], area="Nông trại", expected_class="rejected"),
    ]


HH_COLS = ["household_id", "commune_code", "commune_name", "village", "area", "income_per_capita_month",
           "income_score_a", "floor_area_m2", "has_dwelling", "foundation_durable", "frame_wall_durable",
           "roof_durable", "water_source", "toilet_type", "info_devices", "main_livelihood", "poor_commune",
           "previous_class"]
MEM_COLS = ["member_no", "full_name", "sex", "birth_date", "ethnic_minority", "disability", "can_work", "activity",
            "has_labour_contract", "has_health_insurance", "stunted", "underweight", "enrolled", "school_level",
            "highest_qualification", "uses_internet"]


def _cell(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return f"{v:.1f}"
    return str(v)


def _json_household(h: dict) -> dict:
    """Contract §1.4 keys only (no `expected_class`); null = not answered."""
    out = {k: h.get(k) for k in HH_COLS}
    out["members"] = [{k: m.get(k) for k in MEM_COLS} for m in h["members"]]
    return out


def make_examples() -> dict[str, str]:
    out = DATASETS / "examples"
    out.mkdir(parents=True, exist_ok=True)
    tiny = tiny_households()
    made = {}
    for name, h in (("one_poor_household.json", tiny[0]), ("one_near_poor_household.json", tiny[1])):
        (out / name).write_text(json.dumps(_json_household(h), ensure_ascii=False, indent=2) + "\n",
                                encoding="utf-8")
        made[f"examples/{name}"] = f"{COMMAND} (hand-made, tiny_households())"
    hh = pd.DataFrame([{k: _cell(h.get(k)) for k in HH_COLS} for h in tiny], dtype=object)
    mem = pd.DataFrame([{"household_id": h["household_id"], **{k: _cell(m.get(k)) for k in MEM_COLS}}
                        for h in tiny for m in h["members"]], dtype=object)
    _csv(hh, out / "tiny" / "households.csv")
    _csv(mem, out / "tiny" / "members.csv")
    expected = pd.DataFrame({"household_id": [h["household_id"] for h in tiny],
                             "expected_class": [h["expected_class"] for h in tiny]})
    _csv(expected, out / "tiny" / "expected.csv")
    with open(out / "tiny.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for h in tiny:
            f.write(json.dumps(_json_household(h), ensure_ascii=False) + "\n")
    for name in ("tiny/households.csv", "tiny/members.csv", "tiny/expected.csv", "tiny.jsonl"):
        made[f"examples/{name}"] = f"{COMMAND} (hand-made, tiny_households())"
    return made


# ---- manifest --------------------------------------------------------------------------------------------------------
def _rows(path: Path) -> int:
    if path.suffix == ".jsonl":
        return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    if path.suffix == ".json":
        return 1
    return len(pd.read_csv(path, dtype=str, keep_default_na=False))


def write_manifest(made: dict[str, str]) -> None:
    files = {}
    for rel, how in sorted(made.items()):
        p = DATASETS / rel
        files[rel] = {"rows": _rows(p), "bytes": p.stat().st_size,
                      "sha256": hashlib.sha256(p.read_bytes()).hexdigest(), "made_by": how}
    manifest = {
        "note": "All data are synthetic or hand-made; no row describes a real person.",
        "generator": "tieuchi.devtools.synth.generate_survey",
        "reference_date": synth.DEFAULT_REFERENCE_DATE,
        "files": files,
        "not_committed": {"generated/midland_50k/": {"made_by": BIG_COMMAND,
                                                      "rows": "50000 households, about 187,000 members, 20 communes"}},
    }
    (DATASETS / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                            encoding="utf-8")


def main() -> int:
    made = {}
    made.update(make_demo())
    made.update(make_examples())
    write_manifest(made)
    for rel in sorted(made):
        print(rel, (DATASETS / rel).stat().st_size, "bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
