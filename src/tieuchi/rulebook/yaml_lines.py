"""YAML read safely, with the line of every mapping, list and key, so that a problem is reported as `file:line`.

Rule files are read by legal officers: they hold plain data only. The reader is YAML-1.2-core-like and refuses what a
rule file has no need of and what would let a small file exhaust the reader: anchors and aliases (a 3 KB file of
nested aliases expands to billions of nodes), explicit tags (`!!binary`, `!!python/…`, `!local`), nesting deeper than
MAX_DEPTH (the composer recurses once per level), YAML 1.1 number forms (`0x1F`, `0o17`, `017`, `1_000`, base 60
`190:20:30`, `.inf`, `.nan`), integers of more than 18 digits, days that do not exist and times of day. Each refusal
is a RulesError naming the file and line. The data comes back as `YamlMap` / `YamlSeq` (a dict / list that knows its
lines) and plain scalars; nothing here knows what a rule is.
"""
from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from pathlib import Path
from typing import Any

import yaml

from tieuchi.errors import RulesError, clip

MAX_DEPTH = 64  # levels of nesting a rule file may have; the deepest shipped file has 17
MAX_INT_DIGITS = 18  # an integer in a rule file fits int64 with room to spare


class YamlMap(dict):
    """A mapping that remembers the line of itself and of each key (1-based)."""

    line: int = 0
    key_lines: dict


class YamlSeq(list):
    """A list that remembers its line (1-based)."""

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


def _construct_mapping(loader: _SafeLineLoader, node: yaml.MappingNode) -> YamlMap:
    out = YamlMap()
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


def _construct_sequence(loader: _SafeLineLoader, node: yaml.SequenceNode) -> YamlSeq:
    out = YamlSeq(loader.construct_object(child, deep=True) for child in node.value)
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
                                 "rules/poverty/<bộ tiêu chí>/", code='rules_file_not_found') from None
    except UnicodeDecodeError as exc:
        raise RulesError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})", "save the rule file as UTF-8",
                         vi=f"{path}: không phải UTF-8 ({exc.reason} ở byte {exc.start})",
                         vi_hint="lưu tệp quy tắc dạng UTF-8", code='rules_file_not_utf8') from None
    except OSError as exc:  # a folder, no permission …
        raise RulesError(f"{path}: cannot be read ({exc.strerror or exc})", "give a readable YAML file",
                         vi=f"{path}: không đọc được ({exc.strerror or exc})",
                         vi_hint="cho một tệp YAML đọc được", code='rules_file_unreadable') from None
    try:
        return yaml.load(text, Loader=_SafeLineLoader)  # noqa: S506 - a SafeLoader subclass that refuses every tag
    except _YamlProblem as exc:
        raise RulesError(f"{path}:{exc.line}: {exc.message}", exc.hint,
                         vi=f"{path}:{exc.line}: {exc.vi}" if exc.vi else None, vi_hint=exc.vi_hint,
                         code='rules_yaml_refused') from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        problem = clip(getattr(exc, "problem", None) or exc, 200)
        raise RulesError(f"{path}:{line}: invalid YAML: {problem}", "check indentation and quoting near that line",
                         vi=f"{path}:{line}: YAML không hợp lệ: {problem}",
                         vi_hint="kiểm tra thụt lề và dấu nháy gần dòng đó", code='rules_yaml_invalid') from None


def key_line(node: Any, key: str) -> int:
    """The line of `key` in a mapping read by `read_yaml` (the mapping's own line when the key is absent)."""
    if isinstance(node, YamlMap):
        return node.key_lines.get(key, node.line)
    return getattr(node, "line", 0)


def line_of(data: Any, loc: tuple) -> int:
    """Follow a pydantic error location through the parsed data to the nearest line."""
    line = getattr(data, "line", 0)
    node = data
    for part in loc:
        if isinstance(node, YamlMap):
            key = part if part in node else {"not_": "not", "in_": "in", "is_": "is"}.get(part, part)
            if key in node:
                line = node.key_lines.get(key, line)
                node = node[key]
                line = getattr(node, "line", line) or line
                continue
            if isinstance(part, str) and part[:1].isupper():  # a discriminator tag: stays on this node
                continue
            break
        elif isinstance(node, YamlSeq) and isinstance(part, int) and part < len(node):
            node = node[part]
            line = getattr(node, "line", line) or line
        else:
            if isinstance(part, str) and part[:1].isupper():
                continue
            break
    return line
