"""Who each project of the National Target Program may support, as lists a commune can post and a district can count.

Built from a classification :class:`tieuchi.api.Result` (no rule logic here: the rules decide ``eligible_<item>`` and
``priority_<item>``; this module only selects, orders and counts):

- :func:`eligibility_lists` — per item, the eligible households (household items) or people (person items), with
  ``rank``, ids, ``commune_code``, ``commune_name``, ``village``, ``eligibility_class``, ``priority_groups`` and a
  ``reason`` in the chosen language; ``full_name`` only with ``show_names`` (for a household item: the name of the
  household head, member 1).
- :func:`eligibility_counts` — eligible and undecided (``eligible_<item>`` empty), the undecided split by cause (class
  unknown, an answer missing), per item and commune, or per item, commune and village.
- :func:`write_lists` — ``eligible_<item>``, ``counts`` and ``rejects`` as csv / parquet files, or one
  ``eligible.xlsx`` with one sheet per item, a ``counts`` sheet and a ``rejects`` sheet.

The items (ids, units, labels, order), the priority groups (ids, labels, order) and the program's name and window are
the rules' (``rules/programs/<program>/``), read from the result's rules.

Ranking (the order of a list): commune code (then village, with ``by="village"``), then priority, then id
(household_id, then member_no; ids that are all digits sort as numbers). Priority: a row in more priority groups
comes first; between rows in as many groups, the one whose highest group ranks higher in the program's
``priority_groups`` (highest first) comes first, then the next group, and so on; rows in no group come last.
``rank`` numbers the rows 1, 2, … within
each commune (or village).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd
from rich.table import Table

from tieuchi.contract import write as w
from tieuchi.contract.results import header
from tieuchi.engine.reasons import branch_reasons
from tieuchi.engine.vectorized import evaluator_for
from tieuchi.errors import UsageError
from tieuchi.i18n import LANGS
from tieuchi.rulebook import vocabulary as m
from tieuchi.rulebook.checks import placeholders
from tieuchi.rulebook.load import rules_of
from tieuchi.rulebook.tree import HOUSEHOLD, MEMBER, reasoned_branches, walk

# The items, their units, labels and order, the priority groups and their order, the program's name and window: all
# read from the rules (rules/programs/<program>/program.yaml and items/), never copied here.

BY = ("commune", "village")
XLSX_NAME = "eligible.xlsx"
COUNTS = "counts"
UNDECIDED_CLASS, UNDECIDED_ANSWER = "undecided_class_unknown", "undecided_answer_missing"
COUNTED = ["eligible", "undecided", UNDECIDED_CLASS, UNDECIDED_ANSWER]  # the counts' figures, in their order
# what a person reads for each figure of `counts` (headers, the screen): contract/results.yaml owns the words
COUNT_LABELS = {c: {lang: header(c, lang) for lang in LANGS} for c in COUNTED}

_T = {
    "vi": {
        "window": "{program} áp dụng từ {start} đến {end}",
        "window_hint": "ngày tham chiếu {day} nằm ngoài thời gian này; chọn một ngày trong đó, ví dụ --on 2025-06-30",
        "item_missing": "{program} áp dụng từ {start} đến {end}; kết quả phân loại không có cột {col}",
        "bad_item": "--item '{v}' không phải là một hạng mục của chương trình",
        "bad_item_hint": "dùng một trong: {items}",
        "no_program": "bộ tiêu chí không có chương trình nào áp dụng",
        "no_program_hint": "không có hạng mục nào của chương trình cho ngày tham chiếu {day}; thêm quy định của "
                           "chương trình vào rules/programs/",
        "bad_commune": "--commune '{v}': không có hộ nào của xã này trong dữ liệu",
        "bad_commune_hint": "các mã xã có trong dữ liệu: {codes}",
        "bad_by": "--by '{v}' không hợp lệ",
        "bad_by_hint": "dùng commune (theo xã) hoặc village (theo thôn)",
        "no_village": "--by village: dữ liệu không có cột village (Thôn)",
        "no_village_hint": "thêm cột village vào bảng hộ, hoặc bỏ --by village để đếm theo xã",
        "member": "thành viên",
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
        "no_program": "the rules have no program",
        "no_program_hint": "no program item applies on the reference date {day}; add the program's rules under "
                           "rules/programs/",
        "bad_commune": "--commune '{v}': no household of that commune in the survey",
        "bad_commune_hint": "commune codes in the survey: {codes}",
        "bad_by": "--by '{v}' is not valid",
        "bad_by_hint": "use commune or village",
        "no_village": "--by village: the survey has no village column",
        "no_village_hint": "add a village column to the households table, or leave out --by village to count per "
                           "commune",
        "member": "member of a",
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


def program_of(rules: Any) -> Any:
    """The program whose items follow these rules' classes (a :class:`tieuchi.rulebook.regime.ProgramRules`), or
    None."""
    return getattr(getattr(rules, "regime", None), "program", None)


def item_units(rules: Any) -> dict[str, str]:
    """{item id: "household" | "person"} of the rules' program, in its order (every item, in force or not)."""
    program = program_of(rules)
    return {i: it.unit for i, it in program.items.items()} if program is not None else {}


