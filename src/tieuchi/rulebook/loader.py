"""The one module that reads rule files.

YAML is parsed with a safe loader that builds only plain data (no tags, so a rule file can never run code), refuses
duplicate keys, and remembers the line of every key so that errors say `file:line`. Pydantic models then validate the
shape (unknown keys refused, with a "did you mean" suggestion), and cross-checks tie names together: every parameter,
variable, field and instrument a rule names must exist.
"""
from __future__ import annotations

import calendar
import datetime as dt
import difflib
import functools
import hashlib
import math
import typing
import re
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from tieuchi.rulebook import vocabulary as m
from tieuchi.rulebook.overlay import Overlay
from tieuchi.rulebook.plan import Plan
from tieuchi.errors import SHOWN, RulesError, UsageError, clip
from tieuchi.contract.columns import known_personal_columns

# ----------------------------------------------------------------------------------------------------------------
# YAML with line numbers
#
# Rule files are read by legal officers: they hold plain data only. The reader is YAML-1.2-core-like and refuses
# what a rule file has no need of and what would let a small file exhaust the reader: anchors and aliases (a 3 KB
# file of nested aliases expands to billions of nodes), explicit tags (`!!binary`, `!!python/…`, `!local`), nesting
# deeper than MAX_DEPTH (the composer recurses once per level), YAML 1.1 number forms (`0x1F`, `0o17`, `017`,
# `1_000`, base 60 `190:20:30`, `.inf`, `.nan`), integers of more than 18 digits, days that do not exist and times of
# day. Each refusal is a RulesError naming the file and line.

MAX_DEPTH = 64  # levels of nesting a rule file may have; the deepest shipped file has 17
MAX_INT_DIGITS = 18  # an integer in a rule file fits int64 with room to spare
MAX_SHOWN = SHOWN  # characters of a user's value echoed in a message
MAX_PROBLEMS = 20  # problems listed in one message; the others are counted


def shown(value: Any, limit: int = MAX_SHOWN) -> str:
    """The repr of a user's value, cut short (a value may be as long as its file)."""
    if isinstance(value, (list, dict)) and len(value) > limit:  # repr of the first items only, not of the whole
        value = type(value)(list(value.items())[:limit]) if isinstance(value, dict) else value[:limit]
    return clip(repr(value), limit)


def listed(problems: list[str], lang: str = "en") -> str:
    """Problems one per line: the first MAX_PROBLEMS, then how many more there are."""
    if len(problems) <= MAX_PROBLEMS:
        return "\n".join(problems)
    more = len(problems) - MAX_PROBLEMS
    tail = f"… and {more} more problems" if lang == "en" else f"… và {more} lỗi khác"
    return "\n".join([*problems[:MAX_PROBLEMS], tail])


class _Map(dict):
    """A mapping that remembers the line of itself and of each key (1-based)."""

    line: int = 0
    key_lines: dict


class _Seq(list):
    line: int = 0


class _YamlProblem(Exception):
    def __init__(self, line: int, message: str, hint: str | None = None, vi: str | None = None,
                 vi_hint: str | None = None):
        super().__init__(message)
        self.line, self.message, self.hint, self.vi, self.vi_hint = line, message, hint, vi, vi_hint


_PLAIN_HINT = ("rule files hold plain data only: write each value out in full", "tệp quy tắc chỉ chứa dữ liệu thuần: "
                                                                             "viết đầy đủ từng giá trị")


