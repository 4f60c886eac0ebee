"""One household as a JSON document (data contract §1.4), as pydantic models built from the column table.

`Household` and `Member` are generated from `tieuchi/contract/columns.yaml` with `create_model`, so the document model
and the survey reader never drift: the same columns, types, required fields, ranges and code aliases (Vietnamese
values such as "Nữ" or "Nông thôn" are accepted, as the survey reader accepts them). Values are accepted as JSON types
or as the text a CSV cell would hold ("có", "1.500.000", "01/07/1980"). `null` is an unknown answer, never false.

This module reads `tieuchi.contract.columns` (the one alias table) rather than keeping its own copy of the columns, so
that the two cannot drift.

`parse_household(data)` returns a `Household` or raises `DocumentError`, whose problems name each field the way a user
finds it in the document (`members[2].sex`) and say what is allowed.
"""
from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import unicodedata
from functools import cache
from typing import Annotated, Any, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, create_model, model_validator
from pydantic_core import PydanticCustomError

from tieuchi.contract.columns import canonical_header, column_table, columns, lookup
from tieuchi.contract.parse import date_of_text
from tieuchi.contract.problems import allowed_values
from tieuchi.errors import DataError

_GROUPED = re.compile(r"[+-]?\d{1,3}(?:([., ])\d{3})(?:\1\d{3})*")


def _err(kind: str, vi: str, en: str, **ctx) -> PydanticCustomError:
    return PydanticCustomError(kind, en, {"vi": vi, **ctx})


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        t = unicodedata.normalize("NFC", v).strip()
        return t or None
    return str(v)


# ---------------------------------------------------------------------------------------------------- per type


def _code(spec):
    allowed, allowed_vi = ", ".join(allowed_values(spec, "en")), ", ".join(allowed_values(spec, "vi"))

    def check(v):
        t = _text(v)
        if t is None:
            return None
        if isinstance(v, (bool, int, float)):
            t = str(v)
        hit = lookup(spec.value_map, t)
        if hit is None:
            raise _err("invalid_code", f"'{t}' không nằm trong danh mục; dùng một trong: {allowed_vi}",
                       f"'{t}' is not allowed; use one of: {allowed}")
        return hit

    return check


def _codes(spec):
    allowed, allowed_vi = ", ".join(allowed_values(spec, "en")), ", ".join(allowed_values(spec, "vi"))

    def check(v):
        if isinstance(v, list):
            parts = [_text(x) for x in v]
            if not v:
                return None  # an empty list is an empty cell: unknown ("none" says the household has none)
        else:
            t = _text(v)
            if t is None:
                return None
            parts = [p.strip() for p in t.split(";")]
        parts = [p for p in parts if p]
        found = [lookup(spec.value_map, p) for p in parts]
        bad = [p for p, f in zip(parts, found) if f is None]
        if bad:
            raise _err("invalid_code", f"'{bad[0]}' không nằm trong danh mục; dùng các giá trị: {allowed_vi} "
                                       "(cách nhau bằng dấu ;)",
                       f"'{bad[0]}' is not allowed; use any of: {allowed} (separated by ';')")
        if "none" in found and len(set(found)) > 1:
            raise _err("invalid_code", f"'{spec.labels.get('none', 'none')}' không đi cùng giá trị khác",
                       "'none' cannot be listed with other values")
        return ";".join(sorted(set(found))) if found else None

    return check


def _bool(spec):
    def check(v):
        if v is None or isinstance(v, bool):
            return v
        t = _text(v)
        if t is None:
            return None
        hit = lookup(column_table().bool_map, t)
        if hit is None:
            raise _err("invalid_bool", f"'{t}' không phải Có/Không; ghi Có hoặc Không (trong JSON: true/false), null "
                                       "nếu chưa biết",
                       f"'{t}' is not yes/no; write true or false (or Có/Không), null when unknown")
        return hit

    return check