def check_item(item: str | None, rules: Any = None) -> str | None:
    """The item id (lowercased), or a usage error that lists the program's items. With no program for these rules
    the id is returned as given: :func:`require_program` / :func:`refuse_outside` name the program's window."""
    if item is None:
        return None
    v = item.strip().lower()
    units = item_units(rules)
    if units and v not in units:
        raise _usage("bad_item", "bad_item_hint", v=item, items=", ".join(units), code="item_unknown")
    return v


def check_by(by: str) -> str:
    v = (by or "commune").strip().lower()
    if v not in BY:
        raise _usage("bad_by", "bad_by_hint", v=by, code="unknown_option_value")
    return v


def items_in(result: Any) -> list[str]:
    """The program items the result has columns for (none outside the program's window), in the program's order."""
    hh_cols = set(result.households.columns)
    mem_cols = set(result.members.columns) if result.members is not None else set()
    return [i for i, unit in item_units(rules_of(result)).items()
            if f"eligible_{i}" in (hh_cols if unit == "household" else mem_cols)]


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
    if have and (item is None or item in have):
        return [item] if item is not None else have
    name, start, end = program_window(result)
    day = getattr(result, "reference_date", None)
    day = day.isoformat() if hasattr(day, "isoformat") else str(day)
    if name is None:
        raise _usage("no_program", "no_program_hint", day=day, code="program_date_outside_window")

    def said(lang: str, key: str, **kw: Any) -> str:
        return _t(lang, key, program=getattr(name, lang), start=start.isoformat(),
                  end=end.isoformat() if end else "…", **kw)

    if not have:
        raise UsageError(said("en", "window"), _t("en", "window_hint", day=day), vi=said("vi", "window"),
                         vi_hint=_t("vi", "window_hint", day=day), code="program_date_outside_window")
    col = f"eligible_{item}"
    raise UsageError(said("en", "item_missing", col=col), _t("en", "window_hint", day=day),
                     vi=said("vi", "item_missing", col=col), vi_hint=_t("vi", "window_hint", day=day),
                     code="program_item_outside_window")


def program_window(result: Any) -> tuple[Any, dt.date | None, dt.date | None]:
    """(label, start, end) of the program as its rules declare it (``program.yaml``): the regime's program, else the
    first program of the rules (one that follows another regime); (None, None, None) when the rules know none."""
    regime = getattr(rules_of(result), "regime", None)
    program = getattr(getattr(regime, "program", None), "program", None)
    if program is None:
        known = getattr(regime, "programs", None) or []
        program = known[0] if known else None
    if program is None:
        return None, None, None
    return program.label, program.validity.start, program.validity.end