def _tag_shown(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:"):] if tag.startswith("tag:yaml.org,2002:") else tag


class _SafeLineLoader(yaml.SafeLoader):
    _depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            name = clip(event.anchor)
            raise _YamlProblem(line, f"YAML alias '*{name}' is not allowed in rule files", _PLAIN_HINT[0],
                               vi=f"không được dùng bí danh YAML '*{name}' trong tệp quy tắc", vi_hint=_PLAIN_HINT[1])
        if event.anchor is not None:
            name = clip(event.anchor)
            raise _YamlProblem(line, f"YAML anchor '&{name}' is not allowed in rule files", _PLAIN_HINT[0],
                               vi=f"không được dùng neo YAML '&{name}' trong tệp quy tắc", vi_hint=_PLAIN_HINT[1])
        if event.tag is not None:
            tag = clip(_tag_shown(event.tag))
            raise _YamlProblem(line, f"YAML tag '{tag}' is not allowed in rule files",
                               "rule files hold plain data only; remove the tag (quote a value that is text)",
                               vi=f"không được dùng thẻ YAML '{tag}' trong tệp quy tắc",
                               vi_hint="tệp quy tắc chỉ chứa dữ liệu thuần; bỏ thẻ (đặt văn bản trong dấu nháy)")
        if isinstance(event, yaml.ScalarEvent):
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _YamlProblem(line, f"nested too deeply (more than {MAX_DEPTH} levels)",
                               "a rule file needs few levels (the shipped ones have at most 17): flatten it",
                               vi=f"lồng nhau quá sâu (quá {MAX_DEPTH} cấp)",
                               vi_hint="tệp quy tắc chỉ cần ít cấp lồng nhau (các tệp kèm theo có tối đa 17 cấp)")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _construct_mapping(loader: _SafeLineLoader, node: yaml.MappingNode) -> _Map:
    out = _Map()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            raise _YamlProblem(line, "a key must be a word, a number or a date, not a list or a mapping",
                               "write the key as a plain word",
                               vi="khoá phải là một từ, một số hoặc một ngày, không phải danh sách hay ánh xạ",
                               vi_hint="viết khoá là một từ")
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise _YamlProblem(line, f"duplicate key '{clip(key)}' (first given at line {out.key_lines[key]})",
                               "keep one of them",
                               vi=f"khoá '{clip(key)}' bị lặp (đã có ở dòng {out.key_lines[key]})",
                               vi_hint="chỉ giữ một khoá")
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = line
    return out


def _construct_sequence(loader: _SafeLineLoader, node: yaml.SequenceNode) -> _Seq:
    out = _Seq(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    return out


def _construct_int(loader: _SafeLineLoader, node: yaml.ScalarNode) -> int:
    text = node.value
    if len(text.lstrip("+-")) > MAX_INT_DIGITS:
        digits = len(text.lstrip("+-"))
        raise _YamlProblem(node.start_mark.line + 1,
                           f"the number {clip(text, 24)} ({digits} digits) is too large for a rule file (at most "
                           f"{MAX_INT_DIGITS} digits)", "check the value",
                           vi=f"số {clip(text, 24)} ({digits} chữ số) quá lớn đối với tệp quy tắc (tối đa "
                              f"{MAX_INT_DIGITS} chữ số)", vi_hint="kiểm tra lại giá trị")
    return int(text)


def _construct_float(loader: _SafeLineLoader, node: yaml.ScalarNode) -> float:
    value = float(node.value)
    if not math.isfinite(value):
        text = clip(node.value, 24)
        raise _YamlProblem(node.start_mark.line + 1, f"the number {text} is too large for a rule file",
                           "check the value", vi=f"số {text} quá lớn đối với tệp quy tắc",
                           vi_hint="kiểm tra lại giá trị")
    return value


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def _construct_date(loader: _SafeLineLoader, node: yaml.ScalarNode) -> dt.date:
    text, line = node.value, node.start_mark.line + 1
    if len(text) != 10:
        raise _YamlProblem(line, f"'{clip(text)}' is a date and time: rule files hold dates only (YYYY-MM-DD)",
                           "write the day alone, e.g. 2024-12-01",
                           vi=f"'{clip(text)}' là ngày và giờ: tệp quy tắc chỉ ghi ngày (YYYY-MM-DD)",
                           vi_hint="chỉ ghi ngày, ví dụ 2024-12-01")
    year, month, day = int(text[:4]), int(text[5:7]), int(text[8:10])
    if year < 1:
        why, why_vi = "there is no year 0", "không có năm 0"
    elif not 1 <= month <= 12:
        why, why_vi = f"there is no month {month}", f"không có tháng {month}"
    elif day < 1:
        why, why_vi = "there is no day 0", "không có ngày 0"
    else:
        last = calendar.monthrange(year, month)[1]
        if day <= last:
            return dt.date(year, month, day)
        why, why_vi = f"{_MONTHS[month - 1]} {year} has {last} days", f"tháng {month}/{year} có {last} ngày"
    raise _YamlProblem(line, f"'{text}' is not a date: {why}", "write a day that exists, as YYYY-MM-DD",
                       vi=f"'{text}' không phải là một ngày: {why_vi}",
                       vi_hint="ghi một ngày có thật, dạng YYYY-MM-DD")


_YAML11_FORMS = (("0x", "hexadecimal"), ("0o", "octal"), ("0b", "binary"), ("_", "digits grouped with '_'"),
                 (":", "base 60"), ("inf", "infinity"), ("nan", "not a number"))
_YAML11_FORMS_VI = {"hexadecimal": "hệ 16", "octal": "hệ 8", "binary": "hệ 2", "digits grouped with '_'":
                    "chữ số nhóm bằng '_'", "base 60": "hệ 60", "infinity": "vô cùng", "not a number": "không phải số",
                    "a leading zero": "số 0 ở đầu"}


def _refuse_yaml11_number(loader: _SafeLineLoader, node: yaml.ScalarNode):
    text = node.value
    what = next((w for mark, w in _YAML11_FORMS if mark in text.lower()), "a leading zero")
    raise _YamlProblem(node.start_mark.line + 1, f"'{clip(text)}' is a YAML 1.1 number form ({what}), not allowed "
                                                 f"in rule files",
                       "write a number in plain decimal digits (1800000, 0.5), or quote the value if it is text "
                       "(a code such as '08')",
                       vi=f"'{clip(text)}' là cách viết số của YAML 1.1 ({_YAML11_FORMS_VI[what]}), không được dùng "
                          f"trong tệp quy tắc",
                       vi_hint="viết số bằng chữ số thập phân (1800000, 0.5), hoặc đặt trong dấu nháy nếu là văn bản "
                               "(một mã như '08')")


def _refuse_tag(loader, suffix, node):  # not reached (compose_node refuses every tag): a second lock on the door
    raise _YamlProblem(node.start_mark.line + 1, f"YAML tag '{clip(node.tag)}' is not allowed in rule files",
                       "rule files hold plain data only; remove the tag")


_YAML11 = "tag:tieuchi,2024:yaml11-number"
_DIGITS = list("-+0123456789")
# The implicit types of a plain scalar, YAML-1.2-core-like: null, true/false (YAML 1.1 reads yes/no/on/off as
# booleans, so a key `on:` would become True), decimal integers without a leading zero, decimal floats, dates; what
# YAML 1.1 would read as a number in another form is refused. Anything else is a string.
_SafeLineLoader.yaml_implicit_resolvers = {}
for _tag, _rx, _first in [
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:int", r"^[-+]?(?:0|[1-9][0-9]*)$", _DIGITS),
    ("tag:yaml.org,2002:float", r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$|^[-+]?[0-9]+[eE][-+]?[0-9]+$",
     [*_DIGITS, "."]),
    ("tag:yaml.org,2002:timestamp", r"""^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}
                                      |[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}
                                       (?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$""",
     list("0123456789")),
    (_YAML11, r"""^(?:[-+]?0b[0-1_]+|[-+]?0o[0-7_]+|[-+]?0x[0-9a-fA-F_]+|[-+]?0[0-9_]+|[-+]?[1-9][0-9_]*
                  |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?
                  |[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
                  |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$""", [*_DIGITS, "."]),
]:
    _SafeLineLoader.add_implicit_resolver(_tag, re.compile(_rx, re.X), _first)
_SafeLineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_SafeLineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_SafeLineLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_SafeLineLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_SafeLineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_date)
_SafeLineLoader.add_constructor(_YAML11, _refuse_yaml11_number)
_SafeLineLoader.add_multi_constructor("!", _refuse_tag)
_SafeLineLoader.add_multi_constructor("tag:", _refuse_tag)


def read_yaml(path: Path) -> Any:
    """Parse one YAML file into plain data with line numbers; errors are RulesError with file:line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulesError(f"{path}: rule file not found",
                         "a regime folder sits in a rules tree: rules/instruments.yaml and rules/poverty/<regime>/",
                         vi=f"{path}: không tìm thấy tệp quy tắc",
                         vi_hint="thư mục bộ tiêu chí nằm trong một cây quy tắc: rules/instruments.yaml và "
                                 "rules/poverty/<bộ tiêu chí>/", code="rules_file_not_found") from None
    except UnicodeDecodeError as exc:
        raise RulesError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})", "save the rule file as UTF-8",
                         vi=f"{path}: không phải UTF-8 ({exc.reason} ở byte {exc.start})",
                         vi_hint="lưu tệp quy tắc dạng UTF-8", code="rules_file_not_utf8") from None
    except OSError as exc:  # a folder, no permission …
        raise RulesError(f"{path}: cannot be read ({exc.strerror or exc})", "give a readable YAML file",
                         vi=f"{path}: không đọc được ({exc.strerror or exc})",
                         vi_hint="cho một tệp YAML đọc được", code="rules_file_unreadable") from None
    try:
        return yaml.load(text, Loader=_SafeLineLoader)  # noqa: S506 - a SafeLoader subclass that refuses every tag
    except _YamlProblem as exc:
        raise RulesError(f"{path}:{exc.line}: {exc.message}", exc.hint,
                         vi=f"{path}:{exc.line}: {exc.vi}" if exc.vi else None, vi_hint=exc.vi_hint,
                         code="rules_yaml_refused") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        problem = clip(getattr(exc, "problem", None) or exc, 200)
        raise RulesError(f"{path}:{line}: invalid YAML: {problem}", "check indentation and quoting near that line",
                         vi=f"{path}:{line}: YAML không hợp lệ: {problem}",
                         vi_hint="kiểm tra thụt lề và dấu nháy gần dòng đó", code="rules_yaml_invalid") from None


def _line_of(data: Any, loc: tuple) -> int:
    """Follow a pydantic error location through the parsed data to the nearest line."""
    line = getattr(data, "line", 0)
    node = data
    for part in loc:
        if isinstance(node, _Map):
            key = part if part in node else {"not_": "not", "in_": "in", "is_": "is"}.get(part, part)
            if key in node:
                line = node.key_lines.get(key, line)
                node = node[key]
                line = getattr(node, "line", line) or line
                continue
            if isinstance(part, str) and part[:1].isupper():  # a discriminator tag: stays on this node
                continue
            break
        elif isinstance(node, _Seq) and isinstance(part, int) and part < len(node):
            node = node[part]
            line = getattr(node, "line", line) or line
        else:
            if isinstance(part, str) and part[:1].isupper():
                continue
            break
    return line


def _allowed_keys(model_cls: type[BaseModel]) -> list[str]:
    keys = []
    for name, info in model_cls.model_fields.items():
        keys.append(info.alias or name)
    return keys


def validate(model_cls: type[BaseModel], data: Any, path: Path, keys_near=None):
    """Validate parsed YAML against a model; every problem is reported with file:line and a suggestion.

    `keys_near(loc)` lists the keys allowed where an unknown key was met (default: by the condition model named in
    the location, else every key of the rule models)."""
    try:
        return model_cls.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            line = _line_of(data, loc)
            where = clip(".".join(clip(p, 40) for p in loc if not (isinstance(p, str) and p[:1].isupper()))
                         or "(top)", 160)
            msg = clip(err["msg"], 300)
            hint = ""
            if err["type"] == "extra_forbidden":
                known = (keys_near or _known_keys_near)(loc)
                close = difflib.get_close_matches(str(loc[-1]), known, n=1)
                hint = f" — did you mean '{close[0]}'?" if close else (f" — allowed: {', '.join(known)}" if 0 < len(known) <= 12 else "")
                msg = f"unknown key '{clip(loc[-1])}'"
            elif err["type"] == "missing":
                msg = f"required key '{loc[-1]}' is missing"
            lines.append(f"{path}:{line}: {where}: {msg}{hint}")
        raise RulesError(listed(lines), "fix the rule file; see rules/README.md", code="rules_file_invalid") from None


_ALL_MODELS = [m.Labels, m.Citation, m.Validity, m.Parameter, m.DatedValue, m.Derived, m.Indicator,
               m.Classification, m.ClassRule, m.Ruleset, m.Instrument, m.Compare, m.CountMembers,
               m.ShareOfMembers, m.CountOf, m.CountDeprived]


def _known_keys_near(loc: tuple) -> list[str]:
    for part in reversed(loc[:-1]):
        if isinstance(part, str) and part[:1].isupper() and hasattr(m, part):
            return _allowed_keys(getattr(m, part))
    keys: set[str] = set()
    for cls in _ALL_MODELS:
        keys.update(_allowed_keys(cls))
    keys.update(m.CONDITION_HEADS)
    return sorted(keys)


# ----------------------------------------------------------------------------------------------------------------
# Where the rules are


def rules_root() -> Path:
    """The rules shipped in the package (wheel: tieuchi/_rules), or the source tree's rules/ (editable/dev)."""
    packaged = resources.files("tieuchi") / "_rules"
    if packaged.is_dir():
        return Path(str(packaged))
    source = Path(__file__).resolve().parents[3] / "rules"
    if source.is_dir():
        return source
    raise UsageError("the rules shipped with tieuchi were not found",
                     "reinstall tieuchi (pip install .); the wheel carries them as tieuchi/_rules",
                     code="rules_not_shipped")


# ----------------------------------------------------------------------------------------------------------------
# A regime, read and checked


@dataclass
class Regime:
    """Every declaration of one regime, validated and cross-checked; `at(date)` resolves dated values."""

    root: Path
    ruleset: m.Ruleset
    instruments: dict[str, m.Instrument]
    parameters: dict[str, m.Parameter]
    derived: dict[str, m.Derived]
    indicators: dict[str, m.Indicator]
    classification: m.Classification
    files: dict[str, Path] = field(default_factory=dict)  # rule id -> file
    version: str = ""
    program: "ProgramRules | None" = None  # the program whose items follow this regime's classes (merged names)
    overlay: "Overlay | None" = None  # the overlay applied to `base` to make this regime (see load_overlay)
    base: "Regime | None" = None
    shared: "list[SharedRules]" = field(default_factory=list)  # rules/shared/* sets whose validity meets the window
    programs: list[m.Program] = field(default_factory=list)  # every program of the rules (to say why none applies)

    @property
    def id(self) -> str:
        return self.ruleset.id

    def at(self, day: dt.date) -> "RulesAt":
        if not self.ruleset.validity.covers(day):
            window, on = self.ruleset.validity, day.isoformat()
            if self.overlay is not None:
                raise UsageError(f"overlay {self.overlay.id} applies within its base regime {self.id}, which covers "
                                 f"{window}, not {on}", "choose a reference date inside that window",
                                 vi=f"bộ điều chỉnh {self.overlay.id} chỉ áp dụng trong thời gian của bộ tiêu chí gốc "
                                    f"{self.id} ({window}), không áp dụng cho ngày {on}",
                                 vi_hint="chọn ngày tham chiếu trong khoảng thời gian đó",
                                 code="overlay_date_outside_window")
            raise UsageError(f"regime {self.id} covers {window}, not {on}",
                             "choose a reference date inside that window, or leave out --rules",
                             vi=f"bộ tiêu chí {self.id} áp dụng {window}, không áp dụng cho ngày {on}",
                             vi_hint="chọn ngày tham chiếu trong khoảng thời gian đó, hoặc bỏ --rules",
                             code="regime_date_outside_window")
        values = {}
        provisional = set()
        for pid, p in self.parameters.items():
            dv = p.at(day)
            if dv is None:
                raise RulesError(f"{self.files.get(pid)}: parameter '{pid}' has no value on {day.isoformat()} "
                                 f"(its first value starts {p.values[0].start})",
                                 "add a value whose 'from' is on or before the start of the regime",
                                 code="parameter_no_value")
            values[pid] = dv.value
            if dv.provisional:
                provisional.add(pid)
        return RulesAt(regime=self, day=day, params=values, provisional_params=provisional)


@dataclass
class ProgramRules:
    """A program's rules (rules/programs/<id>/). Its parameters and derived variables are merged into the regime's
    (names must not clash), so conditions of either may use both."""

    root: Path
    program: m.Program
    parameters: dict[str, m.Parameter]
    derived: dict[str, m.Derived]
    items: dict[str, m.ProgramItem]  # in the data contract's order
    shares: dict[str, m.ShareRule]  # member shares (hi_support)
    files: dict[str, Path]

    @property
    def id(self) -> str:
        return self.program.id

    def items_at(self, day: dt.date) -> tuple[list[m.ProgramItem], list[str]]:
        """The items in force on `day`, and a note for each item that is not (why its columns are absent)."""
        inside, notes = [], []
        window = self.program.validity
        for item in self.items.values():
            if window.covers(day) and item.validity.covers(day):
                inside.append(item)
            else:
                span = item.validity if not item.validity.covers(day) else window
                notes.append(f"{item.id}: not in force on {day.isoformat()} (program {self.id} covers {window}; "
                             f"item {span}); no eligible_{item.id} column")
        return inside, notes

    def shares_at(self, day: dt.date) -> list[m.ShareRule]:
        return [s for s in self.shares.values() if s.validity.covers(day)]


@dataclass
class SharedRules:
    """A set of rules that applies across regimes and programs (rules/shared/<id>/): the health-insurance shares
    (which follow the health-insurance law, not a program's window), the household statuses (newly escaped poverty is
    a status of the household, not of one program). Its parameters and derived variables are merged into the regime's
    like a program's; its statuses and shares are compiled on the dates its validity covers."""

    root: Path
    set: m.SharedSet
    parameters: dict[str, m.Parameter]
    derived: dict[str, m.Derived]
    shares: dict[str, m.ShareRule]
    files: dict[str, Path]

    @property
    def id(self) -> str:
        return self.set.id

    def in_force(self, day: dt.date) -> bool:
        return self.set.validity.covers(day)

    def shares_at(self, day: dt.date) -> list[m.ShareRule]:
        return [s for s in self.shares.values() if self.in_force(day) and s.validity.covers(day)]


@dataclass
class EligibilityRules:
    """What the backends compile once the class is known, on one date: the household statuses, the program items in
    force and the member shares — from the shared sets in force and the regime's program. `notes`: why an item (or
    every item) has no column."""

    statuses: list[str]
    items: list[m.ProgramItem]
    shares: list[m.ShareRule]
    notes: list[str]


ITEM_ORDER = ("p2_livelihood", "p3_1_agri_production", "p3_2_nutrition", "p4_1_vocational", "p4_2_work_abroad",
              "p4_3_jobs", "p5_housing", "p6_1_information")


@dataclass
class RulesAt:
    """A regime resolved at one reference date: what the backends compile."""

    regime: Regime
    day: dt.date
    params: dict[str, Any]
    provisional_params: set[str]

    @property
    def indicators(self) -> list[m.Indicator]:
        return [self.regime.indicators[i] for i in self.regime.ruleset.indicators]

    @property
    def version(self) -> str:
        return self.regime.version

    @property
    def eligibility(self) -> EligibilityRules | None:
        """The statuses, items and shares to compile on this date; None when neither a program nor a shared set
        applies (no eligibility columns at all)."""
        regime, day = self.regime, self.day
        shared = [s for s in regime.shared if s.in_force(day)]
        program = regime.program
        if program is None and not shared:
            return None
        statuses = [sid for s in shared for sid in s.set.statuses]
        shares = [sr for s in shared for sr in s.shares_at(day)]
        if program is not None:
            statuses += [sid for sid in program.program.statuses if sid not in statuses]
            shares += program.shares_at(day)
            items, notes = program.items_at(day)
        else:
            items, notes = [], [_no_program_note(regime)]
        return EligibilityRules(statuses, items, shares, notes)


def _no_program_note(regime: Regime) -> str:
    """Why a regime with shared rules but no program has no item columns: the programs there are and whom they
    follow."""
    known = "; ".join(f"{p.id} covers {p.validity} (regimes {', '.join(p.regimes)})" for p in regime.programs)
    return (f"no program rules apply with regime {regime.id}" + (f": {known}" if known else "")
            + "; no eligible_* column (the household statuses and health-insurance shares still apply)")


def _load_kind(folder: Path, model_cls, what: str, files: dict) -> dict:
    out = {}
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.yaml")):
        data = read_yaml(path)
        obj = validate(model_cls, data, path)
        if obj.id != path.stem:
            raise RulesError(f"{path}:{getattr(data, 'key_lines', {}).get('id', 1)}: {what} id '{clip(obj.id)}' "
                             f"differs from the file name '{path.stem}'",
                             f"rename the file to {clip(obj.id)}.yaml or fix the id", code="rule_id_not_file_name")
        if obj.id in files:
            raise RulesError(f"{path}: id '{obj.id}' is already used by {files[obj.id]}", "ids must be unique",
                             code="rule_id_duplicate")
        files[obj.id] = path
        out[obj.id] = obj
    return out


def load_instruments(root: Path) -> dict[str, m.Instrument]:
    path = root / "instruments.yaml"
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise RulesError(f"{path}:1: expected a mapping of instrument id -> instrument", code="instruments_not_mapping")
    return {key: validate(m.Instrument, value, path) for key, value in data.items()}


@functools.lru_cache(maxsize=16)
def load_regime(folder: Path) -> Regime:
    folder = Path(folder)
    root = folder.parents[1]
    instruments = load_instruments(root)
    files: dict[str, Path] = {}
    rs_path = folder / "ruleset.yaml"
    ruleset = validate(m.Ruleset, read_yaml(rs_path), rs_path)
    parameters = _load_kind(folder / "parameters", m.Parameter, "parameter", files)
    derived = _load_kind(folder / "derived", m.Derived, "derived variable", files)
    indicators = _load_kind(folder / "indicators", m.Indicator, "indicator", files)
    cl_path = folder / "classification.yaml"
    classification = validate(m.Classification, read_yaml(cl_path), cl_path)
    files[classification.id] = cl_path
    files[ruleset.id] = rs_path
    regime = Regime(folder, ruleset, instruments, parameters, derived, indicators, classification, files)
    regime.shared = _load_shared(root, regime)
    regime.program = _load_program(root, regime)
    _cross_check(regime)
    regime.version = f"{ruleset.id}@{_content_hash(folder, root)}"
    return regime


def _program_folders(root: Path) -> list[Path]:
    return sorted(p.parent for p in (root / "programs").glob("*/program.yaml"))


def _shared_folders(root: Path) -> list[Path]:
    return sorted(p.parent for p in (root / "shared").glob("*/shared.yaml"))


def _overlaps(a: m.Validity, b: m.Validity) -> bool:
    return (a.end is None or b.start <= a.end) and (b.end is None or a.start <= b.end)


def _merge_names(regime: Regime, owner: str, files: dict[str, Path], parameters: dict, derived: dict) -> None:
    """Merge a program's or a shared set's parameters and derived variables into the regime's (names must differ)."""
    for kind, mine, theirs in (("parameter", parameters, regime.parameters),
                               ("derived variable", derived, regime.derived)):
        for clash in sorted(set(mine) & set(theirs)):
            raise RulesError(f"{files[clash]}: {kind} '{clash}' is already declared by "
                             f"{regime.files.get(clash, regime.root)} (regime {regime.id})",
                             f"{owner} names must differ from the regime's and from every other set's",
                             code="rule_name_clash")
    regime.parameters.update(parameters)
    regime.derived.update(derived)
    regime.files.update(files)


def _load_shared(root: Path, regime: Regime) -> list[SharedRules]:
    """The shared rule sets (rules/shared/<id>/shared.yaml) whose validity meets the regime's window, merged into
    the regime's names, in folder order."""
    out = []
    for folder in _shared_folders(root):
        path = folder / "shared.yaml"
        data = read_yaml(path)
        shared = validate(m.SharedSet, data, path)
        if shared.id != folder.name:
            raise RulesError(f"{path}:{getattr(data, 'key_lines', {}).get('id', 1)}: shared set id '{shared.id}' "
                             f"differs from its folder name '{folder.name}'",
                             f"rename the folder to {shared.id} or fix the id", code="shared_set_id_not_folder")
        if not _overlaps(shared.validity, regime.ruleset.validity):
            continue
        files: dict[str, Path] = {shared.id: path}
        parameters = _load_kind(folder / "parameters", m.Parameter, "parameter", files)
        derived = _load_kind(folder / "derived", m.Derived, "derived variable", files)
        shares = _load_kind(folder / "shares", m.ShareRule, "share", files)
        for sid in shared.statuses:
            if sid not in derived or derived[sid].level != "household":
                raise RulesError(f"{path}: status '{sid}' is not a household variable of the set's derived/",
                                 f"add {folder / 'derived' / (sid + '.yaml')} (level: household) or remove it",
                                 code="shared_status_unknown")
        taken = {o for s in out for o in s.shares.values() for o in [o.output]}
        for sr in shares.values():
            if sr.output in taken:
                raise RulesError(f"{files[sr.id]}: output '{sr.output}' is already written by another shared set",
                                 "give each share rule its own output column", code="share_output_duplicate")
        _merge_names(regime, f"shared set {shared.id}", files, parameters, derived)
        out.append(SharedRules(folder, shared, parameters, derived, shares, files))
    return out


def _load_program(root: Path, regime: Regime) -> ProgramRules | None:
    """The program whose rules apply with `regime` (its `regimes` name it), merged into the regime's names."""
    found = []
    for folder in _program_folders(root):
        path = folder / "program.yaml"
        prog = validate(m.Program, read_yaml(path), path)
        regime.programs.append(prog)
        if regime.id in prog.regimes:
            found.append((folder, path, prog))
    if not found:
        return None
    if len(found) > 1:
        raise RulesError(f"programs {', '.join(str(p) for _, p, _ in found)} all name regime {regime.id}",
                         "one program per regime", code="program_duplicate")
    folder, path, prog = found[0]
    files: dict[str, Path] = {prog.id: path}
    parameters = _load_kind(folder / "parameters", m.Parameter, "parameter", files)
    derived = _load_kind(folder / "derived", m.Derived, "derived variable", files)
    items = _load_kind(folder / "items", m.ProgramItem, "program item", files)
    shares = _load_kind(folder / "shares", m.ShareRule, "share", files)
    unknown = [i for i in items if i not in ITEM_ORDER]
    if unknown:
        raise RulesError(f"{files[unknown[0]]}: '{unknown[0]}' is not a program item id of the data contract",
                         f"use one of: {', '.join(ITEM_ORDER)}", code="program_item_unknown")
    items = {i: items[i] for i in ITEM_ORDER if i in items}
    for sid in [*prog.statuses, prog.target]:
        if sid not in derived or derived[sid].level != "household":
            raise RulesError(f"{path}: '{sid}' is not a household variable of the program's derived/",
                             code="program_status_unknown")
    outputs = {sr.output for s in regime.shared for sr in s.shares.values()}
    for sr in shares.values():
        if sr.output in outputs:
            raise RulesError(f"{files[sr.id]}: output '{sr.output}' is already written by a shared set",
                             "give each share rule its own output column", code="share_output_duplicate")
    _merge_names(regime, f"program {prog.id}", files, parameters, derived)
    return ProgramRules(folder, prog, parameters, derived, items, shares, files)


def _content_hash(folder: Path, root: Path) -> str:
    h = hashlib.sha256()
    programs = [p for f in [*_program_folders(root), *_shared_folders(root)] for p in f.rglob("*.yaml")]
    for path in sorted([root / "instruments.yaml", *folder.rglob("*.yaml"), *programs]):
        if "cases" in path.relative_to(root).parts:
            continue  # cases do not change results
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def discover_regimes(root: Path | None = None) -> list[Path]:
    root = root or rules_root()
    return sorted(p.parent for p in (root / "poverty").glob("*/ruleset.yaml"))


def load_rules(on: dt.date, rules: str | Path | None = None) -> RulesAt:
    """The regime in force on `on`, resolved at that date. A date no regime covers is a UsageError naming the windows.

    `rules`: None for the shipped rules; a regime folder (rules/poverty/<regime>); or an overlay file (.yaml, or the
    id of an overlay shipped under rules/overlays), applied to its base regime — `version` then names both
    (`vn_2022_2026@<hash>+<overlay>@<hash>`). A date outside that regime's window is a UsageError naming it."""
    if rules is not None:
        return load_candidate(rules).at(on)
    regimes = [load_regime(p) for p in discover_regimes()]
    covering = [r for r in regimes if r.ruleset.validity.covers(on)]
    if not covering:
        windows = "; ".join(f"{r.id}: {r.ruleset.validity}" for r in regimes)
        raise UsageError(f"no regime covers {on.isoformat()}; the rules have: {windows}",
                         "choose a reference date inside one of these windows (--on DATE or --for-year YEAR)",
                         vi=f"không có bộ tiêu chí nào áp dụng cho ngày {on.isoformat()}; các bộ tiêu chí hiện có: "
                            f"{windows}",
                         vi_hint="chọn ngày tham chiếu trong một trong các khoảng thời gian trên "
                                 "(--on NGÀY hoặc --for-year NĂM)", code="rules_date_outside_windows")
    if len(covering) > 1:
        raise RulesError(f"regimes overlap on {on.isoformat()}: {', '.join(r.id for r in covering)}",
                         "fix their validity windows so that exactly one covers each date", code="regimes_overlap")
    return covering[0].at(on)


# ----------------------------------------------------------------------------------------------------------------
# Cross-checks: names a rule uses must exist, at the right level

HOUSEHOLD_BUILTINS = {"member_count", "eligibility_class"}  # eligibility_class: recognised_class, else the computed class
IDENTIFIERS = {"household_id"}  # carried through, never used by a rule (nor are the columns.yaml marks personal)
MEMBER_BUILTINS = {"age"}


def _contract_fields() -> tuple[set[str], set[str]]:
    try:
        from tieuchi.contract.columns import columns  # the contract's column table (shared with the reader)

        return set(columns("households")), set(columns("members"))
    except ImportError:  # pragma: no cover - during bootstrap only
        return None


def walk(cond) -> list:
    """Every node of a condition tree, depth first."""
    out = [cond]
    for child in children(cond):
        out.extend(walk(child))
    return out


def children(cond) -> list:
    if isinstance(cond, m.AllOf):
        return list(cond.all)
    if isinstance(cond, m.AnyOf):
        return list(cond.any)
    if isinstance(cond, m.Not):
        return [cond.not_]
    if isinstance(cond, m.AnyMember):
        return [cond.any_member]
    if isinstance(cond, m.AllMembers):
        return [cond.all_members]
    if isinstance(cond, m.CountMembers):
        return [cond.count_members]
    if isinstance(cond, m.ShareOfMembers):
        return [cond.share_of_members]
    if isinstance(cond, m.CountOf):
        return list(cond.count_of)
    return []


def _cross_check(r: Regime) -> None:
    contract = _contract_fields()
    if contract is None:
        return
    hh_fields, mem_fields = contract
    hh_fields |= HOUSEHOLD_BUILTINS
    mem_fields |= MEMBER_BUILTINS
    for cid, inst in [(r.ruleset.id, r.ruleset.citation)] + [(x.id, x.citation) for x in
                                                           [*r.derived.values(), *r.indicators.values(),
                                                            r.classification]] + \
            [(c.id, c.citation) for c in r.classification.classes] + \
            [(p.id, v.citation) for p in r.parameters.values() for v in p.values]:
        if inst.instrument not in r.instruments:
            close = difflib.get_close_matches(inst.instrument, list(r.instruments), n=1)
            raise RulesError(f"{r.files.get(cid, r.root)}: {cid}: citation names unknown instrument "
                             f"'{inst.instrument}'" + (f" — did you mean '{close[0]}'?" if close else ""),
                             "add it to rules/instruments.yaml or fix the id", code="citation_unknown_instrument")
    order = r.ruleset.indicators
    missing = [i for i in order if i not in r.indicators]
    extra = [i for i in r.indicators if i not in order]
    if missing or extra:
        raise RulesError(f"{r.files[r.ruleset.id]}: indicators listed and indicator files differ: "
                         f"listed without a file {missing}, files not listed {extra}", code="indicators_mismatch")
    for pid in r.ruleset.not_established:
        if pid not in r.parameters:
            raise RulesError(f"{r.files[r.ruleset.id]}: not_established names unknown parameter '{pid}'",
                             code="parameter_unknown")
    for p in r.parameters.values():
        if p.keyed_by is not None and p.keyed_by not in hh_fields | mem_fields:
            raise RulesError(f"{r.files[p.id]}: parameter '{p.id}' is keyed by unknown field '{p.keyed_by}'",
                             code="field_unknown")

    def check(owner: str, cond, level: str) -> None:
        where = r.files.get(owner, r.root)
        _check_node(r, where, owner, cond, level, hh_fields, mem_fields)

    for d in r.derived.values():
        check(d.id, d.condition, d.level)
        if d.enabled_by and d.enabled_by not in r.parameters:
            raise RulesError(f"{r.files[d.id]}: enabled_by names unknown parameter '{d.enabled_by}'",
                             code="parameter_unknown")
    for ind in r.indicators.values():
        check(ind.id, ind.deprived_when, "household")
    for c in r.classification.classes:
        check(r.classification.id, c.when, "household")
    sets = [(s.files, [s.set, *s.shares.values()], {}, s.shares) for s in r.shared]
    if r.program is not None:
        pr = r.program
        sets.append((pr.files, [pr.program, *pr.items.values(), *pr.shares.values()], pr.items, pr.shares))
    for files, cited, items, shares in sets:
        for x in cited:
            inst = x.citation.instrument
            if inst not in r.instruments:
                raise RulesError(f"{files[x.id]}: {x.id}: citation names unknown instrument '{inst}'",
                                 "add it to rules/instruments.yaml or fix the id", code="citation_unknown_instrument")
        for item in items.values():
            check(item.id, item.eligible_when, "household" if item.unit == "household" else "member")
            for cond in item.priority.values():
                check(item.id, cond, "household")
        for sr in shares.values():
            for sh in sr.shares:
                if sh.citation.instrument not in r.instruments:
                    raise RulesError(f"{files[sr.id]}: {sh.id}: citation names unknown instrument "
                                     f"'{sh.citation.instrument}'", "add it to rules/instruments.yaml",
                                     code="citation_unknown_instrument")
                check(sr.id, sh.when, "member")
                if isinstance(sh.value, m.ParamRef) and sh.value.param not in r.parameters:
                    raise RulesError(f"{files[sr.id]}: {sh.id}: unknown parameter '{sh.value.param}'",
                                     code="parameter_unknown")
    if r.classification.income_line not in r.parameters:
        raise RulesError(f"{r.files[r.classification.id]}: income_line names unknown parameter "
                         f"'{r.classification.income_line}'", code="parameter_unknown")


def _check_node(r: Regime, where: Path, owner: str, cond, level: str, hh: set, mem: set) -> None:
    def fail(msg: str, choices, code: str):
        close = difflib.get_close_matches(msg.split("'")[1] if "'" in msg else "", list(choices), n=1)
        raise RulesError(f"{where}: {owner}: {msg}" + (f" — did you mean '{close[0]}'?" if close else ""),
                         "fix the name in the rule file", code=code)

    def param(ref) -> None:
        if isinstance(ref, m.ParamRef) and ref.param not in r.parameters:
            fail(f"unknown parameter '{clip(ref.param)}'", r.parameters, "parameter_unknown")

    def field_ok(name: str) -> None:
        if name in IDENTIFIERS or name in known_personal_columns():
            raise RulesError(f"{where}: {owner}: '{clip(name)}' is personal data; rules may not use it",
                             "personal data (names, ids) is carried through but never decides anything",
                             code="rule_uses_personal_data")
        allowed = hh | mem if level == "member" else hh
        if name not in allowed:
            if level == "household" and name in mem:
                fail(f"member field '{clip(name)}' used outside a member aggregation (any_member, count_members …)", (),
                     "member_field_outside_aggregation")
            fail(f"unknown field '{clip(name)}'", allowed, "field_unknown")

    if isinstance(cond, m.Compare):
        field_ok(cond.field)
        if cond.per:
            field_ok(cond.per)
        param(cond.op[1])
        _check_codes(r, where, owner, cond)
    elif isinstance(cond, (m.Missing, m.Present)):
        field_ok(cond.missing if isinstance(cond, m.Missing) else cond.present)
    elif isinstance(cond, m.Var):
        d = r.derived.get(cond.var)
        if d is None:
            fail(f"unknown variable '{clip(cond.var)}'", r.derived, "variable_unknown")
        if d.level == "member" and level == "household":
            fail(f"member variable '{clip(cond.var)}' used outside a member aggregation", (),
                 "member_field_outside_aggregation")
        if d.id == owner:
            fail(f"variable '{clip(cond.var)}' refers to itself", (), "variable_refers_to_itself")
    elif isinstance(cond, m.Flag):
        if cond.flag not in r.parameters:
            fail(f"unknown parameter '{clip(cond.flag)}'", r.parameters, "parameter_unknown")
        if r.parameters[cond.flag].unit != "bool":
            fail(f"flag '{clip(cond.flag)}' is not a bool parameter", (), "flag_not_bool")
    elif isinstance(cond, m.ReachedAge):
        param(cond.reached_age)
        if level != "member":
            fail("reached_age is a member condition; use it inside a member aggregation", (),
                 "member_field_outside_aggregation")
    elif isinstance(cond, (m.AnyMember, m.AllMembers, m.CountMembers, m.ShareOfMembers)):
        if level == "member":
            fail("member aggregations cannot be nested", (), "member_aggregation_nested")
        if isinstance(cond, (m.CountMembers, m.ShareOfMembers)):
            param(cond.op[1])
        for child in children(cond):
            _check_node(r, where, owner, child, "member", hh, mem)
        return
    elif isinstance(cond, (m.CountOf, m.CountDeprived)):
        param(cond.op[1])
        if isinstance(cond, m.CountDeprived) and cond.count_deprived != "all":
            for ind in cond.count_deprived:
                if ind not in r.ruleset.indicators:
                    fail(f"count_deprived: unknown indicator '{clip(ind)}'", r.ruleset.indicators,
                         "indicator_unknown")
    elif isinstance(cond, m.WithinMonths):
        spec = cond.within_months
        if spec.field not in hh:
            fail(f"unknown household date field '{clip(spec.field)}'", hh, "field_unknown")
        param(spec.months)
    for child in children(cond):
        _check_node(r, where, owner, child, level, hh, mem)


def _check_codes(r: Regime, where: Path, owner: str, cond: m.Compare) -> None:
    """Code values a rule compares a coded field with must be codes of that field (contract §1)."""
    try:
        from tieuchi.contract.columns import columns
    except ImportError:  # pragma: no cover
        return
    name = "recognised_class" if cond.field == "eligibility_class" else cond.field  # the same codes
    spec = columns("members").get(name) or columns("households").get(name)
    if spec is None or not spec.codes:
        return
    op, operand = cond.op
    if op not in ("eq", "ne", "in", "not_in", "contains_any"):
        return
    value = r.parameters[operand.param].values if isinstance(operand, m.ParamRef) else None
    values = [v.value for v in value] if value is not None else [operand]
    allowed = set(spec.codes)
    for v in values:
        for code in (v if isinstance(v, list) else [v]):
            if str(code) not in allowed:
                close = difflib.get_close_matches(str(code), sorted(allowed), n=1)
                raise RulesError(f"{where}: {owner}: '{clip(code)}' is not a code of {cond.field}"
                                 + (f" — did you mean '{close[0]}'?" if close else ""),
                                 f"allowed: {', '.join(spec.codes)}", code="field_code_unknown")


# ----------------------------------------------------------------------------------------------------------------
# Overlays (rules/overlays/<id>.yaml): a local standard that changes parameters of a national regime

_OVERLAY_VI_HINT = "sửa tệp điều chỉnh; cấu trúc được mô tả ở đầu tệp rules/overlays/example_higher_rural_line.yaml"
_OVERLAY_HINT = "fix the overlay file; its shape is described in README.md, section 'Overlays and `tieuchi test`'"
_OVERLAYS: dict[tuple[str, str, str], Regime] = {}

def load_candidate(rules: str | Path) -> Regime:
    """The rules `--rules` names: a regime folder, an overlay file, or the id of an overlay shipped under
    rules/overlays. Not found: UsageError (exit 2); invalid: RulesError (exit 3)."""
    path = Path(rules)
    if path.is_dir():
        if not (path / "ruleset.yaml").is_file():
            raise UsageError(f"{path}: not a regime folder (no ruleset.yaml)",
                             "pass a folder such as rules/poverty/vn_2022_2026, or an overlay file (.yaml)",
                             vi=f"{path}: không phải thư mục bộ tiêu chí (không có ruleset.yaml)",
                             vi_hint="cho một thư mục như rules/poverty/vn_2022_2026, hoặc một tệp điều chỉnh (.yaml)",
                             code="rules_not_regime_folder")
        return load_regime(path.resolve())
    return load_overlay(overlay_path(rules))


_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")  # an id of a shipped overlay or plan: no '/', no '.', no '..'


def _shipped(kind: str, name: str) -> Path | None:
    """rules/<kind>/<name>.yaml shipped with tieuchi (overlays, plans), when `name` is an id and there is one: an id
    never reaches outside rules/<kind>/."""
    if not _ID.fullmatch(name):
        return None
    path = rules_root() / kind / f"{name}.yaml"
    return path if path.is_file() else None


def _shipped_ids(kind: str) -> list[str]:
    return sorted(x.stem for x in (rules_root() / kind).glob("*.yaml"))


def overlay_path(rules: str | Path) -> Path:
    """An overlay file given as a path, or the id of an overlay shipped under rules/overlays."""
    path = Path(rules)
    if path.is_file():
        return path
    shipped = _shipped("overlays", str(rules))
    if shipped is not None:
        return shipped
    known = _shipped_ids("overlays")
    given = clip(rules)
    raise UsageError(f"--rules '{given}': no such file or folder, and no shipped overlay of that id",
                     "give a regime folder, an overlay file (.yaml), or one of: " + (", ".join(known) or "(none)"),
                     vi=f"--rules '{given}': không có tệp hay thư mục này, cũng không có bộ điều chỉnh nào có mã này",
                     vi_hint="cho một thư mục bộ tiêu chí, một tệp điều chỉnh (.yaml), hoặc một trong: "
                             + (", ".join(known) or "(không có)"), code="rules_not_found")


def read_overlay(path: str | Path) -> Overlay:
    """Read one overlay file and check its shape (unknown keys, dates in order, id = file name); RulesError with
    file:line. Its values are checked against the base regime by `load_overlay`."""
    return _parse_overlay(Path(path))[0]


def _parse_overlay(path: Path) -> tuple[Overlay, Any]:
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise RulesError(f"{path}:{getattr(data, 'line', 1) or 1}: an overlay is a YAML mapping with the keys "
                         f"overlay, label, base, citation and parameters", _OVERLAY_HINT,
                         vi=f"{path}:{getattr(data, 'line', 1) or 1}: tệp điều chỉnh phải là một ánh xạ YAML có các "
                            f"khoá overlay, label, base, citation và parameters", vi_hint=_OVERLAY_VI_HINT,
                         code="overlay_not_mapping")
    try:
        ov = validate(Overlay, data, path, keys_near=_overlay_keys_near)
    except RulesError as exc:
        raise RulesError(exc.message, _OVERLAY_HINT, vi=f"tệp điều chỉnh không hợp lệ: {exc.message}",
                         vi_hint=_OVERLAY_VI_HINT, code="overlay_invalid") from None
    if ov.id != path.stem:
        at = f"{path}:{_key_line(data, 'overlay')}"
        raise RulesError(f"{at}: overlay id '{clip(ov.id)}' differs from the file name '{path.stem}'",
                         f"rename the file to {clip(ov.id)}.yaml or fix the id",
                         vi=f"{at}: mã bộ điều chỉnh '{clip(ov.id)}' khác tên tệp '{path.stem}'",
                         vi_hint=f"đổi tên tệp thành {clip(ov.id)}.yaml hoặc sửa mã", code="overlay_id_not_file_name")
    ov._source = str(path)
    ov._digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return ov, data


def load_overlay(path: str | Path) -> Regime:
    """The base regime with the overlay's parameters applied: each overlay value replaces the base parameter's from
    its `from` date (the base's values before the first overlay date are kept). The result is a copy (the cached
    base is unchanged) whose `version` is `<base version>+<overlay id>@<hash of the file>`, so that nothing compiled
    for the base is reused, and whose `overlay` and `base` say where it came from.

    Refused with RulesError (exit 3, file:line): an unknown base regime, parameter or instrument (with a suggestion),
    a value whose unit or shape does not fit the parameter (a text for an amount, a number for true/false, a mapping
    with other keys than the parameter is keyed by, a code the field does not have), a value dated after the base's
    window, unknown keys."""
    path = Path(path)
    ov, data = _parse_overlay(path)
    base = _base_regime(ov, data, path)
    key = (str(path.resolve()), ov.digest, base.version)
    cached = _OVERLAYS.get(key)
    if cached is not None:
        return cached
    problems: list[tuple[str, str]] = []
    instruments = dict(base.instruments)
    for iid, inst in ov.instruments.items():
        if iid in instruments:
            at = f"{path}:{_key_line(data['instruments'], iid)}"
            problems.append((f"{at}: instrument '{iid}' is already declared in rules/instruments.yaml — cite it "
                             f"without declaring it, or give the local instrument another id",
                             f"{at}: văn bản '{iid}' đã có trong rules/instruments.yaml — trích dẫn trực tiếp, hoặc "
                             f"đặt mã khác cho văn bản của địa phương"))
        instruments[iid] = inst
    cites = [(f"{path}:{_key_line(data['citation'], 'instrument')}", ov.citation)]
    for pid, values in ov.parameters.items():
        for v, raw in zip(values, data["parameters"][pid]):
            cites.append((f"{path}:{_key_line(raw['citation'], 'instrument')}", v.citation))
    for at, cite in cites:
        if cite.instrument not in instruments:
            close = difflib.get_close_matches(cite.instrument, list(instruments), n=1)
            sug, sug_vi = _suggest(close)
            problems.append((f"{at}: citation names unknown instrument '{clip(cite.instrument)}'{sug} (declare a local "
                             f"instrument under 'instruments:' of the overlay)",
                             f"{at}: trích dẫn văn bản không có trong danh mục: '{clip(cite.instrument)}'{sug_vi} "
                             f"(khai báo văn bản của địa phương trong mục 'instruments:' của tệp điều chỉnh)"))
    parameters = dict(base.parameters)
    end = base.ruleset.validity.end
    for pid, values in ov.parameters.items():
        raw_values = data["parameters"][pid]
        p = base.parameters.get(pid)
        if p is None:
            at = f"{path}:{_key_line(data['parameters'], pid)}"
            close = difflib.get_close_matches(pid, list(base.parameters), n=1)
            sug, sug_vi = _suggest(close)
            problems.append((f"{at}: regime {base.id} has no parameter '{clip(pid)}'{sug}",
                             f"{at}: bộ tiêu chí {base.id} không có tham số '{clip(pid)}'{sug_vi}"))
            continue
        codes = _param_codes(base, pid)
        for v, raw in zip(values, raw_values):
            problems += _value_problems(p, v.value, raw, codes, path)
            if end is not None and v.start > end:
                at = f"{path}:{_key_line(raw, 'from')}"
                problems.append((f"{at}: parameter '{pid}': a value from {v.start} never applies: the base regime "
                                 f"{base.id} ends on {end}",
                                 f"{at}: tham số '{pid}': giá trị từ {v.start} không bao giờ được áp dụng vì bộ tiêu "
                                 f"chí gốc {base.id} kết thúc ngày {end}"))
        if not problems:
            first = values[0].start
            kept = [bv for bv in p.values if bv.start < first]
            mine = [m.DatedValue.model_validate({"from": v.start, "value": _plain_value(v.value),
                                                 "citation": v.citation, "provisional": v.provisional})
                    for v in values]
            note = f"overlay {ov.id} from {first.isoformat()}"
            parameters[pid] = p.model_copy(update={"values": [*kept, *mine],
                                                   "notes": f"{p.notes} ({note})" if p.notes else note})
    if problems:
        raise RulesError(listed([en for en, _ in problems]),
                         "fix the overlay: values in the parameter's unit and shape, as in its file under "
                         f"{base.root}, and cited",
                         vi=listed([vi for _, vi in problems], "vi"),
                         vi_hint="sửa tệp điều chỉnh: giá trị đúng đơn vị và dạng của tham số (xem tệp tham số trong "
                                 f"{base.root}) và có trích dẫn", code="overlay_parameters_invalid")
    regime = replace(base, instruments=instruments, parameters=parameters,
                     files={**base.files, **{pid: path for pid in ov.parameters}},
                     version=f"{base.version}+{ov.id}@{ov.digest}", overlay=ov, base=base)
    try:
        _cross_check(regime)  # what the base checks of parameters (codes, instruments) holds for the overlay too
    except RulesError as exc:
        raise RulesError(f"{path}: overlay {ov.id}: {exc.message}", exc.hint,
                         vi=f"{path}: bộ điều chỉnh {ov.id} làm bộ tiêu chí {base.id} không hợp lệ: {exc.message}",
                         vi_hint=_OVERLAY_VI_HINT, code="overlay_breaks_regime") from None
    _OVERLAYS[key] = regime
    return regime


def _base_regime(ov: Overlay, data: Any, path: Path) -> Regime:
    regimes = {p.name: p for p in discover_regimes()}
    folder = regimes.get(ov.base)
    if folder is None:
        at = f"{path}:{_key_line(data, 'base')}"
        close = difflib.get_close_matches(ov.base, list(regimes), n=1)
        sug, sug_vi = _suggest(close)
        raise RulesError(f"{at}: base '{clip(ov.base)}' is not a regime of the rules{sug}",
                         "name one of: " + ", ".join(regimes),
                         vi=f"{at}: bộ tiêu chí gốc '{clip(ov.base)}' không có trong bộ quy tắc{sug_vi}",
                         vi_hint="chọn một trong: " + ", ".join(regimes), code="overlay_base_unknown")
    return load_regime(folder)


def _suggest(close: list[str]) -> tuple[str, str]:
    """' — did you mean 'x'?' in English and Vietnamese ('' when there is nothing close)."""
    if not close:
        return "", ""
    return f" — did you mean '{close[0]}'?", f" — có phải là '{close[0]}'?"


def _plain_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_value(v) for v in value]
    return value