def _number(spec):
    integer = spec.type == "int"
    low = spec.min
    high = spec.max

    def check(v):
        if v is None:
            return None
        if isinstance(v, bool):
            x = None
        elif isinstance(v, (int, float)):
            x = float(v)
        else:
            t = _text(v)
            if t is None:
                return None
            if _GROUPED.fullmatch(t):
                t = re.sub(r"[., ]", "", t)
            try:
                x = float(t.replace(",", ".")) if not integer else float(t)
            except ValueError:
                x = None
        what = "a whole number" if integer else "a number"
        if x is None or not math.isfinite(x) or (integer and not x.is_integer()):
            raise _err("invalid_number", f"'{v}' không phải {'số nguyên' if integer else 'số'} hợp lệ",
                       f"'{v}' is not {what}")
        if low is not None and x < low:
            raise _err("out_of_range", f"{v} nhỏ hơn mức tối thiểu {low:g}", f"{v} is below the minimum {low:g}")
        if high is not None and x > high:
            raise _err("out_of_range", f"{v} lớn hơn mức tối đa {high:g}", f"{v} is above the maximum {high:g}")
        return int(x) if integer else x

    return check


def _date(spec):
    def check(v):
        if v is None or (isinstance(v, dt.date) and not isinstance(v, dt.datetime)):
            return v
        t = _text(v)
        if t is None:
            return None
        day = date_of_text(t)
        if day is not None:
            return day
        raise _err("invalid_date", f"'{t}' không phải ngày hợp lệ; ghi YYYY-MM-DD hoặc DD/MM/YYYY",
                   f"'{t}' is not a date; write YYYY-MM-DD or DD/MM/YYYY")

    return check


def _id(spec):
    def check(v):
        if isinstance(v, bool) or isinstance(v, float) and not v.is_integer():
            raise _err("invalid_id", "mã phải là chữ hoặc số nguyên", "an id is text or a whole number")
        if isinstance(v, float):
            v = int(v)
        return _text(v)

    return check


_PY = {"text": str, "code": str, "codes": str, "bool": bool, "int": int, "number": float, "date": dt.date}
_CHECKS = {"code": _code, "codes": _codes, "bool": _bool, "int": _number, "number": _number, "date": _date,
           "text": _id}


def _field(spec) -> tuple[Any, Any]:
    kind = _PY[spec.type]
    validator = BeforeValidator(_CHECKS[spec.type](spec))
    desc = f"{spec.en} / {spec.vi}"
    if spec.required:
        return Annotated[kind, validator], Field(..., description=desc)
    return Annotated[Optional[kind], validator], Field(None, description=desc)


# ---------------------------------------------------------------------------------------------------- models


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid")
    _table = ""

    @model_validator(mode="before")
    @classmethod
    def _canonical_keys(cls, data: Any) -> Any:
        """Vietnamese headers and other aliases of the column table are accepted as keys, as in a survey file."""
        if not isinstance(data, dict):
            return data
        out = {}
        for k, v in data.items():
            name = canonical_header(cls._table, k) if isinstance(k, str) and k != "members" else None
            out[name if name and name not in data else k] = v
        return out


def _build(table: str, skip: set[str], extra_fields: dict | None = None):
    fields = {name: _field(spec) for name, spec in columns(table).items() if name not in skip}
    model = create_model(table.capitalize().rstrip("s") if table != "households" else "Household",
                         __base__=_Document, **fields, **(extra_fields or {}))
    model._table = table
    return model


@cache
def models() -> tuple[type[BaseModel], type[BaseModel]]:
    """(Household, Member), built from the column table once."""
    member = _build("members", {"household_id"})
    groups = {}
    for s in columns("members").values():
        if s.one_of:
            groups.setdefault(s.one_of, []).append(s.name)

    def one_of(self):
        for names in groups.values():
            if all(getattr(self, n) is None for n in names):
                raise _err("required", "cần một trong các trường: "
                           + ", ".join(f"{n} ({columns('members')[n].header})" for n in names),
                           "give one of: " + ", ".join(names))
        return self

    member = create_model("Member", __base__=member, __validators__={"_one_of": model_validator(mode="after")(one_of)})
    member._table = "members"
    household = _build("households", set(), {"members": (list[member], Field(..., min_length=1))})
    return household, member