# --------------------------------------------------------------------------------------------------------------
# lists and counts


def eligibility_lists(result: Any, item: str | None = None, commune: str | None = None, by: str = "commune",
                      lang: str = "vi", show_names: bool = False) -> dict[str, pd.DataFrame]:
    """Per item (or only `item`), the eligible households or people, ranked (see the module's docstring)."""
    rules = rules_of(result)
    item = check_item(item, rules)
    by = check_by(by)
    items = require_program(result, item)
    units = item_units(rules)
    hh = _households(result, commune, by)
    mpos = _member_positions(result, hh) if any(units[i] == "person" for i in items) else None
    program = program_of(rules)
    said = _Said(program.priority_order, program.priority_labels(lang), qualifying(rules, lang))  # once, every item
    branches = _Branches(result, hh, items, units, mpos)  # once, every item
    try:
        return {i: _list(result, hh, i, units[i], by, lang, show_names, said, mpos, branches) for i in items}
    finally:
        branches.release()


@dataclass(frozen=True)
class _Said:
    """What a list reads of the rules to rank and give reasons, the same for every item: the priority groups highest
    first, their labels, and what qualifies a household (:func:`qualifying`), in the list's language."""

    order: list[str]
    labels: dict[str, str]
    qualify: tuple[dict[str, str], dict[str, str]]


def eligibility_counts(result: Any, item: str | None = None, commune: str | None = None,
                       by: str = "commune") -> pd.DataFrame:
    """One row per item and commune (or commune and village): ``eligible`` = how many ``eligible_<item>`` are true,
    ``undecided`` = how many are empty, split by cause (:data:`COUNT_LABELS`): ``undecided_class_unknown`` — the
    household's class (``eligibility_class``) is unknown — and ``undecided_answer_missing`` — the class is known but
    an answer the item reads is empty (a blank ``pregnant_or_nursing`` for a woman of 25, say). Every commune
    (village) of the survey has a row, with 0 where nobody is eligible."""
    rules = rules_of(result)
    item = check_item(item, rules)
    by = check_by(by)
    items = require_program(result, item)
    units = item_units(rules)
    hh = _households(result, commune, by)
    keys = ["commune_code", "commune_name"] + (["village"] if by == "village" else [])
    base = hh[keys].copy()
    base["commune_name"] = base.groupby("commune_code", dropna=False, sort=False)["commune_name"].transform("first")
    mpos = _member_positions(result, hh) if any(units[i] == "person" for i in items) else None
    frames = []
    for i in items:
        rows = _rows(result, hh, i, units[i], mpos=mpos)
        flag = rows[f"eligible_{i}"]
        per = pd.DataFrame({k: rows[k] for k in keys})
        per["eligible"] = _truth(flag).astype("int64")
        undecided = flag.isna().to_numpy()
        no_class = _class_unknown(rows)
        per["undecided"] = undecided.astype("int64")
        per[UNDECIDED_CLASS] = (undecided & no_class).astype("int64")
        per[UNDECIDED_ANSWER] = (undecided & ~no_class).astype("int64")
        got = per.groupby(keys[:1] + keys[2:], dropna=False, sort=False)[COUNTED].sum()
        groups = base.drop_duplicates(keys[:1] + keys[2:])
        out = groups.merge(got.reset_index(), on=keys[:1] + keys[2:], how="left")
        out[COUNTED] = out[COUNTED].fillna(0).astype("int64")
        out.insert(0, "unit", units[i])
        out.insert(0, "item", i)
        frames.append(out)
    counts = pd.concat(frames, ignore_index=True)
    counts = _sorted(counts, ["commune_code"] + keys[2:], first=["item"], item_order=items)
    for c in ("item", "unit", "commune_code", "commune_name") + (("village",) if by == "village" else ()):
        counts[c] = counts[c].astype("string")
    return counts.reset_index(drop=True)


