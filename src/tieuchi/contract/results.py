"""The labelled view of a written table: what a person reads in results.xlsx, eligible.xlsx or a ``--labels`` CSV.

Headers and meanings of the columns tieuchi writes come from ``results.yaml`` (their one owner), the survey's own
columns carried through from ``columns.yaml`` (the template's header); the labels of classes, indicators, items,
priority groups and statuses from the loaded rules, handed in as a :class:`RuleLabels` (built by
``tieuchi.rulebook.labels``: this layer knows no rules). Codes are shown as a person types them: booleans as
"Có"/"Không", a survey code as its first alias in columns.yaml ("Nam", "Nông thôn"), a class as the rules' label.

Work is per column and per distinct value (:func:`recode`), never per cell: a million rows hold a few distinct
codes. :func:`labelled` also returns the code ↔ label pairs it used, which a workbook keeps (sheet ``codes``) so that
a program reads the machine codes back (:func:`tieuchi.contract.workbook.read_workbook`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any, Callable

import numpy as np
import pandas as pd
import yaml

from tieuchi.contract.columns import TABLES, column_table, columns

SEP = ";"  # how a file joins several codes in one cell (data contract §2)
LABEL_SEP = "; "  # how a labelled view joins their labels
KINDS = ("text", "int", "money", "number", "date", "share")


@dataclass(frozen=True)
class RuleLabels:
    """What the loaded rules name, in one language: built from the rules by ``tieuchi.rulebook.labels``.
    ``columns``: result columns the rules write (statuses, derived outputs, shares) -> (header, meaning)."""

    lang: str = "vi"
    classes: dict[str, str] = field(default_factory=dict)
    indicators: dict[str, str] = field(default_factory=dict)
    items: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    columns: dict[str, tuple[str, str]] = field(default_factory=dict)
    regime: str = ""
    regime_label: str = ""
    rules_version: str = ""
    reference_date: Any = None


@dataclass
class Labelled:
    """A frame as a person reads it: ``frame`` (the same column ids, values labelled), ``headers`` (one per column),
    ``kinds`` (how a workbook formats each), ``notes`` (what each holds) and ``codes``: the (column, kind, code,
    label) pairs used, kind ``one`` / ``many`` / ``bool``."""

    frame: pd.DataFrame
    headers: list[str]
    kinds: list[str]
    notes: list[str]
    codes: list[tuple[str, str, str, str]]


@cache
def spec() -> dict:
    """results.yaml, loaded once."""
    return yaml.safe_load(files("tieuchi.contract").joinpath("results.yaml").read_text(encoding="utf-8"))


def booleans(lang: str) -> tuple[str, str]:
    yes, no = spec()["booleans"][lang if lang in spec()["booleans"] else "vi"]
    return yes, no


def _survey_spec(name: str, table: str | None):
    order = ([table] if table in TABLES else []) + [t for t in TABLES if t != table]
    for t in order:
        s = columns(t).get(name)
        if s is not None:
            return s
    return None


def _prefix(name: str) -> tuple[str, str] | None:
    for p in spec()["prefixes"]:
        if name.startswith(p) and len(name) > len(p):
            return p, name[len(p):]
    return None


def _family_label(p: str, rest: str, rules: RuleLabels) -> str:
    table = rules.indicators if p == "deprived_" else rules.items
    return table.get(rest, rest)


def header(name: str, lang: str = "vi", rules: RuleLabels | None = None, table: str | None = None) -> str:
    """The header a person reads for column ``name`` (the id itself when nobody names it: a carried-through extra
    column keeps the header it had)."""
    rules = rules or RuleLabels(lang=lang)
    own = spec()["columns"].get(name)
    if own is not None:
        return own[lang]
    if name in rules.columns:
        return rules.columns[name][0]
    hit = _prefix(name)
    if hit is not None:
        p, rest = hit
        return spec()["prefixes"][p][lang].format(label=_family_label(p, rest, rules))
    s = _survey_spec(name, table)
    if s is not None:
        return s.header if lang == "vi" else name.replace("_", " ").capitalize()
    return name


def note(name: str, lang: str = "vi", rules: RuleLabels | None = None, table: str | None = None) -> str:
    """What column ``name`` holds, in ``lang`` (empty when nobody says)."""
    rules = rules or RuleLabels(lang=lang)
    own = spec()["columns"].get(name)
    if own is not None:
        return own.get(f"{lang}_note", "")
    if name in rules.columns:
        return rules.columns[name][1]
    hit = _prefix(name)
    if hit is not None:
        p, rest = hit
        return spec()["prefixes"][p][f"{lang}_note"].format(label=_family_label(p, rest, rules))
    s = _survey_spec(name, table)
    return (s.vi if lang == "vi" else s.en) if s is not None else ""


def _input_headers(lang: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for t in TABLES:
        for n in columns(t):
            out.setdefault(n, header(n, lang, table=t))
    return out


def value_labels(name: str, lang: str = "vi", rules: RuleLabels | None = None,
                 table: str | None = None) -> tuple[str, dict[str, str]] | None:
    """How column ``name``'s codes are shown: (``one`` or ``many``, {code: label}), or None (shown as they are).
    ``many``: several codes joined by ';' in one cell."""
    rules = rules or RuleLabels(lang=lang)
    own = spec()["columns"].get(name)
    key = own.get("values") if own is not None else None
    if key is None and _prefix(name) and _prefix(name)[0] == "priority_":
        key = "priority_groups"
    if key is not None:
        many = key in ("priority_groups", "input_columns") and name != "column"
        if key == "class":
            return "one", rules.classes
        if key == "items":
            return "one", rules.items
        if key == "priority_groups":
            return "many", rules.groups
        if key == "input_columns":
            return ("many" if many else "one"), _input_headers(lang)
        return "one", {c: v[lang] for c, v in spec()["values"][key].items()}
    s = _survey_spec(name, table)
    if s is None or s.type not in ("code", "codes") or not s.codes:
        return None
    if rules.classes and set(s.codes) <= set(rules.classes):  # a class the user typed: the rules' label
        mapping = {c: rules.classes[c] for c in s.codes}
    elif lang == "vi":
        mapping = dict(s.labels)
    else:  # the survey's codes have Vietnamese labels only; their ids are English words
        return None
    return ("many" if s.type == "codes" else "one"), mapping


def kind(name: str, s: pd.Series, table: str | None = None) -> str:
    """How a workbook formats column ``name``: results.yaml's ``kind``, else the survey column's type, else the
    values' type."""
    own = spec()["columns"].get(name)
    if own is not None and own.get("kind"):
        return own["kind"]
    extra = spec().get("kinds", {}).get(name)
    if extra:
        return extra
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return "date"
    sp = _survey_spec(name, table)
    if sp is not None:
        return {"int": "number", "number": "number", "date": "date"}.get(sp.type, "text")
    if pd.api.types.is_bool_dtype(s.dtype):
        return "text"
    if pd.api.types.is_integer_dtype(s.dtype):
        return "int"
    if pd.api.types.is_float_dtype(s.dtype):
        return "number"
    return "text"