def _param_codes(r: Regime, pid: str) -> list[str] | None:
    """The codes a `codes` parameter may hold: those of every coded field a rule compares it with (None: unknown)."""
    try:
        from tieuchi.contract.columns import columns
    except ImportError:  # pragma: no cover
        return None
    nodes = [n for d in r.derived.values() for n in walk(d.condition)]
    nodes += [n for i in r.indicators.values() for n in walk(i.deprived_when)]
    nodes += [n for c in r.classification.classes for n in walk(c.when)]
    if r.program is not None:
        for item in r.program.items.values():
            nodes += walk(item.eligible_when) + [n for c in item.priority.values() for n in walk(c)]
        nodes += [n for sr in r.program.shares.values() for sh in sr.shares for n in walk(sh.when)]
    nodes += [n for s in r.shared for sr in s.shares.values() for sh in sr.shares for n in walk(sh.when)]
    allowed: list[str] | None = None
    for n in nodes:
        if not isinstance(n, m.Compare):
            continue
        op, operand = n.op
        if not (isinstance(operand, m.ParamRef) and operand.param == pid):
            continue
        name = "recognised_class" if n.field == "eligibility_class" else n.field
        spec = columns("members").get(name) or columns("households").get(name)
        if spec is None or not spec.codes:
            continue
        allowed = [c for c in (allowed if allowed is not None else spec.codes) if c in set(spec.codes)]
    return allowed