def _class_unknown(rows: pd.DataFrame) -> np.ndarray:
    """Per row (a household, or a member with its household's columns): whether the class eligibility follows is
    unknown (``eligibility_class`` empty; ``household_class`` when the result has no eligibility class)."""
    col = rows["eligibility_class"] if "eligibility_class" in rows.columns else rows.get("household_class")
    if col is None:
        return np.zeros(len(rows), dtype=bool)
    if isinstance(col.dtype, pd.CategoricalDtype):  # as results hold it: by its few categories, not per row
        lut = np.append(np.isin(np.asarray(col.cat.categories, dtype=str), ["", "unknown"]), True)
        return lut[col.cat.codes.to_numpy()]  # code -1 (empty) -> the trailing True
    text = col.astype("string")
    return (text.isna() | text.isin(["", "unknown"])).to_numpy(dtype=bool, na_value=True)


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


def _rows(result: Any, hh: pd.DataFrame, item: str, unit: str, only_eligible: bool = False,
          mpos=None) -> pd.DataFrame:
    """The rows an item is decided on: households, or members with their household's commune and status (members of
    households not in `hh` — rejected or filtered out — are dropped). `only_eligible`: only rows whose flag is true."""
    flag = f"eligible_{item}"
    if unit == "household":
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
    statuses = list(getattr(getattr(rules_of(result), "eligibility", None), "statuses", None) or [])
    hh_cols += [c for c in ("eligibility_class", "household_class", *statuses, "class_mismatch", f"priority_{item}")
                if c in hh.columns and c not in out.columns]
    picked = hh[hh_cols].iloc[pos[keep]].reset_index(drop=True)
    return pd.concat([out, picked], axis=1)


def _list(result: Any, hh: pd.DataFrame, item: str, unit: str, by: str, lang: str, show_names: bool, said: _Said,
          mpos=None, branches: "_Branches | None" = None) -> pd.DataFrame:
    """One item's list (`branches`: what its branch reasons read, :class:`_Branches`; built for this item when not
    given)."""
    person = unit == "person"
    if branches is None:
        branches = _Branches(result, hh, [item], {item: unit}, mpos)
    rows = _rows(result, hh, item, unit, only_eligible=True, mpos=mpos)
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
    codes, groups = _groups(rows.get(f"priority_{item}"), len(rows), said.order)  # per distinct value: few
    joined = pd.array([";".join(g) for g in groups] + [pd.NA], dtype="string")  # code -1: no column
    out["priority_groups"] = pd.Series(joined[codes], index=rows.index, dtype="string").fillna("")
    out["reason"] = _reasons(rows, cls, codes, groups, person, item, lang, _item_reason(result, item, lang),
                             said.labels, said.qualify, branches.texts(item, rows, person, lang))
    out["_prio"] = _priority_position(groups, said.order)[codes]
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


def _groups(col: pd.Series | None, n: int, order: list[str]) -> tuple["np.ndarray", list[list[str]]]:
    """(code per row, the groups of each distinct value, in `order`) — the last distinct entry is "no group" (empty
    cell)."""
    if col is None:
        return np.zeros(n, dtype=np.int64), [[]]
    if col.dtype == object:  # lists (parquet) become the file's ';'-joined text
        col = col.map(lambda v: ";".join(map(str, v)) if isinstance(v, (list, tuple)) else v, na_action="ignore")
    codes, uniques = pd.factorize(col.astype("string"), use_na_sentinel=True)
    groups = []
    for v in uniques:
        parts = [p.strip() for p in str(v).split(";") if p.strip()]
        groups.append(sorted(dict.fromkeys(parts), key=lambda g: _group_rank(g, order)))
    groups.append([])
    codes = np.where(codes < 0, len(groups) - 1, codes)
    return codes, groups


def _group_rank(g: str, order: list[str]) -> tuple[int, str]:
    return (order.index(g), "") if g in order else (len(order), g)