def recode(s: pd.Series, fn: Callable[[str], Any]) -> pd.Series:
    """``fn`` applied once per distinct (text) value of ``s``; missing stays missing. A categorical column out (its
    categories the distinct labels), which every writer turns into cells without Python per cell."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes, uniques = s.cat.codes.to_numpy(), list(s.cat.categories)
    else:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
    shown = [fn(str(u)) for u in uniques]
    return _categorical(codes, shown, s.index)


def _categorical(codes: np.ndarray, shown: list, index: pd.Index) -> pd.Series:
    """Codes into ``shown`` (None: missing) as a categorical of the distinct labels."""
    cats = list(dict.fromkeys(v for v in shown if v is not None))
    where = {v: i for i, v in enumerate(cats)}
    table = np.array([where[v] if v is not None else -1 for v in shown] + [-1], dtype=np.int64)
    return pd.Series(pd.Categorical.from_codes(table[codes], categories=cats), index=index)


def is_boolean(s: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(s.dtype):
        return True
    if s.dtype == object:  # a frame built by hand: True / False / None objects (inferred in C, not per cell here)
        return s.notna().any() and pd.api.types.infer_dtype(s, skipna=True) == "boolean"
    return False


def bool_text(s: pd.Series, lang: str) -> pd.Series:
    yes, no = booleans(lang)
    v = s.astype("boolean")
    codes = np.where(v.isna().to_numpy(), -1, np.where(v.fillna(False).to_numpy(dtype=bool), 0, 1))
    return _categorical(codes, [yes, no], s.index)


def labelled(df: pd.DataFrame, table: str | None = None, lang: str = "vi",
             rules: RuleLabels | None = None) -> Labelled:
    """``df`` as a person reads it (see the module's docstring). Column ids are kept as the frame's columns."""
    rules = rules or RuleLabels(lang=lang)
    out: dict[str, pd.Series] = {}
    heads, kinds, notes, codes = [], [], [], []
    yes, no = booleans(lang)
    for name in df.columns:
        s = df[name]
        n = str(name)
        k = kind(n, s, table)
        if is_boolean(s):
            s = bool_text(s, lang)
            codes += [(n, "bool", "true", yes), (n, "bool", "false", no)]
            k = "text"
        else:
            how = value_labels(n, lang, rules, table)
            if how is not None and how[1]:
                many, mapping = how[0] == "many", how[1]
                if many:
                    s = recode(s, lambda v, m=mapping: LABEL_SEP.join(m.get(c, c) for c in v.split(SEP) if c))
                else:
                    s = recode(s, lambda v, m=mapping: m.get(v, v))
                codes += [(n, how[0], c, lab) for c, lab in mapping.items()]
            elif k == "date" and not pd.api.types.is_datetime64_any_dtype(s.dtype):
                s = pd.to_datetime(s.astype("string"), errors="coerce", format="ISO8601")
        out[name] = s
        heads.append(header(n, lang, rules, table))
        kinds.append(k)
        notes.append(note(n, lang, rules, table))
    frame = pd.DataFrame(out, index=df.index, columns=df.columns)
    return Labelled(frame, heads, kinds, notes, codes)


def bool_values() -> dict[str, bool]:
    """Every accepted spelling of a boolean (columns.yaml's), by its matching key."""
    return column_table().bool_map