def _value_problems(p: m.Parameter, value: Any, raw: Any, codes: list[str] | None,
                    path: Path) -> list[tuple[str, str]]:
    """Why one overlay value does not fit parameter `p` (its unit, the keys it is keyed by, the field's codes)."""
    at = f"{path}:{_key_line(raw, 'value')}"
    raw_value = raw.get("value") if isinstance(raw, dict) else None
    if p.keyed_by is None:
        return _scalar_problems(p, value, at, codes, "")
    keys = list(dict.fromkeys(k for v in p.values if isinstance(v.value, dict) for k in v.value))
    shape = "{" + ", ".join(f"{k}: …" for k in keys) + "}"
    if not isinstance(value, dict):
        return [(f"{at}: parameter '{p.id}' is keyed by {p.keyed_by}: give a value for each of {', '.join(keys)} "
                 f"as {shape}, not {shown(value)}",
                 f"{at}: tham số '{p.id}' có giá trị theo {p.keyed_by}: cho một giá trị cho mỗi {', '.join(keys)} "
                 f"dạng {shape}, không phải {shown(value)}")]
    out = []
    for k in value:
        if k not in keys:
            line = f"{path}:{_key_line(raw_value, k) or _key_line(raw, 'value')}"
            close = difflib.get_close_matches(str(k), keys, n=1)
            sug, sug_vi = _suggest(close) if close else (f" (use {', '.join(keys)})", f" (dùng {', '.join(keys)})")
            out.append((f"{line}: parameter '{p.id}': unknown {p.keyed_by} '{clip(k)}'{sug}",
                        f"{line}: tham số '{p.id}': không có {p.keyed_by} '{clip(k)}'{sug_vi}"))
    for k in keys:
        if k not in value:
            out.append((f"{at}: parameter '{p.id}': no value for {p.keyed_by} '{k}' (give {shape})",
                        f"{at}: tham số '{p.id}': thiếu giá trị cho {p.keyed_by} '{k}' (cho {shape})"))
        else:
            line = f"{path}:{_key_line(raw_value, k) or _key_line(raw, 'value')}"
            out += _scalar_problems(p, value[k], line, codes, f" for {p.keyed_by} '{clip(k)}'")
    return out