def _priority_position(groups: list[list[str]], groups_order: list[str]) -> np.ndarray:
    """Per entry of `groups`, its place in the order: 0 for the highest priority — more groups first, then the
    higher groups (in `groups_order`, highest first), compared one by one."""
    order = sorted(range(len(groups)),
                   key=lambda k: (-len(groups[k]), [_group_rank(x, groups_order) for x in groups[k]]))
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
    program = program_of(rules_of(result))
    found = program.items.get(item) if program is not None else None
    return getattr(found.reason, lang) if found is not None else None


class _Branches:
    """What the branch reasons of a list call read, built once for every item: which branches of each item's rule
    give a reason (`reason:` beside a branch of an `any:`), and the vectorized evaluator over the households some
    such item lists (and all their members), from the result's inputs — so every engine's result is explained the
    same way. Without such an item, or for a result that does not carry the survey's inputs (one built by hand),
    there is no evaluator and lists give the rules' own reasons."""

    def __init__(self, result: Any, hh: pd.DataFrame, items: list[str], units: dict[str, str], mpos=None):
        rules = rules_of(result)
        program = program_of(rules)
        self.params = getattr(rules, "params", {})
        known = program.items if program is not None else {}
        self.conds = {i: known[i].eligible_when for i in items
                      if i in known and reasoned_branches(known[i].eligible_when)}
        self.ev = None
        if not self.conds:
            return
        self.mpos = _member_positions(result, hh) if mpos is None else mpos
        needed = np.zeros(len(hh), dtype=bool)
        self.chosen: dict[str, np.ndarray] = {}
        for i in self.conds:
            if units[i] == "person":  # the listed members' rows of result.members, in the order of _rows
                self.chosen[i] = np.flatnonzero(_truth(result.members[f"eligible_{i}"]).to_numpy() & (self.mpos >= 0))
                needed[self.mpos[self.chosen[i]]] = True
            else:
                self.chosen[i] = np.flatnonzero(_truth(hh[f"eligible_{i}"]).to_numpy())
                needed[self.chosen[i]] = True
        mem_mask = (self.mpos >= 0) & needed[np.maximum(self.mpos, 0)]
        try:
            self.ev = evaluator_for(rules, hh[needed], result.members[mem_mask])
        except UsageError:
            return
        self.hh_at = np.cumsum(needed) - 1  # a row of hh -> its place in the evaluator
        self.mem_at = np.cumsum(mem_mask) - 1  # a row of result.members -> its place in the evaluator

    def texts(self, item: str, rows: pd.DataFrame, person: bool, lang: str) -> pd.Series | None:
        """For each listed row of `item` (`rows`, as :func:`_rows` gives them), the reasons of the branches that hold
        for it, joined by "; " in the rule's order (empty where none does); None without branch reasons."""
        if self.ev is None or item not in self.conds or not len(rows):
            return None
        chosen = self.chosen[item]
        at = self.mem_at[chosen] if person else self.hh_at[chosen]
        held = [(text, mask[at]) for text, mask in branch_reasons(self.ev, self.conds[item],
                                                                  MEMBER if person else HOUSEHOLD, self.params, lang)]
        bits = np.zeros(len(rows), dtype=np.int64)
        for b, (_, mask) in enumerate(held):
            bits |= mask.astype(np.int64) << b
        present = np.unique(bits)
        texts = pd.array(["; ".join(t for b, (t, _) in enumerate(held) if int(v) >> b & 1) for v in present],
                         dtype="string")
        return pd.Series(texts[np.searchsorted(present, bits)], index=rows.index, dtype="string")

    def release(self) -> None:
        if self.ev is not None:
            self.ev.release()
            self.ev = None