def __getattr__(name):  # `from tieuchi.contract.household import Household, Member`
    if name == "Household":
        return models()[0]
    if name == "Member":
        return models()[1]
    raise AttributeError(name)


# ---------------------------------------------------------------------------------------------------- errors


class DocumentError(DataError):
    """A household document that does not fit the contract (exit 1). `.problems`: (field path, message) pairs in
    the language asked for."""

    code = "household_document_invalid"

    def __init__(self, problems: list[tuple[str, str]], lang: str = "vi"):
        n = len(problems)
        lines = "\n".join(f"  {where}: {what}" for where, what in problems)
        vi = f"tài liệu hộ không hợp lệ ({n} lỗi):\n{lines}"
        en = f"the household document is not valid ({n} problem(s)):\n{lines}"
        super().__init__(en if lang == "en" else vi,
                         "fix the fields listed and run again" if lang == "en" else "sửa các trường trên rồi chạy lại",
                         vi=vi if lang == "vi" else None)
        self.problems = problems


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(document)"


def _nearest(table: str, key: str) -> str | None:
    names = [n for n in columns(table) if not (table == "members" and n == "household_id")]
    if table == "households":
        names.append("members")
    starts = [n for n in names if n.startswith(key.lower()[:4])] if len(key) >= 4 else []
    close = difflib.get_close_matches(key, starts, n=1, cutoff=0.5) or \
        difflib.get_close_matches(key, names, n=1, cutoff=0.5)
    return close[0] if close else None


def _message(e: dict, lang: str) -> str:
    kind = e["type"]
    ctx = e.get("ctx") or {}
    vi = lang == "vi"
    loc = e["loc"]
    if kind == "extra_forbidden":
        table = "members" if len(loc) > 1 and loc[0] == "members" else "households"
        near = _nearest(table, str(loc[-1]))
        if vi:
            return "trường không có trong hợp đồng dữ liệu" + (f" — có phải ý bạn là '{near}'?" if near else "")
        return "not a column of the data contract" + (f" — did you mean '{near}'?" if near else "")
    if kind == "missing":
        return "trường bắt buộc bị thiếu" if vi else "a required field is missing"
    if "vi" in ctx:
        return ctx["vi"] if vi else e["msg"]
    if kind == "too_short" and loc == ("members",):
        return "hộ phải có ít nhất một thành viên" if vi else "a household needs at least one member"
    if kind in ("list_type", "model_type", "dict_type"):
        return ("phải là một danh sách các đối tượng thành viên" if loc == ("members",) else "kiểu không đúng") if vi \
            else ("must be a list of member objects" if loc == ("members",) else "wrong type")
    if kind in ("string_type",):
        return "phải là chữ" if vi else "must be text"
    return e["msg"]


def parse_household(data: Any, lang: str = "vi"):
    """Validate one household document; every problem is collected before raising `DocumentError`."""
    household, _ = models()
    if not isinstance(data, dict):
        raise DocumentError([("(document)", "phải là một đối tượng JSON của một hộ" if lang == "vi"
                              else "must be a JSON object holding one household")], lang)
    try:
        return household.model_validate(data)
    except ValidationError as exc:
        problems = []
        for e in exc.errors(include_url=False):
            loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            e = {**e, "loc": loc}
            where = _path(loc)
            if len(loc) > 1 and loc[0] == "members" and isinstance(loc[1], int):
                members = data.get("members")
                no = members[loc[1]].get("member_no") if isinstance(members, list) and loc[1] < len(members) \
                    and isinstance(members[loc[1]], dict) else None
                if no is not None:
                    where += f" ({'thành viên số' if lang == 'vi' else 'member_no'} {no})"
            problems.append((where, _message(e, lang)))
        raise DocumentError(problems, lang) from None


def document(hh) -> dict:
    """A validated household as a canonical JSON document (codes as ids, dates ISO, unknowns null)."""
    return hh.model_dump(mode="json")