def _scalar_problems(p: m.Parameter, value: Any, at: str, codes: list[str] | None,
                     which: str) -> list[tuple[str, str]]:
    unit = m.UNITS[p.unit]
    kind = unit.kind
    which_vi = which.replace(" for ", " cho ")
    if not m.fits_unit(p.unit, value):
        return [(f"{at}: parameter '{p.id}' ({p.unit}){which}: {shown(value)} is not {unit.en}",
                 f"{at}: tham số '{p.id}' ({p.unit}){which_vi}: {shown(value)} không phải là {unit.vi}")]
    if kind == "codes" and codes is not None:
        out = []
        for code in value:
            if code not in codes:
                close = difflib.get_close_matches(code, codes, n=1)
                sug, sug_vi = _suggest(close)
                out.append((f"{at}: parameter '{p.id}'{which}: '{clip(code)}' is not a code of the field it is "
                            f"compared with{sug} (allowed: {', '.join(codes)})",
                            f"{at}: tham số '{p.id}'{which_vi}: '{clip(code)}' không phải là mã hợp lệ{sug_vi} "
                            f"(mã hợp lệ: {', '.join(codes)})"))
        return out
    return []


def _overlay_keys_near(loc: tuple) -> list[str]:
    """The keys allowed where an unknown key of an overlay was met: follow the overlay's models along the location
    (mapping keys and list positions are skipped)."""
    cls: type[BaseModel] = Overlay
    for part in loc[:-1]:
        info = next((i for n, i in cls.model_fields.items() if part in (n, i.alias)), None)
        if info is None:
            continue  # a parameter or instrument id, or a list position
        nxt = _model_in(info.annotation)
        if nxt is None:
            break
        cls = nxt
    return _allowed_keys(cls)