def qualifying(rules: Any, lang: str) -> tuple[dict[str, str], dict[str, str]]:
    """What makes a household one the program supports, read from the program's target variable (program.yaml
    `target`): ({class id: its label, lowercased} for the classes its condition names, {status id: its reason
    phrase} for the statuses it reads), in `lang`."""
    program, regime = program_of(rules), getattr(rules, "regime", None)
    if program is None or program.program.target not in regime.derived:
        return {}, {}
    labels = {c.id: getattr(c.label, lang) for c in regime.classification.classes}
    classes: dict[str, str] = {}
    statuses: dict[str, str] = {}
    for node in walk(regime.derived[program.program.target].condition):
        if isinstance(node, m.Compare) and node.field == "eligibility_class" and node.op[0] in ("eq", "in"):
            value = node.op[1]
            for c in [value] if isinstance(value, str) else value if isinstance(value, list) else []:
                classes[c] = labels.get(c, c).lower()
        elif isinstance(node, m.Var) and node.var in regime.derived:
            d = regime.derived[node.var]
            phrase = getattr(d.reason, lang) if d.reason is not None else getattr(d.label, lang).lower()
            params = getattr(rules, "params", {})
            statuses[node.var] = phrase.format(**{p: params.get(p, "?") for p in placeholders(phrase)})
    return classes, statuses


def _reasons(rows: pd.DataFrame, cls: pd.Series, codes, groups: list[list[str]], person: bool, item: str,
             lang: str, because: str | None = None, labels: dict[str, str] | None = None,
             qualify: tuple[dict[str, str], dict[str, str]] = ({}, {}), branches: pd.Series | None = None
             ) -> pd.Series:
    """Why a row is on the list, in `lang`: the rules' own reason column when the result has one, else what makes it
    one the program supports (its class, else the first status that holds — `qualify`, see :func:`qualifying`),
    the reasons of the branches of the item's rule that hold for the row (`branches`, see :class:`_Branches`) or
    else the item rule's own reason (`because`), and the priority groups (`labels`: their labels). A row whose
    household the program does not support as such (a low-income worker) shows its branches' reasons alone. Rendered
    once per distinct combination."""
    own = f"reason_{item}"
    if own in rows.columns:
        return rows[own].astype("string")
    L = _T.get(lang, _T["vi"])
    P = labels or {}
    classes, statuses = qualify
    false = pd.Series(False, index=rows.index)
    key = pd.DataFrame({
        "cls": cls.astype("string").fillna(""),
        **{f"s_{k}": _truth(rows[sid]) if sid in rows.columns else false for k, sid in enumerate(statuses)},
        "mismatch": _truth(rows["class_mismatch"]) if "class_mismatch" in rows.columns else false,
        "prio": codes,
        "branch": branches.fillna("") if branches is not None else pd.Series("", index=rows.index, dtype="string"),
    }, index=rows.index)
    if not len(key):
        return pd.Series([], index=rows.index, dtype="string")
    at = key.groupby(list(key.columns), sort=False).ngroup().to_numpy()
    phrases = list(statuses.values())
    texts = []
    for c, *held, mismatch, g, branch in key.drop_duplicates().itertuples(index=False):  # ngroup(sort=False)'s order
        first = next((phrases[k] for k, h in enumerate(held) if h), None)
        own = branch or because
        if c in classes:
            status = classes[c] + (f" ({L['recognised']})" if mismatch else "")
        elif first is not None:
            status = first
        else:
            status = branch or L["other"]
        qualified = c in classes or first is not None
        if person and qualified:
            status = f"{L['member']} {status}"
        text = status[:1].upper() + status[1:]
        if qualified and own:
            text += f": {own}"
        if groups[g]:
            text += f"; {L['priority']}: " + ", ".join(P.get(x, x) for x in groups[g])
        texts.append(text)
    return pd.Series(pd.array(texts, dtype="string")[at], index=rows.index, dtype="string")


# --------------------------------------------------------------------------------------------------------------
# writing


