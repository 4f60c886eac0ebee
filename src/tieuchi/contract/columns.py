"""The survey's column table (columns.yaml): canonical names, types, and the Vietnamese aliases of headers and values.

Loaded once. The reader maps headers through `header_map`, the validator maps values through `ColumnSpec.value_map`,
the template writes `ColumnSpec.header` and `ColumnSpec.labels`. Matching uses `key()`: NFC, trimmed, inner
whitespace collapsed, case-folded; an accent-less form of every alias is accepted too when it is unambiguous.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Iterable
from importlib.resources import files

import yaml

TABLES = ("households", "members", "communes")
TYPES = ("text", "code", "codes", "bool", "int", "number", "date")


def key(text: object) -> str:
    """The matching form of a header or value: NFC, trimmed, whitespace collapsed, case-folded."""
    return " ".join(unicodedata.normalize("NFC", str(text)).split()).casefold()


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _alias_map(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """alias -> target; exact keys first, then accent-less keys that point to a single target."""
    exact: dict[str, str] = {}
    for alias, target in pairs:
        k = key(alias)
        if exact.get(k, target) != target:
            raise ValueError(f"columns.yaml: alias {alias!r} points to both {exact[k]!r} and {target!r}")
        exact[k] = target
    loose: dict[str, set[str]] = {}
    for k, target in exact.items():
        loose.setdefault(strip_accents(k), set()).add(target)
    out = {k: next(iter(t)) for k, t in loose.items() if len(t) == 1 and k not in exact}
    out.update(exact)
    return out


@dataclass(frozen=True)
class ColumnSpec:
    table: str
    name: str
    type: str
    required: bool = False
    one_of: str | None = None
    min: float | None = None
    max: float | None = None
    header: str = ""
    aliases: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)  # code -> Vietnamese label (the drop-down value)
    value_map: dict[str, str] = field(default_factory=dict)  # key(value) -> canonical code
    vi: str = ""
    en: str = ""
    personal: bool = False  # personal data: written only on request, never echoed in a reject

    @property
    def headers(self) -> tuple[str, ...]:
        """Every accepted header: canonical name, Vietnamese header, aliases."""
        return (self.name, self.header, *self.aliases)


@dataclass(frozen=True)
class ColumnTable:
    columns: dict[str, dict[str, ColumnSpec]]  # table -> name -> spec, in file order
    header_maps: dict[str, dict[str, str]]  # table -> key(header) -> canonical name
    sheet_map: dict[str, str]  # key(sheet name) -> table
    sheet_names: dict[str, tuple[str, ...]]
    bool_map: dict[str, bool]  # key(value) -> bool
    bool_labels: tuple[str, str]  # Vietnamese (true, false) labels
    personal: dict[str, tuple[str, ...]] = field(default_factory=dict)  # the `personal:` word lists, as word keys


def _spec(table: str, raw: dict) -> ColumnSpec:
    unknown = set(raw) - {"name", "type", "required", "one_of", "min", "max", "header", "aliases", "codes", "vi", "en",
                          "personal"}
    if unknown or raw.get("type") not in TYPES:
        raise ValueError(f"columns.yaml: {table}.{raw.get('name')}: bad keys {sorted(unknown)} "
                         f"or type {raw.get('type')!r}")
    codes = raw.get("codes") or {}
    pairs = [(c, c) for c in codes] + [(v, c) for c, vals in codes.items() for v in vals]
    return ColumnSpec(
        table=table, name=raw["name"], type=raw["type"], required=bool(raw.get("required", False)),
        one_of=raw.get("one_of"), min=raw.get("min"), max=raw.get("max"), header=raw["header"],
        aliases=tuple(raw.get("aliases", ())), codes=tuple(codes), labels={c: v[0] for c, v in codes.items()},
        value_map=_alias_map(pairs), vi=raw["vi"], en=raw["en"], personal=bool(raw.get("personal", False)),
    )


@cache
def column_table() -> ColumnTable:
    data = yaml.safe_load(files("tieuchi.contract").joinpath("columns.yaml").read_text(encoding="utf-8"))
    columns = {t: {c["name"]: _spec(t, c) for c in data["tables"][t]} for t in TABLES}
    header_maps = {t: _alias_map([(h, s.name) for s in cols.values() for h in s.headers])
                   for t, cols in columns.items()}
    sheets = {t: tuple(data["sheets"][t]) for t in TABLES}
    sheet_map = _alias_map([(n, t) for t, names in sheets.items() for n in (t, *names)])
    bools = data["bool_values"]
    bool_map = _alias_map([(v, "true") for v in bools["true"]] + [(v, "false") for v in bools["false"]])
    personal = data["personal"]
    words = {k: tuple(_words(w, plain=k in ("name_words", "not_words_plain")) for w in personal[k])
             for k in ("name_words", "name_headers", "not_words", "not_words_plain")}
    return ColumnTable(
        columns=columns, header_maps=header_maps, sheet_map=sheet_map, sheet_names=sheets,
        bool_map={k: v == "true" for k, v in bool_map.items()}, bool_labels=(bools["true"][0], bools["false"][0]),
        personal=words,
    )


def columns(table: str) -> dict[str, ColumnSpec]:
    """The column specs of one table, by canonical name, in contract order."""
    return column_table().columns[table]


def canonical_header(table: str, header: object) -> str | None:
    """The canonical column name a header stands for, or None for an unknown (extra) column."""
    return column_table().header_maps[table].get(key(header)) or column_table().header_maps[table].get(
        strip_accents(key(header)))


def canonical_sheet(name: object) -> str | None:
    m = column_table().sheet_map
    return m.get(key(name)) or m.get(strip_accents(key(name)))


def lookup(mapping: dict[str, str], value: object):
    """Look a value up in an alias map: exact key, then accent-less key."""
    k = key(value)
    hit = mapping.get(k)
    return hit if hit is not None else mapping.get(strip_accents(k))


# --------------------------------------------------------------------------------------------------------------
# personal data: one rule, used by every writer and by the rejects (see `personal:` in columns.yaml)


def _words(text: object, plain: bool = False) -> str:
    """A header as words: "fullName" -> "full name", "Họ_tên-chủ hộ" -> "họ tên chủ hộ" (accent-less if `plain`),
    wrapped in spaces so that a word list can be looked for as " a b " inside it."""
    t = key(re.sub(r"([a-z])([A-Z])", r"\1 \2", unicodedata.normalize("NFC", str(text))))
    if plain:
        t = strip_accents(t)
    return " " + " ".join(re.findall(r"[^\W_]+", t)) + " "


def known_personal_columns() -> tuple[str, ...]:
    """The canonical columns marked `personal: true` (full_name)."""
    return tuple(dict.fromkeys(s.name for cols in column_table().columns.values() for s in cols.values()
                               if s.personal))


@cache
def _known_columns() -> frozenset[str]:
    return frozenset(n for cols in column_table().columns.values() for n in cols)


@lru_cache(maxsize=4096)
def looks_like_name(header: str) -> bool:
    """Whether a header not in the tables looks like the header of a person's name (see columns.yaml)."""
    p = column_table().personal
    accented, plain = _words(header), _words(header, plain=True)
    ascii_only = accented == plain
    if any(w in accented for w in p["not_words"]) or (ascii_only and any(w in plain for w in p["not_words_plain"])):
        return False
    if accented in p["name_headers"] or (ascii_only and plain in {strip_accents(w) for w in p["name_headers"]}):
        return True
    return any(w in plain for w in p["name_words"])


def personal_columns(names: Iterable[object]) -> list:
    """Those of `names` (column names, in their order) that hold personal data: a canonical column marked personal,
    or a column the tables do not name whose header looks like a person's name. The one rule every writer and the
    rejects use."""
    known = _known_columns()
    marked = set(known_personal_columns())
    return [n for n in names if isinstance(n, str) and (n in marked or (n not in known and looks_like_name(n)))]
