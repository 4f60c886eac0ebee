"""Who each project of the National Target Program may support, as lists a commune can post and a district can count.

Built from a classification :class:`tieuchi.api.Result` (no rule logic here: the rules decide ``eligible_<item>`` and
``priority_<item>``; this module only selects, orders and counts):

- :func:`eligibility_lists` — per item, the eligible households (household items) or people (person items), with
  ``rank``, ids, ``commune_code``, ``commune_name``, ``village``, ``eligibility_class``, ``priority_groups`` and a
  ``reason`` in the chosen language; ``full_name`` only with ``show_names`` (for a household item: the name of the
  household head, member 1).
- :func:`eligibility_counts` — eligible and undecided (``eligible_<item>`` empty) per item and commune, or per item,
  commune and village.
- :func:`write_lists` — ``eligible_<item>``, ``counts`` and ``rejects`` as csv / parquet files, or one
  ``eligible.xlsx`` with one sheet per item, a ``counts`` sheet and a ``rejects`` sheet.

Ranking (the order of a list): commune code (then village, with ``by="village"``), then priority, then id
(household_id, then member_no; ids that are all digits sort as numbers). Priority: a row in more priority groups
comes first; between rows in as many groups, the one whose highest group ranks higher in :data:`PRIORITY_ORDER`
comes first, then the next group, and so on; rows in no group come last. ``rank`` numbers the rows 1, 2, … within
each commune (or village).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd
from rich.table import Table

from tieuchi.contract import write as w
from tieuchi.errors import TieuchiError, UsageError
from tieuchi.rulebook import vocabulary as m
from tieuchi.rulebook.load import load_rules

# item id -> unit (data contract §2.1, program-and-plan §1)
ITEMS: dict[str, str] = {
    "p2_livelihood": "household",
    "p3_1_agri_production": "household",
    "p3_2_nutrition": "person",
    "p4_1_vocational": "person",
    "p4_2_work_abroad": "person",
    "p4_3_jobs": "person",
    "p5_housing": "household",
    "p6_1_information": "household",
}
ITEM_LABELS = {
    "vi": {
        "p2_livelihood": "Dự án 2 — Đa dạng hóa sinh kế, phát triển mô hình giảm nghèo",
        "p3_1_agri_production": "Tiểu dự án 3.1 — Hỗ trợ phát triển sản xuất nông nghiệp",
        "p3_2_nutrition": "Tiểu dự án 3.2 — Cải thiện dinh dưỡng",
        "p4_1_vocational": "Tiểu dự án 4.1 — Phát triển giáo dục nghề nghiệp",
        "p4_2_work_abroad": "Tiểu dự án 4.2 — Hỗ trợ người lao động đi làm việc ở nước ngoài theo hợp đồng",
        "p4_3_jobs": "Tiểu dự án 4.3 — Hỗ trợ việc làm bền vững",
        "p5_housing": "Dự án 5 — Hỗ trợ nhà ở",
        "p6_1_information": "Tiểu dự án 6.1 — Giảm nghèo về thông tin",
    },
    "en": {
        "p2_livelihood": "Project 2 — livelihood diversification and poverty-reduction models",
        "p3_1_agri_production": "Sub-project 3.1 — agricultural production support",
        "p3_2_nutrition": "Sub-project 3.2 — nutrition",
        "p4_1_vocational": "Sub-project 4.1 — vocational training",
        "p4_2_work_abroad": "Sub-project 4.2 — working abroad under contract",
        "p4_3_jobs": "Sub-project 4.3 — sustainable jobs",
        "p5_housing": "Project 5 — housing",
        "p6_1_information": "Sub-project 6.1 — information poverty",
    },
}

# Priority groups (data contract §2.1, plus information_deprived for sub-project 6.1 — see README, "Changes to the
# data contract"), highest first: the order the contract lists them. A ranking choice, not law: the program's texts
# name the groups without ordering them; a commune that orders them otherwise can pass its own.
PRIORITY_ORDER: tuple[str, ...] = m.PRIORITY_GROUPS
PRIORITY_LABELS = {
    "vi": {"ethnic_minority": "dân tộc thiểu số", "disability": "người khuyết tật",
           "woman_in_poor_household": "phụ nữ thuộc hộ nghèo", "meritorious_family": "gia đình người có công",
           "no_labour_capacity": "hộ không có khả năng lao động", "poor": "hộ nghèo",
           "information_deprived": "thiếu hụt về thông tin"},
    "en": {"ethnic_minority": "ethnic minority", "disability": "disability",
           "woman_in_poor_household": "woman in a poor household", "meritorious_family": "meritorious family",
           "no_labour_capacity": "household without labour capacity", "poor": "poor household",
           "information_deprived": "deprived of information"},
}

# The National Target Program for Sustainable Poverty Reduction 2021–2025 (Decision 90/QĐ-TTg): items in force only
# within this window; outside it `classify` gives no item columns.
PROGRAM_START = dt.date(2022, 1, 1)
PROGRAM_END = dt.date(2025, 12, 31)
PROGRAM_NAME = {"vi": "Chương trình MTQG giảm nghèo bền vững 2021–2025",
                "en": "The National Target Program for Sustainable Poverty Reduction 2021–2025"}

BY = ("commune", "village")
XLSX_NAME = "eligible.xlsx"
COUNTS = "counts"

_T = {
    "vi": {
        "window": "{program} áp dụng từ {start} đến {end}",
        "window_hint": "ngày tham chiếu {day} nằm ngoài thời gian này; chọn một ngày trong đó, ví dụ --on 2025-06-30",
        "item_missing": "{program} áp dụng từ {start} đến {end}; kết quả phân loại không có cột {col}",
        "bad_item": "--item '{v}' không phải là một hạng mục của chương trình",
        "bad_item_hint": "dùng một trong: {items}",
        "bad_commune": "--commune '{v}': không có hộ nào của xã này trong dữ liệu",
        "bad_commune_hint": "các mã xã có trong dữ liệu: {codes}",
        "bad_by": "--by '{v}' không hợp lệ",
        "bad_by_hint": "dùng commune (theo xã) hoặc village (theo thôn)",
        "no_village": "--by village: dữ liệu không có cột village (Thôn)",
        "no_village_hint": "thêm cột village vào bảng hộ, hoặc bỏ --by village để đếm theo xã",
        "member": "thành viên",
        "poor": "hộ nghèo", "near_poor": "hộ cận nghèo", "newly_escaped": "hộ mới thoát nghèo (trong 36 tháng)",
        "recognised": "theo diện xã công nhận",
        "other": "đủ điều kiện theo quy định của dự án",
        "priority": "ưu tiên",
    },
    "en": {
        "window": "{program} applies from {start} to {end}",
        "window_hint": "the reference date {day} is outside it; choose a date within it, e.g. --on 2025-06-30",
        "item_missing": "{program} applies from {start} to {end}; the classification has no column {col}",
        "bad_item": "--item '{v}' is not an item of the program",
        "bad_item_hint": "use one of: {items}",
        "bad_commune": "--commune '{v}': no household of that commune in the survey",
        "bad_commune_hint": "commune codes in the survey: {codes}",
        "bad_by": "--by '{v}' is not valid",
        "bad_by_hint": "use commune or village",
        "no_village": "--by village: the survey has no village column",
        "no_village_hint": "add a village column to the households table, or leave out --by village to count per "
                           "commune",
        "member": "member of a",
        "poor": "poor household", "near_poor": "near-poor household",
        "newly_escaped": "household newly escaped from poverty (within 36 months)",
        "recognised": "as recognised by the commune",
        "other": "meets the project's conditions",
        "priority": "priority",
    },
}


def _t(lang: str, key: str, **kw: Any) -> str:
    return _T.get(lang, _T["vi"])[key].format(**kw)


def _usage(key: str, hint: str | None = None, *, code: str, **kw: Any) -> UsageError:
    """A usage error in both languages (the CLI shows the one asked for)."""
    return UsageError(_t("en", key, **kw), _t("en", hint, **kw) if hint else None,
                      vi=_t("vi", key, **kw), vi_hint=_t("vi", hint, **kw) if hint else None, code=code)


# --------------------------------------------------------------------------------------------------------------
# checks


def check_item(item: str | None) -> str | None:
    """The item id (lowercased), or a usage error that lists the items."""
    if item is None:
        return None
    v = item.strip().lower()
    if v not in ITEMS:
        raise _usage("bad_item", "bad_item_hint", v=item, items=", ".join(ITEMS), code="item_unknown")
    return v


def check_by(by: str) -> str:
    v = (by or "commune").strip().lower()
    if v not in BY:
        raise _usage("bad_by", "bad_by_hint", v=by, code="unknown_option_value")
    return v


def items_in(result: Any) -> list[str]:
    """The program items the result has columns for (none outside the program's window), in the contract's order."""
    hh_cols = set(result.households.columns)
    mem_cols = set(result.members.columns) if result.members is not None else set()
    return [i for i, unit in ITEMS.items() if f"eligible_{i}" in (hh_cols if unit == "household" else mem_cols)]


def refuse_outside(rules_at: Any, day: dt.date) -> None:
    """Before reading a survey: a usage error naming the window when the rules say no program item is in force on
    `day` (rules that do not know programs at all are left to :func:`require_program`)."""
    regime = getattr(rules_at, "regime", None)
    if regime is None or not hasattr(regime, "program"):
        return
    program = regime.program
    if program is not None and hasattr(program, "items_at") and program.items_at(day)[0]:
        return

    class _Probe:  # what require_program reads of a result
        households = members = pd.DataFrame()
        reference_date = day
        rules = rules_at

    require_program(_Probe())


def require_program(result: Any, item: str | None = None) -> list[str]:
    """The items to list; a usage error naming the program's window when the result has none (or not `item`)."""
    have = items_in(result)
    start, end = program_window(result)
    window = dict(program=PROGRAM_NAME, start=start.isoformat(), end=end.isoformat())
    day = getattr(result, "reference_date", None)
    day = day.isoformat() if hasattr(day, "isoformat") else str(day)
    if not have:
        raise UsageError(_t("en", "window", **{**window, "program": PROGRAM_NAME["en"]}),
                         _t("en", "window_hint", day=day),
                         vi=_t("vi", "window", **{**window, "program": PROGRAM_NAME["vi"]}),
                         vi_hint=_t("vi", "window_hint", day=day), code="program_date_outside_window")
    if item is not None and item not in have:
        col = f"eligible_{item}"
        raise UsageError(_t("en", "item_missing", **{**window, "program": PROGRAM_NAME["en"]}, col=col),
                         _t("en", "window_hint", day=day),
                         vi=_t("vi", "item_missing", **{**window, "program": PROGRAM_NAME["vi"]}, col=col),
                         vi_hint=_t("vi", "window_hint", day=day), code="program_item_outside_window")
    return [item] if item is not None else have


def program_window(result: Any) -> tuple[dt.date, dt.date]:
    """The program's window as its rules declare it (``program.yaml`` validity), else the Decision 90 window."""
    regime = getattr(getattr(result, "rules", None), "regime", None)
    validity = getattr(getattr(getattr(regime, "program", None), "program", None), "validity", None)
    start, end = getattr(validity, "start", None), getattr(validity, "end", None)
    if isinstance(start, dt.date) and isinstance(end, dt.date):
        return start, end
    return PROGRAM_START, PROGRAM_END


# --------------------------------------------------------------------------------------------------------------
# lists and counts


def eligibility_lists(result: Any, item: str | None = None, commune: str | None = None, by: str = "commune",
                      lang: str = "vi", show_names: bool = False) -> dict[str, pd.DataFrame]:
    """Per item (or only `item`), the eligible households or people, ranked (see the module's docstring)."""
    item = check_item(item)
    by = check_by(by)
    items = require_program(result, item)
    hh = _households(result, commune, by)
    mpos = _member_positions(result, hh) if any(ITEMS[i] == "person" for i in items) else None
    return {i: _list(result, hh, i, by, lang, show_names, mpos) for i in items}


def eligibility_counts(result: Any, item: str | None = None, commune: str | None = None,
                       by: str = "commune") -> pd.DataFrame:
    """One row per item and commune (or commune and village): ``eligible`` = how many ``eligible_<item>`` are true,
    ``undecided`` = how many are empty (a household whose class is unknown). Every commune (village) of the survey
    has a row, with 0 where nobody is eligible."""
    item = check_item(item)
    by = check_by(by)
    items = require_program(result, item)
    hh = _households(result, commune, by)
    keys = ["commune_code", "commune_name"] + (["village"] if by == "village" else [])
    base = hh[keys].copy()
    base["commune_name"] = base.groupby("commune_code", dropna=False, sort=False)["commune_name"].transform("first")
    mpos = _member_positions(result, hh) if any(ITEMS[i] == "person" for i in items) else None
    frames = []
    for i in items:
        rows = _rows(result, hh, i, mpos=mpos)
        flag = rows[f"eligible_{i}"]
        per = pd.DataFrame({k: rows[k] for k in keys})
        per["eligible"] = _truth(flag).astype("int64")
        per["undecided"] = flag.isna().astype("int64")
        got = per.groupby(keys[:1] + keys[2:], dropna=False, sort=False)[["eligible", "undecided"]].sum()
        groups = base.drop_duplicates(keys[:1] + keys[2:])
        out = groups.merge(got.reset_index(), on=keys[:1] + keys[2:], how="left")
        out[["eligible", "undecided"]] = out[["eligible", "undecided"]].fillna(0).astype("int64")
        out.insert(0, "unit", ITEMS[i])
        out.insert(0, "item", i)
        frames.append(out)
    counts = pd.concat(frames, ignore_index=True)
    counts = _sorted(counts, ["commune_code"] + keys[2:], first=["item"], item_order=items)
    for c in ("item", "unit", "commune_code", "commune_name") + (("village",) if by == "village" else ()):
        counts[c] = counts[c].astype("string")
    return counts.reset_index(drop=True)


def _households(result: Any, commune: str | None, by: str) -> pd.DataFrame:
    """The household results, with commune_code as text, commune_name / village present, filtered to `commune`."""
    hh = result.households
    if "village" not in hh.columns and by == "village":
        raise _usage("no_village", "no_village_hint", code="village_column_missing")
    hh = hh.copy()
    hh["commune_code"] = hh["commune_code"].astype("string")
    hh["household_id"] = hh["household_id"].astype("string")
    for c in ("commune_name", "village"):
        hh[c] = hh[c].astype("string") if c in hh.columns else pd.Series(pd.NA, index=hh.index, dtype="string")
    if commune is not None:
        code = str(commune).strip()
        keep = hh["commune_code"] == code
        if not keep.fillna(False).any():
            codes = sorted(hh["commune_code"].dropna().unique())
            shown = ", ".join(codes[:20]) + ("…" if len(codes) > 20 else "")
            raise _usage("bad_commune", "bad_commune_hint", v=commune, codes=shown or "—", code="commune_unknown")
        hh = hh[keep.fillna(False).to_numpy()]
    return hh


def _member_positions(result: Any, hh: pd.DataFrame) -> np.ndarray:
    """For each member, the position of its household in `hh` (-1: not there). Computed once per call."""
    return pd.Index(hh["household_id"]).get_indexer(result.members["household_id"].astype("string"))


def _rows(result: Any, hh: pd.DataFrame, item: str, only_eligible: bool = False, mpos=None) -> pd.DataFrame:
    """The rows an item is decided on: households, or members with their household's commune and status (members of
    households not in `hh` — rejected or filtered out — are dropped). `only_eligible`: only rows whose flag is true."""
    flag = f"eligible_{item}"
    if ITEMS[item] == "household":
        return hh[_truth(hh[flag]).to_numpy()] if only_eligible else hh
    mem = result.members
    pos = _member_positions(result, hh) if mpos is None else mpos
    if only_eligible:
        chosen = _truth(mem[flag]).to_numpy()
        mem, pos = mem[chosen], pos[chosen]
    cols = ["household_id", "member_no", flag] + [c for c in ("full_name", f"priority_{item}") if c in mem.columns]
    keep = pos >= 0
    out = mem.loc[keep, cols].reset_index(drop=True)
    out["household_id"] = out["household_id"].astype("string")
    hh_cols = ["commune_code", "commune_name", "village"]
    hh_cols += [c for c in ("eligibility_class", "household_class", "newly_escaped_poverty", "class_mismatch",
                            f"priority_{item}") if c in hh.columns and c not in out.columns]
    picked = hh[hh_cols].iloc[pos[keep]].reset_index(drop=True)
    return pd.concat([out, picked], axis=1)


def _list(result: Any, hh: pd.DataFrame, item: str, by: str, lang: str, show_names: bool, mpos=None) -> pd.DataFrame:
    person = ITEMS[item] == "person"
    rows = _rows(result, hh, item, only_eligible=True, mpos=mpos)
    ids = ["household_id"] + (["member_no"] if person else [])
    out = pd.DataFrame({c: rows[c] for c in ids}, index=rows.index)
    if show_names:
        out["full_name"] = _names(result, rows) if not person else \
            (rows["full_name"] if "full_name" in rows.columns else pd.NA)
    for c in ("commune_code", "commune_name", "village"):
        out[c] = rows[c]
    cls = rows["eligibility_class"] if "eligibility_class" in rows.columns else \
        rows.get("household_class", pd.Series(pd.NA, index=rows.index))
    out["eligibility_class"] = cls.astype("string")
    codes, groups = _groups(rows.get(f"priority_{item}"), len(rows))  # per distinct value: few, however many rows
    joined = pd.array([";".join(g) for g in groups] + [pd.NA], dtype="string")  # code -1: no column
    out["priority_groups"] = pd.Series(joined[codes], index=rows.index, dtype="string").fillna("")
    out["reason"] = _reasons(rows, cls, codes, groups, person, item, lang, _item_reason(result, item, lang))
    out["_prio"] = _priority_position(groups)[codes]
    keys = ["commune_code"] + (["village"] if by == "village" else [])
    out = _sorted(out, keys, then=["_prio"], ids=ids)
    out = out.drop(columns="_prio").reset_index(drop=True)
    out.insert(0, "rank", (out.groupby(keys, dropna=False, sort=False).cumcount() + 1).astype("int64"))
    for c in out.columns:
        if c not in ("rank", "member_no"):
            out[c] = out[c].astype("string")
    if person:
        out["member_no"] = pd.to_numeric(out["member_no"], errors="coerce").astype("Int64")
    return out


def _names(result: Any, rows: pd.DataFrame) -> pd.Series:
    """The household head's name (member 1) for each household row."""
    mem = result.members
    if "full_name" not in mem.columns:
        return pd.Series(pd.NA, index=rows.index, dtype="string")
    no = pd.to_numeric(mem["member_no"], errors="coerce")
    heads = mem.loc[(no == 1).to_numpy(), ["household_id", "full_name"]]
    heads = heads.assign(household_id=heads["household_id"].astype("string")).drop_duplicates("household_id")
    name = heads.set_index("household_id")["full_name"]
    return pd.Series(rows["household_id"].map(name).to_numpy(), index=rows.index, dtype="string")


def _truth(s: pd.Series) -> pd.Series:
    """A column of decided values as plain booleans: true -> True; false and empty (unknown) -> False."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.fillna(False).astype(bool)
    text = s.astype("string").str.strip().str.lower()
    return text.isin(["true", "1", "yes", "có"]).fillna(False).astype(bool)


def _groups(col: pd.Series | None, n: int) -> tuple["np.ndarray", list[list[str]]]:
    """(code per row, the groups of each distinct value) — the last distinct entry is "no group" (empty cell)."""
    if col is None:
        return np.zeros(n, dtype=np.int64), [[]]
    if col.dtype == object:  # lists (parquet) become the file's ';'-joined text
        col = col.map(lambda v: ";".join(map(str, v)) if isinstance(v, (list, tuple)) else v, na_action="ignore")
    codes, uniques = pd.factorize(col.astype("string"), use_na_sentinel=True)
    groups = []
    for v in uniques:
        parts = [p.strip() for p in str(v).split(";") if p.strip()]
        groups.append(sorted(dict.fromkeys(parts), key=_group_rank))
    groups.append([])
    codes = np.where(codes < 0, len(groups) - 1, codes)
    return codes, groups


def _group_rank(g: str) -> tuple[int, str]:
    return (PRIORITY_ORDER.index(g), "") if g in PRIORITY_ORDER else (len(PRIORITY_ORDER), g)


def _priority_position(groups: list[list[str]]) -> np.ndarray:
    """Per entry of `groups`, its place in the order: 0 for the highest priority — more groups first, then the
    higher groups, compared one by one."""
    order = sorted(range(len(groups)), key=lambda k: (-len(groups[k]), [_group_rank(x) for x in groups[k]]))
    pos = np.empty(len(groups), dtype=np.int64)
    pos[order] = np.arange(len(groups))
    # equal group sets (e.g. "poor;disability" and "disability;poor") share a place
    seen: dict[tuple, int] = {}
    for k in order:
        pos[k] = seen.setdefault(tuple(groups[k]), int(pos[k]))
    return pos


def _sorted(df: pd.DataFrame, keys: list[str], then: Iterable[str] = (), ids: Iterable[str] = (),
            first: Iterable[str] = (), item_order: list[str] | None = None) -> pd.DataFrame:
    """Sort by `first` (items in `item_order`), `keys` (text; empty last), `then`, and `ids` (numbers when all
    digits)."""
    cols, tmp = [], {}
    for c in first:
        tmp[f"_k_{c}"] = df[c].map({v: i for i, v in enumerate(item_order or [])})
        cols.append(f"_k_{c}")
    for c in list(keys) + list(then):
        tmp[f"_k_{c}"] = df[c]
        cols.append(f"_k_{c}")
    for c in ids:
        s = df[c]
        text = s.astype("string")
        if len(s) and text.str.fullmatch(r"\d+").fillna(False).all():
            tmp[f"_k_{c}"] = pd.to_numeric(text, errors="coerce")
        else:
            tmp[f"_k_{c}"] = text
        cols.append(f"_k_{c}")
    if not cols:
        return df
    keyed = df.assign(**tmp)
    keyed = keyed.sort_values(cols, kind="stable", na_position="last")
    return keyed.drop(columns=cols)


def _item_reason(result: Any, item: str, lang: str) -> str | None:
    """The item rule's own `reason` (what makes someone eligible), in `lang`; None when the rules lack the item."""
    rules = getattr(result, "rules", None)
    if rules is None:
        try:
            rules = load_rules(result.reference_date)
        except TieuchiError:
            return None
    program = rules.regime.program if rules is not None else None
    found = program.items.get(item) if program is not None else None
    return getattr(found.reason, lang) if found is not None else None


def _reasons(rows: pd.DataFrame, cls: pd.Series, codes, groups: list[list[str]], person: bool, item: str,
             lang: str, because: str | None = None) -> pd.Series:
    """Why a row is on the list, in `lang`: the rules' own reason column when the result has one, else the status
    that makes it eligible (class, newly escaped poverty), the item rule's reason (`because`) and the priority
    groups. Rendered once per distinct combination."""
    own = f"reason_{item}"
    if own in rows.columns:
        return rows[own].astype("string")
    L = _T.get(lang, _T["vi"])
    P = PRIORITY_LABELS.get(lang, PRIORITY_LABELS["vi"])
    false = pd.Series(False, index=rows.index)
    key = pd.DataFrame({
        "cls": cls.astype("string").fillna(""),
        "newly": _truth(rows["newly_escaped_poverty"]) if "newly_escaped_poverty" in rows.columns else false,
        "mismatch": _truth(rows["class_mismatch"]) if "class_mismatch" in rows.columns else false,
        "prio": codes,
    }, index=rows.index)
    if not len(key):
        return pd.Series([], index=rows.index, dtype="string")
    at = key.groupby(list(key.columns), sort=False).ngroup().to_numpy()
    texts = []
    for c, n, mismatch, g in key.drop_duplicates().itertuples(index=False):  # the order of ngroup(sort=False)
        if c in ("poor", "near_poor"):
            status = L[c] + (f" ({L['recognised']})" if mismatch else "")
        elif n:
            status = L["newly_escaped"]
        else:
            status = L["other"]
        qualified = c in ("poor", "near_poor") or bool(n)
        if person and qualified:
            status = f"{L['member']} {status}"
        text = status[:1].upper() + status[1:]
        if qualified and because:
            text += f": {because}"
        if groups[g]:
            text += f"; {L['priority']}: " + ", ".join(P.get(x, x) for x in groups[g])
        texts.append(text)
    return pd.Series(pd.array(texts, dtype="string")[at], index=rows.index, dtype="string")


# --------------------------------------------------------------------------------------------------------------
# writing


def write_lists(lists: dict[str, pd.DataFrame], counts: pd.DataFrame, rejects: pd.DataFrame | None,
                out_dir: str | Path, fmt: str = "csv", lang: str = "vi", show_names: bool = False,
                raw_text: bool = False) -> list[Path]:
    """Write ``eligible_<item>``, ``counts`` and ``rejects`` with the results writer: csv or parquet files, or one
    ``eligible.xlsx`` with a sheet per item (sheet name = item id), ``counts`` and ``rejects``. ``raw_text``: CSV
    text exactly as in the data (no ``'`` before a formula-like value)."""
    frames = {f"eligible_{i}": df for i, df in lists.items()}
    frames[COUNTS] = counts
    frames["rejects"] = w.prepare_rejects(rejects, lang, show_names)
    if fmt != "xlsx":
        return w.write_tables(frames, out_dir, fmt, escape=not raw_text)
    sheets = {(k[len("eligible_"):] if k.startswith("eligible_") else k): v for k, v in frames.items()}
    w.check_excel_rows(sheets)
    return [w.write_xlsx(sheets, w.make_out_dir(out_dir) / XLSX_NAME)]


def output_names(item: str | None = None, fmt: str = "csv") -> list[str]:
    """The files :func:`write_lists` may write (every item of the program, or only `item`): checked before a
    survey is read."""
    if fmt == "xlsx":
        return [XLSX_NAME]
    items = [item] if item else list(ITEMS)
    return [f"eligible_{i}.{fmt}" for i in items] + [f"{COUNTS}.{fmt}", f"rejects.{fmt}"]


# --------------------------------------------------------------------------------------------------------------
# on screen

_SCREEN = {
    "vi": {"title": "Số đối tượng theo hạng mục", "item": "Hạng mục", "unit": "Đơn vị", "eligible": "Đủ điều kiện",
           "undecided": "Chưa xác định", "household": "hộ", "person": "người"},
    "en": {"title": "Eligible per item", "item": "Item", "unit": "Unit", "eligible": "Eligible",
           "undecided": "Undecided", "household": "households", "person": "people"},
}


def render_counts(counts: pd.DataFrame, lang: str = "vi"):
    """A rich table: per item, its label, how many are eligible and how many undecided (all communes together)."""
    S = _SCREEN.get(lang, _SCREEN["vi"])
    labels = ITEM_LABELS.get(lang, ITEM_LABELS["vi"])
    table = Table(title=S["title"], title_justify="left")
    for key, right in (("item", False), ("unit", False), ("eligible", True), ("undecided", True)):
        table.add_column(S[key], justify="right" if right else "left")
    totals = counts.groupby("item", sort=False)[["eligible", "undecided"]].sum()
    for i, row in totals.iterrows():
        n = f"{int(row['eligible']):,}"
        u = f"{int(row['undecided']):,}"
        if lang == "vi":
            n, u = n.replace(",", "."), u.replace(",", ".")
        table.add_row(f"{labels.get(i, i)} ({i})", S[ITEMS.get(i, "household")], n, u)
    return table