def write_lists(lists: dict[str, pd.DataFrame], counts: pd.DataFrame, rejects: pd.DataFrame | None,
                out_dir: str | Path, fmt: str = "csv", lang: str = "vi", show_names: bool = False,
                raw_text: bool = False, how: w.Written | None = None) -> list[Path]:
    """Write ``eligible_<item>``, ``counts`` and ``rejects`` with the results writer: csv or parquet files, or one
    ``eligible.xlsx`` with a sheet per item (sheet name = item id), ``counts`` and ``rejects``, labelled as
    results.xlsx is. ``raw_text``: CSV text exactly as in the data (no ``'`` before a formula-like value); ``how``:
    BOM, ``--labels``, the rules' labels and the info sheet's lines."""
    how = w.settled(how, lang, raw_text)
    frames = {f"eligible_{i}": df for i, df in lists.items()}
    frames[COUNTS] = counts
    frames["rejects"] = w.prepare_rejects(rejects, lang, show_names)
    if fmt != "xlsx":
        return w.write_tables(frames, out_dir, fmt, how=how, tables=LIST_TABLES)
    sheets = {(k[len("eligible_"):] if k.startswith("eligible_") else k): v for k, v in frames.items()}
    w.check_excel_rows(sheets)
    return [w.write_xlsx(sheets, w.make_out_dir(out_dir) / XLSX_NAME, how, LIST_TABLES)]


LIST_TABLES: dict[str, str | None] = {COUNTS: None, "rejects": None}  # a list's columns are the households' (or None)


def output_names(item: str | None = None, fmt: str = "csv", rules: Any = None) -> list[str]:
    """The files :func:`write_lists` may write (every item of the rules' program, or only `item`): checked before a
    survey is read."""
    if fmt == "xlsx":
        return [XLSX_NAME]
    items = [item] if item else list(item_units(rules))
    return [f"eligible_{i}.{fmt}" for i in items] + [f"{COUNTS}.{fmt}", f"rejects.{fmt}"]


# --------------------------------------------------------------------------------------------------------------
# on screen

_SCREEN = {
    "vi": {"title": "Số đối tượng theo hạng mục", "item": "Hạng mục", "unit": "Đơn vị", "eligible": "Đủ điều kiện",
           "undecided": "Chưa xác định", "split": "Chưa xác định = chưa rõ phân loại hộ + thiếu thông tin",
           "household": "hộ", "person": "người"},
    "en": {"title": "Eligible per item", "item": "Item", "unit": "Unit", "eligible": "Eligible",
           "undecided": "Undecided", "split": "Undecided = household class unknown + an answer missing",
           "household": "households", "person": "people"},
}


def render_counts(counts: pd.DataFrame, lang: str = "vi", rules: Any = None):
    """A rich table: per item, its label (the rules' program's), how many are eligible and how many undecided, with
    the undecided split by cause (class unknown + an answer missing, the caption says so) — all communes together."""
    S = _SCREEN.get(lang, _SCREEN["vi"])
    program = program_of(rules)
    labels = {i: getattr(it.label, lang) for i, it in program.items.items()} if program is not None else {}
    units = item_units(rules)
    split = UNDECIDED_CLASS in counts.columns and UNDECIDED_ANSWER in counts.columns
    table = Table(title=S["title"], title_justify="left", caption=S["split"] if split else None,
                  caption_justify="left")
    for key, right in (("item", False), ("unit", False), ("eligible", True), ("undecided", True)):
        table.add_column(S[key], justify="right" if right else "left")
    totals = counts.groupby("item", sort=False)[[c for c in COUNTED if c in counts.columns]].sum()

    def number(v) -> str:
        text = f"{int(v):,}"
        return text.replace(",", ".") if lang == "vi" else text

    for i, row in totals.iterrows():
        undecided = number(row["undecided"])
        if split:
            undecided += f" = {number(row[UNDECIDED_CLASS])} + {number(row[UNDECIDED_ANSWER])}"
        table.add_row(f"{labels.get(i, i)} ({i})", S[units.get(i, "household")], number(row["eligible"]), undecided)
    return table
