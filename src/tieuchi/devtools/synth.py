"""Synthetic household surveys for a midland rural area of northern Vietnam (think Bắc Giang).

Everything here is made up: names, communes' households, incomes. Nothing describes a real person. The generator is
seeded and vectorised (numpy, no per-household Python loop), so one million households take well under a minute.

    households, members, communes = generate_survey(3_000, n_communes=5, seed=1)

The tables follow the data contract §1.1–1.3 (column names and codes). Incomes and answers are drawn from one latent
"welfare" score per household, so that low incomes come with deprivations: under the 2022–2026 standard about
1.5–3 % of households come out poor and 2–4 % near-poor (see tests/test_synth.py for the independent check).

Command line (writes a survey folder):

    python -m tieuchi.devtools.synth --households 50000 --communes 20 --seed 2024 \
        --out datasets/generated/midland_50k --format parquet
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["generate_survey", "DEFAULT_REFERENCE_DATE", "main"]

DEFAULT_REFERENCE_DATE = "2025-10-01"  # the annual review runs 1 Sep – 14 Dec; ages are computed at this date

# ---- codes (data contract §1.1–1.2, in contract order) ------------------------------------------------------------
AREA = ["rural", "urban"]
WATER = ["piped", "drilled_well", "protected_dug_well", "unprotected_dug_well", "protected_spring",
         "unprotected_spring", "rainwater", "bottled", "surface_water", "other"]
TOILET = ["septic", "semi_septic", "pour_flush", "double_vault", "ventilated_pit", "simple_pit", "bucket", "none",
          "other"]
DEVICES = ["tv", "radio", "desktop", "laptop", "smartphone", "basic_phone", "tablet"]
WASTE = ["collected", "own_treatment_safe", "own_treatment_unsafe", "none"]
LIVELIHOOD = ["agriculture", "forestry", "fishery", "salt", "other"]
CLASSES = ["poor", "near_poor", "average_living", "other"]
SEX = ["male", "female"]
DISABILITY = ["none", "mild", "severe", "especially_severe"]
ACTIVITY = ["wage_employee", "self_employed", "family_worker", "unemployed", "student", "inactive", "retired"]
SCHOOL = ["preschool", "primary", "lower_secondary", "upper_secondary", "vocational", "college", "university"]
QUALIF = ["none", "primary", "lower_secondary", "upper_secondary", "vocational_elementary",
          "vocational_intermediate", "college", "university"]

INCOME_LINE = {"rural": 1_500_000, "urban": 2_000_000}
AVERAGE_UPPER = {"rural": 2_250_000, "urban": 3_000_000}
SCORE_A_CUTOFF = {"rural": 140, "urban": 175}

# Optional *answers* that `missing_rate` may blank (ids, area, sex, member_no, birth and names are never blanked).
HOUSEHOLD_ANSWERS = ["income_per_capita_month", "floor_area_m2", "has_dwelling", "foundation_durable",
                     "frame_wall_durable", "roof_durable", "water_source", "toilet_type", "info_devices",
                     "waste_treatment", "main_livelihood"]
MEMBER_ANSWERS = ["ethnic_minority", "disability", "can_work", "activity", "has_labour_contract",
                  "has_health_insurance", "stunted", "underweight", "enrolled", "school_level",
                  "highest_qualification", "uses_internet", "uses_digital_services", "pregnant_or_nursing"]

# ---- names (Tân Yên / Bắc Giang flavour; real place names, fictitious everything else) ----------------------------
_COMMUNE_NAMES = [
    "Cao Xá", "Ngọc Thiện", "Liên Sơn", "Lam Cốt", "Việt Lập", "Ngọc Lý", "Quế Nham", "Phúc Hòa", "An Dương",
    "Lan Giới", "Đại Hóa", "Hợp Đức", "Song Vân", "Ngọc Vân", "Việt Ngọc", "Ngọc Châu", "Quang Tiến", "Phúc Sơn",
    "Liên Chung", "Tân Trung", "Kỳ Sơn", "Lam Sơn", "Đồng Lạc", "Tiến Dũng", "Xuân Lương", "Bố Hạ", "Đồng Kỳ",
    "Hương Vĩ", "Tam Tiến", "Phồn Xương", "Tân Sỏi", "Canh Nậu", "Đồng Tâm", "Tân Hiệp", "Hồng Kỳ", "Tân Liễu",
]
_TOWN_NAMES = ["Cao Thượng", "Nhã Nam", "Bích Động", "Thắng", "Vôi", "Neo"]
_SYLLABLES = ["An", "Bình", "Cao", "Đông", "Hòa", "Hưng", "Lạc", "Long", "Minh", "Ngọc", "Phúc", "Quang", "Sơn",
              "Tân", "Thịnh", "Tiến", "Trung", "Vân", "Việt", "Xuân"]
_VILLAGE_NAMES = [
    "Trại Mới", "Đồng Lầm", "Hậu", "Tiền", "Đông", "Tây", "Nam", "Bắc", "Chợ", "Đình", "Giữa", "Cầu", "Đồng Mới",
    "Đồi Ngô", "Kép", "Phố", "Bến", "Hạ", "Thượng", "Trung", "Làng Vàng", "Ngọc Yên", "Đồng Cống", "Bãi Chè",
    "Cổ Dũng", "Tam Hợp", "Quất", "Núi", "Ruồng", "Tân Lập",
]
_SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương", "Lý", "Thân",
             "Giáp", "Hà", "Ninh"]
_SURNAME_P = np.array([36, 11, 9, 6, 5, 4, 3, 3, 3, 3, 3, 2, 3, 3, 3, 3], float)
_MIDDLE_M = ["Văn", "Đức", "Minh", "Quang", "Hữu", "Thành", "Xuân", "Công"]
_MIDDLE_F = ["Thị", "Thị", "Thị", "Ngọc", "Thu", "Minh", "Thanh", "Hồng"]
_GIVEN_M = ["An", "Bình", "Cường", "Dũng", "Đạt", "Giang", "Hải", "Hùng", "Huy", "Khánh", "Long", "Mạnh", "Nam",
            "Phong", "Quân", "Sơn", "Tài", "Thắng", "Toàn", "Trung", "Tuấn", "Việt", "Vinh", "Hoàng", "Kiên", "Lâm",
            "Nghĩa", "Phúc", "Thịnh", "Bảo"]
_GIVEN_F = ["Anh", "Bình", "Chi", "Dung", "Giang", "Hà", "Hằng", "Hiền", "Hoa", "Hương", "Lan", "Liên", "Linh",
            "Mai", "Nga", "Ngọc", "Nhung", "Oanh", "Phương", "Quỳnh", "Thảo", "Thủy", "Trang", "Tuyết", "Vân", "Yến",
            "Hạnh", "Huyền", "Loan", "My"]


# ---- internal column representation -------------------------------------------------------------------------------
@dataclass
class _Col:
    kind: str                       # id | int | Int | bool | cat | text | float | date
    values: np.ndarray              # codes for cat/text; datetime64[D] for date
    valid: np.ndarray | None = None  # False = missing
    categories: list[str] | None = None

    def blank(self, mask: np.ndarray) -> None:
        self.valid = ~mask if self.valid is None else (self.valid & ~mask)

    def typed(self):
        v, ok = self.values, self.valid
        if self.kind == "id":
            return pd.array(v.astype(np.int64), dtype="int64")
        if self.kind == "int":
            return pd.array(v.astype(np.int64), dtype="int64")
        if self.kind == "Int":
            mask = np.zeros(len(v), bool) if ok is None else ~ok
            return pd.arrays.IntegerArray(v.astype(np.int64), mask)
        if self.kind == "bool":
            mask = np.zeros(len(v), bool) if ok is None else ~ok
            return pd.arrays.BooleanArray(v.astype(bool), mask)
        if self.kind in ("cat", "text"):
            codes = v if ok is None else np.where(ok, v, -1)
            cat = pd.Categorical.from_codes(codes.astype(np.int32), categories=self.categories)
            return cat if self.kind == "cat" else pd.Series(cat).astype("string").array
        if self.kind == "float":
            return v.astype(np.float64) if ok is None else np.where(ok, v, np.nan)
        if self.kind == "date":
            d = v.astype("datetime64[ns]")
            if ok is not None:
                d = np.where(ok, d, np.datetime64("NaT", "ns"))
            return d
        raise ValueError(self.kind)

    def strings(self):
        v, ok = self.values, self.valid
        if self.kind in ("id", "int", "Int"):
            s = v.astype(np.int64).astype(str).astype(object)
        elif self.kind == "bool":
            s = np.where(v.astype(bool), "true", "false").astype(object)
        elif self.kind in ("cat", "text"):
            cats = np.asarray(list(self.categories) + [None], dtype=object)
            s = cats[v]
        elif self.kind == "float":
            s = np.char.mod("%.1f", np.round(v.astype(float), 1)).astype(object)
        elif self.kind == "date":
            s = np.datetime_as_string(v.astype("datetime64[D]"), unit="D").astype(object)
        else:
            raise ValueError(self.kind)
        if ok is not None:
            s[~ok] = None
        return pd.array(s, dtype="str")


def _frame(cols: dict[str, _Col], typed: bool) -> pd.DataFrame:
    return pd.DataFrame({k: (c.typed() if typed else c.strings()) for k, c in cols.items()}, copy=False)


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def _pick(rng, n, probs) -> np.ndarray:
    """Vectorised categorical draw: `probs` is (k,) or (n, k) row-stochastic."""
    probs = np.asarray(probs, float)
    if probs.ndim == 1:
        return rng.choice(len(probs), size=n, p=probs / probs.sum())
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(n)[:, None]
    return np.minimum((u > cum).sum(axis=1), probs.shape[1] - 1)


def _commune_names(n: int, n_towns: int) -> list[str]:
    names: list[str] = []
    towns = [f"Thị trấn {t}" for t in _TOWN_NAMES]
    names += towns[:n_towns]
    pool = [f"Xã {c}" for c in _COMMUNE_NAMES]
    pool += [f"Xã {a} {b}" for a in _SYLLABLES for b in _SYLLABLES if a != b]
    seen = set(names)
    for p in pool:
        if len(names) >= n:
            break
        if p not in seen:
            names.append(p)
            seen.add(p)
    i = 1
    while len(names) < n:  # only for absurd n_communes
        names.append(f"Xã Mới {i}")
        i += 1
    return names[:n]


# ---- the generator ---------------------------------------------------------------------------------------------------
def generate_survey(n_households: int, n_communes: int = 20, seed: int = 0, missing_rate: float = 0.0,
                    typed: bool = True, reference_date: str = DEFAULT_REFERENCE_DATE):
    """Return `(households, members, communes)` DataFrames of a synthetic survey (data contract §1.1–1.3).

    `missing_rate` blanks that share of the optional answers (HOUSEHOLD_ANSWERS, MEMBER_ANSWERS) at random;
    missing means unknown. `typed=True` gives Parquet-like dtypes (int64 household ids, categoricals for codes,
    nullable boolean / Int64, datetime64 dates, string text); `typed=False` gives all-text frames as read from CSV,
    with missing cells as NA (written as empty cells by `to_csv`). Ages are computed at `reference_date`.
    """
    if n_households < 1 or n_communes < 1:
        raise ValueError("n_households and n_communes must be >= 1")
    if not 0.0 <= missing_rate < 1.0:
        raise ValueError("missing_rate must be in [0, 1)")
    rng = np.random.default_rng(seed)
    ref = np.datetime64(reference_date, "D")
    ref_year = int(str(ref)[:4])
    n = int(n_households)

    # -- communes: one or two towns (thị trấn, urban), the rest rural xã; a town holds ~10 % of households
    n_towns = 0 if n_communes < 3 else (1 if n_communes < 12 else 2)
    cnames = _commune_names(n_communes, n_towns)
    ccodes = [f"{7210 + 3 * i:05d}" for i in range(n_communes)]
    weights = rng.gamma(8.0, 1.0, n_communes)
    is_town = np.zeros(n_communes, bool)
    is_town[:n_towns] = True
    if n_towns:
        weights[is_town] *= 0.10 / weights[is_town].sum() * weights[~is_town].sum() / 0.90
    c_effect = rng.normal(0.0, 0.08, n_communes)
    c_poor = np.zeros(n_communes, bool)
    if n_communes - n_towns >= 4:  # midland: a few communes on the extremely-disadvantaged list
        k = max(1, round(0.1 * (n_communes - n_towns)))
        c_poor[n_towns + rng.choice(n_communes - n_towns, k, replace=False)] = True
    c_effect[c_poor] -= 0.35
    c_minority = np.where(c_poor, 0.25, 0.03) + rng.uniform(0, 0.04, n_communes)

    commune = rng.choice(n_communes, size=n, p=weights / weights.sum())
    commune = np.sort(commune, kind="stable")  # survey files come ordered by commune
    if n_towns:
        urban = is_town[commune] & (rng.random(n) < 0.97)
    else:
        urban = rng.random(n) < 0.10

    # villages: 6–14 thôn per commune; tổ dân phố for urban households
    n_vill = rng.integers(6, 15, n_communes)
    vill_idx = (rng.random(n) * n_vill[commune]).astype(np.int64)
    vcats = [f"Thôn {v}" for v in _VILLAGE_NAMES] + [f"Tổ dân phố số {i}" for i in range(1, 15)]
    vperm = np.stack([rng.permutation(len(_VILLAGE_NAMES)) for _ in range(n_communes)])
    village = np.where(urban, len(_VILLAGE_NAMES) + vill_idx, vperm[commune, vill_idx])

    # -- latent welfare: z low = poorer; h = hardship, correlated with z but not identical
    z = rng.standard_normal(n)
    h = -0.9 * z + 0.45 * rng.standard_normal(n)
    minority_hh = rng.random(n) < c_minority[commune]
    h += 0.4 * minority_hh

    # -- household size 1–9, mean ≈ 3.75
    size_p = np.array([0.08, 0.17, 0.19, 0.26, 0.16, 0.09, 0.03, 0.015, 0.005])
    size = _pick(rng, n, size_p) + 1

    # -- members ------------------------------------------------------------------------------------------------------
    m = int(size.sum())
    hh_of = np.repeat(np.arange(n), size)
    starts = np.concatenate(([0], np.cumsum(size)[:-1]))
    member_no = np.arange(m) - np.repeat(starts, size) + 1
    hsz = size[hh_of]
    mh = h[hh_of]

    # head age by household size; single/two-person households are older
    head_age = np.where(size == 1, rng.normal(66, 13, n), np.where(size == 2, rng.normal(58, 14, n),
                                                                   rng.normal(47, 12, n)))
    head_age = np.clip(head_age, 21, 97)
    head_male = rng.random(n) < np.where(size == 1, 0.45, 0.78)
    ha = head_age[hh_of]
    hm = head_male[hh_of]
    u1, u2, u3 = rng.random(m), rng.random(m), rng.random(m)

    is_head = member_no == 1
    spouse = (member_no == 2) & (u1 < 0.86)
    # role for the others: 0 child, 1 grandchild, 2 parent of the head
    old = ha >= 55
    role = np.where(old, np.where(u2 < 0.42, 0, np.where(u2 < 0.92, 1, 2)),
                    np.where(u2 < 0.90, 0, 2))
    role = np.where((role == 2) & (ha > 68), 0, role)
    age = np.empty(m)
    age[is_head] = ha[is_head]
    sp_age = ha + np.where(hm, -3.0, 3.0) + rng.normal(0, 3.5, m)
    age = np.where(spouse, np.clip(sp_age, 18, 99), age)
    child_age = ha - rng.uniform(21, 36, m)
    child_age = np.where(child_age < 0, u3 * np.maximum(ha - 19, 1), child_age)
    grand_age = ha - rng.uniform(44, 62, m)
    grand_age = np.where(grand_age < 0, u3 * np.maximum(ha - 40, 1), grand_age)
    parent_age = np.clip(ha + rng.uniform(21, 33, m), 0, 101)
    other = ~is_head & ~spouse
    age = np.where(other & (role == 0), child_age, age)
    age = np.where(other & (role == 1), grand_age, age)
    age = np.where(other & (role == 2), parent_age, age)
    age = np.clip(age, 0.01, 101.5)
    male = np.where(is_head, hm, np.where(spouse, ~hm, rng.random(m) < 0.51))
    male = np.where(other & (role == 2), rng.random(m) < 0.3, male)  # surviving parents: mostly mothers

    birth = ref - np.round(age * 365.25).astype("timedelta64[D]")
    age_int = ((ref - birth).astype(np.int64) / 365.2425).astype(np.int64)  # close enough for generation
    birth_year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    year_only = rng.random(m) < np.where(age > 60, 0.12, 0.03)  # some older members are known by year only

    # retirement age (Decree 135/2020) at the reference date, in years, for working-age tests here
    yrs = max(0, ref_year - 2021)
    ret_m = min(60.25 + 0.25 * yrs, 62.0)
    ret_f = min(55 + 4 / 12 + yrs / 3, 60.0)
    retire = np.where(male, ret_m, ret_f)
    working_age = (age >= 15) & (age < retire)

    # households with many children or elderly have less income per person
    dep_share = np.bincount(hh_of, weights=((age < 16) | (age >= retire)).astype(float), minlength=n) / size
    # -- income per capita (VND/month), log-normal around a midland median; urban higher
    log_inc = (np.log(4_550_000) + 0.55 * z - 0.6 * (dep_share - 0.35) + c_effect[commune] + 0.30 * urban
               - 0.25 * minority_hh + 0.18 * rng.standard_normal(n))
    income = np.round(np.exp(log_inc), -3).astype(np.int64)
    area_line = np.where(urban, INCOME_LINE["urban"], INCOME_LINE["rural"])
    area_upper = np.where(urban, AVERAGE_UPPER["urban"], AVERAGE_UPPER["rural"])
    cutoff = np.where(urban, SCORE_A_CUTOFF["urban"], SCORE_A_CUTOFF["rural"])
    # ~3 %: income not measured, only the review's score A (monotone in income: <= cutoff iff income <= line)
    score_only = rng.random(n) < 0.03
    r = income / area_line
    raw = cutoff * np.sqrt(r)
    score_a = np.where(r <= 1, np.floor(raw), np.floor(raw) + 1).astype(np.int64)

    ethnic = minority_hh[hh_of]
    dis_p = np.stack([np.ones(m), 0.02 + 0.0008 * age, 0.008 + 0.0003 * age + 0.004 * (mh > 1.5),
                      0.002 + 0.0001 * age], axis=1)
    dis_p[:, 0] = 1 - dis_p[:, 1:].sum(axis=1)
    disability = _pick(rng, m, dis_p)
    severe = disability >= 2
    can_work = (age >= 15) & ~severe & (rng.random(m) < np.where(age < 70, 0.985, np.where(age < 80, 0.55, 0.15)))

    # schooling: enrolment by age (poorer households drop out more)
    enr_p = np.select([age < 3, age < 6, age < 11, age < 15, age < 18, age < 23, age < 30],
                      [0.0, 0.93, 0.995, 0.975, 0.82, 0.32, 0.03], 0.0)
    drop = _sig(-5.0 + 1.5 * mh)  # extra drop-out risk
    enrolled = rng.random(m) < enr_p * np.where(age < 15, 1 - 0.6 * drop, 1 - 1.3 * drop).clip(0, 1)
    lvl = np.select([age < 6, age < 11, age < 15, age < 18], [0, 1, 2, 3], 4)
    behind = (rng.random(m) < 0.04) & (age >= 7) & (age < 18)
    lvl = np.where(behind, lvl - 1, lvl)
    post = _pick(rng, m, [0.35, 0.25, 0.40])  # vocational, college, university for 18+
    school_level = np.where(age >= 18, 4 + post, lvl)

    # highest qualification reached
    birth_cohort_good = _sig(1.2 - 0.06 * np.maximum(age - 30, 0) - 0.8 * mh)  # younger / richer: more schooling
    q_adult = np.where(rng.random(m) < birth_cohort_good,
                       _pick(rng, m, [0, 0, 0, 0.62, 0.12, 0.1, 0.06, 0.10]),
                       _pick(rng, m, [0.08, 0.30, 0.62, 0, 0, 0, 0, 0]))
    qual = np.select([age < 11, age < 15, age < 18], [0, 1, 2], q_adult)
    # teenagers/young adults who left school early lack the diploma more often
    qual = np.where((age >= 15) & (age < 18) & ~enrolled & (rng.random(m) < 0.25 + 0.2 * (mh > 1)), 1, qual)
    qual = np.where((age >= 18) & (age <= 30) & ~enrolled & (rng.random(m) < _sig(-2.6 + 1.0 * mh)), 2, qual)
    qual = np.where(age < 6, 0, qual)

    # activity
    student = enrolled & (age >= 6)
    unemp = working_age & can_work & ~student & (rng.random(m) < _sig(-4.6 + 1.0 * mh))
    act_work = _pick(rng, m, [0.42, 0.33, 0.18, 0.0, 0.0, 0.07, 0.0])
    act_old = _pick(rng, m, [0.0, 0.28, 0.12, 0.0, 0.0, 0.40, 0.20])
    activity = np.where(student, 4, np.where(unemp, 3, np.where(working_age & can_work, act_work,
                                                                np.where(age >= 15, np.where(can_work, act_old, 5),
                                                                         5))))
    wage = activity == 0
    contract = rng.random(m) < _sig(2.6 - 1.0 * mh)

    # health insurance: ~92 % of members hold a valid card; gaps cluster in some households
    gap_hh = rng.random(n) < _sig(-2.2 + 0.7 * h)
    uninsured = np.where(gap_hh[hh_of], rng.random(m) < 0.55, rng.random(m) < 0.01)
    uninsured &= ~((age < 6) & (rng.random(m) < 0.97))  # children under 6: free card
    insured = ~uninsured

    child16 = age < 16
    stunted = rng.random(m) < _sig(-3.3 + 0.9 * mh)
    underweight = rng.random(m) < np.where(stunted, 0.35, _sig(-4.2 + 0.8 * mh))

    internet = (age >= 10) & (rng.random(m) < _sig(2.2 - 0.05 * np.maximum(age - 45, 0) - 0.9 * mh))
    digital = internet & (rng.random(m) < 0.55)
    preg = ~male & (age >= 18) & (age < 45) & (rng.random(m) < 0.09)
    merit_hh = rng.random(n) < 0.03

    # names: surname from the head, given names by sex
    surname_hh = _pick(rng, n, _SURNAME_P)
    surname = surname_hh[hh_of]
    surname = np.where(spouse | (other & (role == 2)), _pick(rng, m, _SURNAME_P), surname)
    mid = rng.integers(0, 8, m)
    giv = rng.integers(0, 30, m)
    # category table: (sex, surname, middle, given) -> "Họ Đệm Tên"
    ns, nm, ng = len(_SURNAMES), 8, 30
    name_cats = [f"{s} {md} {g}" for sx in (0, 1) for s in _SURNAMES
                 for md, g in [(a, b) for a in (_MIDDLE_M if sx == 0 else _MIDDLE_F)
                               for b in (_GIVEN_M if sx == 0 else _GIVEN_F)]]
    name_code = (((~male).astype(np.int64) * ns + surname) * nm + mid) * ng + giv
    # duplicates in the category list (e.g. "Thị" twice) are harmless for codes but not for Categorical: dedupe
    uniq, inv = np.unique(np.asarray(name_cats, dtype=object), return_inverse=True)
    name_code = inv[name_code]

    # -- household answers --------------------------------------------------------------------------------------------
    hsize = size.astype(float)
    per_person = np.exp(np.log(np.where(urban, 22.0, 26.0)) - 0.28 * h + 0.35 * rng.standard_normal(n))
    floor_area = np.round(per_person * hsize, 0)
    floor_area = np.maximum(floor_area, 6.0)
    has_dwelling = rng.random(n) >= _sig(-7.0 + 1.0 * h)
    floor_area = np.where(has_dwelling, floor_area, 0.0)  # no dwelling of its own
    nd = _sig(-4.3 + 1.3 * h)  # non-durable structure probability
    bad_house = rng.random(n) < _sig(-4.0 + 1.4 * h)
    foundation = ~(bad_house & (rng.random(n) < 0.75)) & ~(rng.random(n) < nd * 0.3)
    frame = ~(bad_house & (rng.random(n) < 0.85)) & ~(rng.random(n) < nd * 0.3)
    roof = ~(bad_house & (rng.random(n) < 0.7)) & ~(rng.random(n) < nd * 0.3)

    unsafe_w = rng.random(n) < _sig(-4.0 + 1.0 * h)
    safe_choice = np.where(urban[:, None],
                           np.array([[0.90, 0.06, 0.01, 0, 0.0, 0, 0.0, 0.03, 0, 0]]),
                           np.array([[0.34, 0.46, 0.11, 0, 0.01, 0, 0.05, 0.03, 0, 0]]))
    unsafe_choice = np.array([0, 0, 0, 0.55, 0, 0.1, 0, 0, 0.15, 0.2])
    water = np.where(unsafe_w, _pick(rng, n, unsafe_choice), _pick(rng, n, safe_choice))

    unhyg = rng.random(n) < np.where(urban, 0.02, _sig(-2.3 + 1.0 * h))
    toilet = np.where(unhyg, _pick(rng, n, [0, 0, 0, 0, 0, 0.62, 0.06, 0.17, 0.15]),
                      _pick(rng, n, [0.70, 0.14, 0.09, 0.05, 0.02, 0, 0, 0, 0]))

    dev_p = np.array([0.88, 0.05, 0.07, 0.16, 0.86, 0.30, 0.05])
    dev_slope = np.array([0.9, 0.3, 0.9, 0.9, 1.0, -0.3, 0.9])
    logit = np.log(dev_p / (1 - dev_p))[None, :] - dev_slope[None, :] * (h[:, None] - 0.3)
    has_dev = rng.random((n, len(DEVICES))) < _sig(logit)
    no_devices_hh = rng.random(n) < _sig(-5.0 + 1.0 * h)
    has_dev[no_devices_hh, :] = False
    has_dev[no_devices_hh, 5] = rng.random(int(no_devices_hh.sum())) < 0.5
    dev_mask = (has_dev * (1 << np.arange(len(DEVICES)))).sum(axis=1)
    dev_cats = [";".join(d for i, d in enumerate(DEVICES) if k >> i & 1) or "none" for k in range(1 << len(DEVICES))]

    waste = np.where(urban, _pick(rng, n, [0.95, 0.03, 0.01, 0.01]), _pick(rng, n, [0.66, 0.16, 0.12, 0.06]))
    livelihood = np.where(urban, _pick(rng, n, [0.06, 0.0, 0.0, 0.0, 0.94]),
                          _pick(rng, n, [0.55, 0.03, 0.01, 0.0, 0.41]))

    # history: previous review's class from last year's income; exits from the poor list in past reviews
    prev_income = income * np.exp(rng.normal(-0.07, 0.18, n))
    prev_class = np.select([prev_income <= area_line, prev_income <= area_upper], [0, 2], 3)
    prev_class = np.where((prev_class == 0) & (rng.random(n) < _sig(-0.2 - 1.2 * (h - 1.5))), 1, prev_class)
    def review_day(years):
        return np.array([f"{y}-12-{d:02d}" for y in (2022, 2023, 2024) for d in (15, 20, 25, 30)],
                        dtype="datetime64[D]")[years]

    exited = (prev_class != 0) & (prev_income <= 1.35 * area_line) & (rng.random(n) < 0.4)
    exited_on = review_day(rng.integers(0, 12, n))
    exited_near = (prev_class >= 2) & ~exited & (prev_income <= 1.6 * area_line) & (rng.random(n) < 0.25)
    exited_near_on = review_day(rng.integers(0, 12, n))
    housing_support = (exited | (prev_class == 0)) & (rng.random(n) < 0.2)
    independent = rng.random(n) < 0.04
    independent_on = ref - rng.integers(90, 5 * 365, n).astype("timedelta64[D]")

    # -- assemble ---------------------------------------------------------------------------------------------------
    households = {
        "household_id": _Col("id", np.arange(1, n + 1)),
        "commune_code": _Col("cat", commune, categories=ccodes),
        "commune_name": _Col("cat", commune, categories=cnames),
        "village": _Col("cat", village, categories=vcats),
        "area": _Col("cat", urban.astype(np.int64), categories=AREA),
        "income_per_capita_month": _Col("Int", income, valid=~score_only),
        "income_score_a": _Col("Int", score_a, valid=score_only),
        "floor_area_m2": _Col("float", floor_area),
        "has_dwelling": _Col("bool", has_dwelling),
        "foundation_durable": _Col("bool", foundation),
        "frame_wall_durable": _Col("bool", frame),
        "roof_durable": _Col("bool", roof),
        "water_source": _Col("cat", water, categories=WATER),
        "toilet_type": _Col("cat", toilet, categories=TOILET),
        "info_devices": _Col("cat", dev_mask, categories=dev_cats),
        "waste_treatment": _Col("cat", waste, categories=WASTE),
        "main_livelihood": _Col("cat", livelihood, categories=LIVELIHOOD),
        "poor_commune": _Col("bool", c_poor[commune]),
        "independent_since": _Col("date", independent_on, valid=independent),
        "previous_class": _Col("cat", prev_class, categories=CLASSES),
        "exited_poverty_on": _Col("date", exited_on, valid=exited),
        "exited_near_poverty_on": _Col("date", exited_near_on, valid=exited_near),
        "received_housing_support": _Col("bool", housing_support),
    }
    members = {
        "household_id": _Col("id", hh_of + 1),
        "member_no": _Col("int", member_no),
        "full_name": _Col("text", name_code, categories=list(uniq)),
        "sex": _Col("cat", (~male).astype(np.int64), categories=SEX),
        "birth_date": _Col("date", birth, valid=~year_only),
        "birth_year": _Col("Int", birth_year, valid=year_only),
        "ethnic_minority": _Col("bool", ethnic),
        "disability": _Col("cat", disability, categories=DISABILITY),
        "can_work": _Col("bool", can_work),
        "activity": _Col("cat", activity, categories=ACTIVITY),
        "has_labour_contract": _Col("bool", contract, valid=wage),
        "has_health_insurance": _Col("bool", insured),
        "stunted": _Col("bool", stunted, valid=child16),
        "underweight": _Col("bool", underweight, valid=child16),
        "enrolled": _Col("bool", enrolled, valid=age >= 3),
        "school_level": _Col("cat", school_level, categories=SCHOOL, valid=enrolled),
        "highest_qualification": _Col("cat", qual, categories=QUALIF, valid=age >= 6),
        "uses_internet": _Col("bool", internet),
        "uses_digital_services": _Col("bool", digital, valid=age >= 15),
        "pregnant_or_nursing": _Col("bool", preg, valid=~male & (age >= 15) & (age < 50)),
        "meritorious_family": _Col("bool", merit_hh[hh_of]),
    }
    del age_int, hsz

    if missing_rate > 0:
        for name in HOUSEHOLD_ANSWERS:
            households[name].blank(rng.random(n) < missing_rate)
        for name in MEMBER_ANSWERS:
            members[name].blank(rng.random(m) < missing_rate)

    # communes table: the review surveys only part of the households (≈ 30–40 %)
    surveyed = np.bincount(commune, minlength=n_communes)
    pop_surveyed = np.bincount(commune, weights=size, minlength=n_communes)
    frac = rng.uniform(0.30, 0.40, n_communes)
    hh_total = np.ceil(surveyed / frac).astype(np.int64)
    hh_total = np.maximum(hh_total, surveyed)
    avg = np.where(surveyed > 0, pop_surveyed / np.maximum(surveyed, 1), 3.7)
    pop_total = np.round(hh_total * avg * rng.uniform(0.97, 1.03, n_communes)).astype(np.int64)
    communes = {
        "commune_code": _Col("text", np.arange(n_communes), categories=ccodes),
        "commune_name": _Col("text", np.arange(n_communes), categories=cnames),
        "households_total": _Col("Int", hh_total),
        "population_total": _Col("Int", pop_total),
        "poor_commune": _Col("bool", c_poor),
    }
    return _frame(households, typed), _frame(members, typed), _frame(communes, typed)


# ---- command line ----------------------------------------------------------------------------------------------------
def write_survey(households: pd.DataFrame, members: pd.DataFrame, communes: pd.DataFrame, out: Path,
                 fmt: str = "csv") -> list[Path]:
    """Write the three tables to folder `out` as csv (UTF-8, empty cell = missing) or parquet."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, df in (("households", households), ("members", members), ("communes", communes)):
        p = out / f"{name}.{fmt}"
        if fmt == "csv":
            df.to_csv(p, index=False, encoding="utf-8", lineterminator="\n")
        elif fmt == "parquet":
            df.to_parquet(p, index=False)
        else:
            raise ValueError(f"unknown format {fmt!r}")
        paths.append(p)
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tieuchi.devtools.synth",
                                 description="Write a synthetic survey (fictitious households) to a folder.")
    ap.add_argument("--households", type=int, required=True)
    ap.add_argument("--communes", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--missing-rate", type=float, default=0.0)
    ap.add_argument("--reference-date", default=DEFAULT_REFERENCE_DATE)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--format", choices=["csv", "parquet"], default="csv")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    hh, mem, com = generate_survey(a.households, a.communes, a.seed, a.missing_rate,
                                   typed=(a.format == "parquet"), reference_date=a.reference_date)
    t1 = time.perf_counter()
    write_survey(hh, mem, com, a.out, a.format)
    print(f"{len(hh)} households, {len(mem)} members, {len(com)} communes -> {a.out} "
          f"(generated in {t1 - t0:.1f}s, written in {time.perf_counter() - t1:.1f}s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