# ----------------------------------------------------------------------------------------------------------------
# Plans (rules/plans/<id>.yaml): targets over a survey and a budget whose numbers must add up

_PLAN_VI_HINT = "sửa tệp kế hoạch; cấu trúc được mô tả ở đầu tệp rules/plans/tan_yen_2024.yaml"


def plan_path(plan: str | Path) -> Path:
    """A plan file given as a path (a .yaml file, or any file that exists), or the id of a plan shipped under
    rules/plans (`tan_yen_2024`). An id is a name, never a path: `../x` does not reach outside rules/plans."""
    p = Path(plan)
    if p.suffix.lower() in (".yaml", ".yml") or p.is_file():
        return p
    shipped = _shipped("plans", str(plan))
    if shipped is not None:
        return shipped
    known = ", ".join(_shipped_ids("plans"))
    given = clip(plan)
    if not _ID.fullmatch(str(plan)):
        raise UsageError(f"--plan '{given}': not a plan id (an id has no '/', '.' or '..') and not a .yaml file",
                         "give a plan file (.yaml) or the id of a shipped plan: " + known,
                         vi=f"--plan '{given}': không phải mã kế hoạch (mã không chứa '/', '.' hay '..') và cũng không "
                            f"phải tệp .yaml",
                         vi_hint="cho một tệp kế hoạch (.yaml) hoặc mã của một kế hoạch kèm theo: " + known,
                         code="plan_id_invalid")
    raise UsageError(f"--plan '{given}': no such file and no shipped plan of that id",
                     "give a plan file (.yaml) or one of: " + known,
                     vi=f"--plan '{given}': không có tệp này và không có kế hoạch nào có mã này",
                     vi_hint="cho một tệp kế hoạch (.yaml) hoặc một trong: " + known, code="plan_not_found")


def load_plan(path: str | Path) -> Plan:
    """Read and check one plan file. Refused (RulesError, exit 3) with file:line when a key is unknown, a target is
    inconsistent, an id repeats, or the budget does not add up (project lines to each stated project total, project
    totals to the total, sources to the total, the lines of each source to its amount)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: plan file not found",
                         "give the path of a plan file, e.g. rules/plans/tan_yen_2024.yaml",
                         vi=f"{path}: không tìm thấy tệp kế hoạch",
                         vi_hint="nhập đường dẫn tới tệp kế hoạch, ví dụ rules/plans/tan_yen_2024.yaml",
                         code="plan_file_not_found")
    data = read_yaml(path)
    try:
        plan = validate(Plan, data, path, keys_near=_plan_keys_near)
    except RulesError as exc:
        raise RulesError(exc.message, exc.hint, vi=f"tệp kế hoạch không hợp lệ: {exc.message}",
                         vi_hint=_PLAN_VI_HINT, code="plan_invalid") from None
    problems: list[tuple[str, str]] = []
    if plan.id != path.stem:
        problems.append((f"{path}:{_key_line(data, 'id')}: plan id '{clip(plan.id)}' differs from the file name "
                         f"'{path.stem}' — rename the file to {clip(plan.id)}.yaml or fix the id",
                         f"{path}:{_key_line(data, 'id')}: mã kế hoạch '{clip(plan.id)}' khác tên tệp '{path.stem}'"))
    for key, what, what_vi in (("targets", "target", "chỉ tiêu"), ("parameters", "parameter", "tham số")):
        problems += _duplicates(path, data.get(key) or [], "id", what, what_vi)
    if plan.budget is not None:
        problems += _budget_problems(plan, data["budget"], path)
    if problems:
        raise RulesError(listed([en for en, _ in problems]),
                         "fix the plan file so that its numbers are the plan's and add up",
                         vi=listed([vi for _, vi in problems], "vi"),
                         vi_hint="sửa tệp kế hoạch cho đúng số liệu của kế hoạch và khớp tổng",
                         code="plan_numbers_invalid")
    plan._source = str(path)
    plan._digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    for raw in data.get("targets") or []:
        plan._lines[raw["id"]] = raw.line
        for part in ("population", "count"):
            if part in raw:
                plan._lines[f"{raw['id']}.{part}"] = raw.key_lines[part]
    return plan


def check_plan(plan: Plan, rules_at: RulesAt) -> dict[str, str]:
    """Cross-check a plan against a regime, as rule conditions are checked: citations name known instruments, and
    each target's conditions name fields, variables and parameters (the plan's own included) that exist, at the
    target's level. Returns {target id: reason} for the targets the regime cannot measure because it lacks an
    indicator they count; any other problem is a RulesError (exit 3)."""
    merged = rules_with_plan(rules_at, plan)
    r = merged.regime
    source = plan.source or f"plan {plan.id}"
    for owner, cite in [(plan.id, plan.citation), *[(t.id, t.citation) for t in plan.targets],
                        *[(p.id, v.citation) for p in plan.parameters for v in p.values],
                        *([("budget", plan.budget.citation)] if plan.budget and plan.budget.citation else [])]:
        if cite.instrument not in r.instruments:
            close = difflib.get_close_matches(cite.instrument, list(r.instruments), n=1)
            raise RulesError(f"{source}: {clip(owner)}: citation names unknown instrument '{clip(cite.instrument)}'"
                             + (f" — did you mean '{close[0]}'?" if close else ""),
                             "add it to rules/instruments.yaml or fix the id",
                             vi=f"{source}: {clip(owner)}: trích dẫn văn bản không có trong danh mục: "
                                f"'{clip(cite.instrument)}'",
                             vi_hint="thêm văn bản vào rules/instruments.yaml hoặc sửa mã",
                             code="citation_unknown_instrument")
    contract = _contract_fields()
    if contract is None:  # pragma: no cover - during bootstrap only
        return {}
    hh, mem = contract
    hh |= HOUSEHOLD_BUILTINS
    mem |= MEMBER_BUILTINS
    for p in plan.parameters:
        if p.keyed_by is not None and p.keyed_by not in hh | mem:
            raise RulesError(f"{source}: plan parameter '{p.id}' is keyed by unknown field '{p.keyed_by}'",
                             "key it by a household or member field of the data contract",
                             vi=f"{source}: tham số '{p.id}' của kế hoạch theo trường không tồn tại '{p.keyed_by}'",
                             code="field_unknown")
    unmeasurable: dict[str, str] = {}
    for t in plan.targets:
        conds = [(part, c) for part, c in (("population", t.population), ("count", t.count)) if c is not None]
        missing: list[str] = []
        for _, c in conds:
            for node in walk(c):
                if isinstance(node, m.CountDeprived) and node.count_deprived != "all":
                    missing += [i for i in node.count_deprived if i not in r.ruleset.indicators and i not in missing]
        view = r if not missing else replace(
            r, ruleset=r.ruleset.model_copy(update={"indicators": [*r.ruleset.indicators, *missing]}))
        for part, c in conds:
            where = f"{source}:{plan._lines.get(f'{t.id}.{part}', plan._lines.get(t.id, 0))}"
            try:
                _check_node(view, where, f"{t.id}.{part}", c, t.level, set(hh), set(mem))
            except RulesError as exc:
                raise RulesError(exc.message, exc.hint,
                                 vi=f"chỉ tiêu '{t.id}' của kế hoạch có điều kiện không dùng được với bộ tiêu chí "
                                    f"{r.id}: {exc.message}", vi_hint=_PLAN_VI_HINT,
                                 code="plan_target_invalid") from None
        if missing:
            unmeasurable[t.id] = (f"regime {r.id} has no indicator {', '.join(missing)}: target {t.id} is not "
                                  f"measurable under it")
    return unmeasurable


def rules_with_plan(rules_at: RulesAt, plan: Plan) -> RulesAt:
    """`rules_at` with the plan's parameters added at its date (regime parameters and `params`), so that target
    conditions can name them. A copy: the cached regime is not changed. Its version names the plan."""
    r = rules_at.regime
    source = plan.source or f"plan {plan.id}"
    mine = {p.id: p for p in plan.parameters}
    for clash in sorted(set(mine) & set(r.parameters)):
        raise RulesError(f"{source}: plan parameter '{clash}' is already declared by regime {r.id} "
                         f"({r.files.get(clash, r.root)})", "give the plan's parameter another id",
                         vi=f"{source}: tham số '{clash}' của kế hoạch trùng tên với tham số của bộ tiêu chí {r.id}",
                         vi_hint="đặt tên khác cho tham số của kế hoạch", code="plan_parameter_clash")
    params = dict(rules_at.params)
    provisional = set(rules_at.provisional_params)
    day = rules_at.day.isoformat()
    for pid, p in mine.items():
        dv = p.at(rules_at.day)
        if dv is None:
            raise RulesError(f"{source}: plan parameter '{pid}' has no value on {day} (its first value starts "
                             f"{p.values[0].start})", "add a value whose 'from' is on or before the reference date",
                             vi=f"{source}: tham số '{pid}' của kế hoạch chưa có giá trị vào ngày {day} (giá trị "
                                f"đầu tiên từ {p.values[0].start})",
                             vi_hint="thêm một giá trị có 'from' không muộn hơn ngày tham chiếu",
                             code="parameter_no_value")
        params[pid] = dv.value
        if dv.provisional:
            provisional.add(pid)
    digest = plan._digest or hashlib.sha256(plan.model_dump_json().encode()).hexdigest()[:12]
    where = Path(plan.source) if plan.source else r.root
    regime = replace(r, parameters={**r.parameters, **mine}, files={**r.files, **{pid: where for pid in mine}},
                     version=f"{r.version}+{plan.id}@{digest}")
    return RulesAt(regime=regime, day=rules_at.day, params=params, provisional_params=provisional)


def _key_line(node: Any, key: str) -> int:
    if isinstance(node, _Map):
        return node.key_lines.get(key, node.line)
    return getattr(node, "line", 0)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def _duplicates(path: Path, rows: list, key: str, what: str, what_vi: str) -> list[tuple[str, str]]:
    seen: dict = {}
    out = []
    for raw in rows:
        if not isinstance(raw, _Map) or key not in raw:
            continue
        value, line = raw[key], raw.key_lines[key]
        if value in seen:
            out.append((f"{path}:{line}: {what} {key} '{clip(value)}' is already used at line {seen[value]} — ids "
                        f"must be unique", f"{path}:{line}: {what_vi} '{clip(value)}' đã dùng ở dòng {seen[value]}"))
        else:
            seen[value] = line
    return out


def _budget_problems(plan: Plan, raw: _Map, path: Path) -> list[tuple[str, str]]:
    """Every way the budget fails to add up, each at the line of the number that fails."""
    b = plan.budget
    raw_projects, raw_lines, raw_sources = raw["projects"], raw["lines"], raw["sources"]
    problems = _duplicates(path, raw_lines, "id", "budget line", "dòng ngân sách")
    problems += _duplicates(path, raw_projects, "project", "budget project", "dự án")
    listed = [p.project for p in b.projects]
    for line, rl in zip(b.lines, raw_lines):
        if line.project not in listed:
            at = f"{path}:{_key_line(rl, 'project')}"
            problems.append((f"{at}: budget line {line.id}: project '{line.project}' is not listed under "
                             f"budget.projects (listed: {', '.join(listed)})",
                             f"{at}: dòng ngân sách {line.id}: dự án '{line.project}' không có trong budget.projects"))
        if line.sub_project is not None and not line.sub_project.startswith(f"{line.project}."):
            at = f"{path}:{_key_line(rl, 'sub_project')}"
            problems.append((f"{at}: budget line {line.id}: sub-project '{line.sub_project}' is not a sub-project of "
                             f"project '{line.project}' (write it '{line.project}.<n>')",
                             f"{at}: dòng ngân sách {line.id}: tiểu dự án '{line.sub_project}' không thuộc dự án "
                             f"'{line.project}'"))
        if line.item is not None and line.item not in ITEM_ORDER:
            at = f"{path}:{_key_line(rl, 'item')}"
            close = difflib.get_close_matches(line.item, ITEM_ORDER, n=1)
            hint = f" — did you mean '{close[0]}'?" if close else f" (use one of: {', '.join(ITEM_ORDER)})"
            problems.append((f"{at}: budget line {line.id}: '{line.item}' is not a program item id{hint}",
                             f"{at}: dòng ngân sách {line.id}: '{line.item}' không phải mã hạng mục của Chương trình"))

    def terms(lines, word: str = "line") -> str:
        return " + ".join(f"{x.id} {_num(x.amount)} ({word} {_key_line(rl, 'amount')})" for x, rl in lines) or \
            ("none" if word == "line" else "không có")

    pairs = list(zip(b.lines, raw_lines))
    for p, rp in zip(b.projects, raw_projects):
        if p.total is None:
            continue
        mine = [(x, rl) for x, rl in pairs if x.project == p.project]
        total = sum(x.amount for x, _ in mine)
        if not _same(total, p.total):
            at = f"{path}:{_key_line(rp, 'total')}"
            problems.append((f"{at}: budget: project {p.project} — the plan states a total of {_num(p.total)} but its "
                             f"lines add up to {_num(total)}: {terms(mine)}",
                             f"{at}: ngân sách: dự án {p.project} — tổng ghi {_num(p.total)} nhưng các dòng cộng lại "
                             f"được {_num(total)}: {terms(mine, 'dòng')}"))
    projects = [(p, b.project_total(p.project)) for p in b.projects]
    total = sum(v for _, v in projects)
    if not _same(total, b.total):
        at = f"{path}:{_key_line(raw, 'total')}"
        each = " + ".join(f"project {p.project} {_num(v)}" + ("" if p.total is not None else " (sum of its lines)")
                          for p, v in projects)
        each_vi = " + ".join(f"dự án {p.project} {_num(v)}" for p, v in projects)
        problems.append((f"{at}: budget: the projects add up to {_num(total)} ({each}) but the total is "
                         f"{_num(b.total)}",
                         f"{at}: ngân sách: các dự án cộng lại được {_num(total)} ({each_vi}) nhưng tổng ghi "
                         f"{_num(b.total)}"))
    amounts = {s: getattr(b.sources, s) for s in type(b.sources).model_fields}
    total = sum(amounts.values())
    if not _same(total, b.total):
        at = f"{path}:{_key_line(raw, 'sources')}"
        each = " + ".join(f"{s} {_num(v)}" for s, v in amounts.items())
        problems.append((f"{at}: budget: the sources add up to {_num(total)} ({each}) but the total is "
                         f"{_num(b.total)}",
                         f"{at}: ngân sách: các nguồn vốn cộng lại được {_num(total)} ({each}) nhưng tổng ghi "
                         f"{_num(b.total)}"))
    for source, amount in amounts.items():
        mine = [(x, rl) for x, rl in pairs if x.source == source]
        total = sum(x.amount for x, _ in mine)
        if not _same(total, amount):
            at = f"{path}:{_key_line(raw_sources, source)}"
            problems.append((f"{at}: budget: sources.{source} is {_num(amount)} but the lines funded from it add up "
                             f"to {_num(total)}: {terms(mine)}",
                             f"{at}: ngân sách: nguồn {source} ghi {_num(amount)} nhưng các dòng dùng nguồn này cộng "
                             f"lại được {_num(total)}: {terms(mine, 'dòng')}"))
    return problems


def _plan_keys_near(loc: tuple) -> list[str]:
    """The keys allowed where an unknown key of a plan file was met: follow the plan's models along the location."""
    if any(isinstance(p, str) and p[:1].isupper() for p in loc[:-1]):
        return _known_keys_near(loc)  # inside a condition
    cls: type[BaseModel] = Plan
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        info = next((i for n, i in cls.model_fields.items() if part in (n, i.alias)), None)
        nxt = _model_in(info.annotation) if info is not None else None
        if nxt is None:
            return _known_keys_near(loc)
        cls = nxt
    return _allowed_keys(cls)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The one model class an annotation holds (list[X], X | None, Annotated[X, …]); None for conditions."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return None if issubclass(annotation, m._Node) else annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
