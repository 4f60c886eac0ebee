"""Overlays (rules/overlays/<id>.yaml) applied: a local standard that changes parameters of a national regime.

The overlay file's shape is `overlay.Overlay` (a model that imports no reader, so that `Regime.overlay` can name it);
here the file is found (a path or the id of a shipped overlay), read, its values checked against the base regime's
parameters (unit, keys, codes, dates, citations), and applied to a copy of the base regime.
"""
from __future__ import annotations

import difflib
import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from tieuchi.errors import RulesError, UsageError, clip
from tieuchi.rulebook import vocabulary as m
from tieuchi.rulebook.checks import citation_problem, cross_check, param_codes
from tieuchi.rulebook.folders import discover_regimes, load_regime
from tieuchi.rulebook.overlay import Overlay
from tieuchi.rulebook.regime import Regime
from tieuchi.rulebook.source import allowed_keys, listed, model_in, shipped_file, shipped_ids, shown, suggest, validate
from tieuchi.rulebook.yaml_lines import key_line, read_yaml

_OVERLAY_VI_HINT = "sửa tệp điều chỉnh; cấu trúc được mô tả ở đầu tệp rules/overlays/example_higher_rural_line.yaml"
_OVERLAY_HINT = "fix the overlay file; its shape is described in README.md, section 'Overlays and `tieuchi test`'"
_OVERLAYS: dict[tuple[str, str, str], Regime] = {}  # (file, its hash, base version) -> the overlaid regime


def overlay_path(rules: str | Path) -> Path:
    """An overlay file given as a path, or the id of an overlay shipped under rules/overlays."""
    path = Path(rules)
    if path.is_file():
        return path
    shipped = shipped_file("overlays", str(rules))
    if shipped is not None:
        return shipped
    known = shipped_ids("overlays")
    given = clip(rules)
    raise UsageError(f"--rules '{given}': no such file or folder, and no shipped overlay of that id",
                     "give a regime folder, an overlay file (.yaml), or one of: " + (", ".join(known) or "(none)"),
                     vi=f"--rules '{given}': không có tệp hay thư mục này, cũng không có bộ điều chỉnh nào có mã này",
                     vi_hint="cho một thư mục bộ tiêu chí, một tệp điều chỉnh (.yaml), hoặc một trong: "
                             + (", ".join(known) or "(không có)"), code='rules_not_found')


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
                            code='overlay_not_mapping')
    try:
        ov = validate(Overlay, data, path, keys_near=_overlay_keys_near)
    except RulesError as exc:
        raise RulesError(exc.message, _OVERLAY_HINT, vi=f"tệp điều chỉnh không hợp lệ: {exc.message}",
                         vi_hint=_OVERLAY_VI_HINT, code="overlay_invalid") from None
    if ov.id != path.stem:
        at = f"{path}:{key_line(data, 'overlay')}"
        raise RulesError(f"{at}: overlay id '{clip(ov.id)}' differs from the file name '{path.stem}'",
                         f"rename the file to {clip(ov.id)}.yaml or fix the id",
                         vi=f"{at}: mã bộ điều chỉnh '{clip(ov.id)}' khác tên tệp '{path.stem}'",
                         vi_hint=f"đổi tên tệp thành {clip(ov.id)}.yaml hoặc sửa mã", code='overlay_id_not_file_name')
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
            at = f"{path}:{key_line(data['instruments'], iid)}"
            problems.append((f"{at}: instrument '{iid}' is already declared in rules/instruments.yaml — cite it "
                             f"without declaring it, or give the local instrument another id",
                             f"{at}: văn bản '{iid}' đã có trong rules/instruments.yaml — trích dẫn trực tiếp, hoặc "
                             f"đặt mã khác cho văn bản của địa phương"))
        instruments[iid] = inst
    cites = [(f"{path}:{key_line(data['citation'], 'instrument')}", ov.citation)]
    for pid, values in ov.parameters.items():
        for v, raw in zip(values, data["parameters"][pid]):
            cites.append((f"{path}:{key_line(raw['citation'], 'instrument')}", v.citation))
    for at, cite in cites:
        problem = citation_problem(at, None, cite.instrument, instruments)
        if problem is not None:
            problems.append((f"{problem[0]} (declare a local instrument under 'instruments:' of the overlay)",
                             f"{problem[1]} (khai báo văn bản của địa phương trong mục 'instruments:' của tệp điều "
                             f"chỉnh)"))
    parameters = dict(base.parameters)
    end = base.ruleset.validity.end
    for pid, values in ov.parameters.items():
        raw_values = data["parameters"][pid]
        p = base.parameters.get(pid)
        if p is None:
            at = f"{path}:{key_line(data['parameters'], pid)}"
            close = difflib.get_close_matches(pid, list(base.parameters), n=1)
            sug, sug_vi = suggest(close)
            problems.append((f"{at}: regime {base.id} has no parameter '{clip(pid)}'{sug}",
                             f"{at}: bộ tiêu chí {base.id} không có tham số '{clip(pid)}'{sug_vi}"))
            continue
        codes = param_codes(base, pid)
        for v, raw in zip(values, raw_values):
            problems += _value_problems(p, v.value, raw, codes, path)
            if end is not None and v.start > end:
                at = f"{path}:{key_line(raw, 'from')}"
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
        cross_check(regime)  # what the base checks of parameters (codes, instruments) holds for the overlay too
    except RulesError as exc:
        raise RulesError(f"{path}: overlay {ov.id}: {exc.message}", exc.hint,
                         vi=f"{path}: bộ điều chỉnh {ov.id} làm bộ tiêu chí {base.id} không hợp lệ: {exc.message}",
                         vi_hint=_OVERLAY_VI_HINT, code='overlay_breaks_regime') from None
    _OVERLAYS[key] = regime
    return regime


def _base_regime(ov: Overlay, data: Any, path: Path) -> Regime:
    regimes = {p.name: p for p in discover_regimes()}
    folder = regimes.get(ov.base)
    if folder is None:
        at = f"{path}:{key_line(data, 'base')}"
        close = difflib.get_close_matches(ov.base, list(regimes), n=1)
        sug, sug_vi = suggest(close)
        raise RulesError(f"{at}: base '{clip(ov.base)}' is not a regime of the rules{sug}",
                         "name one of: " + ", ".join(regimes),
                         vi=f"{at}: bộ tiêu chí gốc '{clip(ov.base)}' không có trong bộ quy tắc{sug_vi}",
                         vi_hint="chọn một trong: " + ", ".join(regimes), code='overlay_base_unknown')
    return load_regime(folder)


def _plain_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_value(v) for v in value]
    return value


def _value_problems(p: m.Parameter, value: Any, raw: Any, codes: list[str] | None,
                    path: Path) -> list[tuple[str, str]]:
    """Why one overlay value does not fit parameter `p` (its unit, the keys it is keyed by, the field's codes)."""
    at = f"{path}:{key_line(raw, 'value')}"
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
            line = f"{path}:{key_line(raw_value, k) or key_line(raw, 'value')}"
            close = difflib.get_close_matches(str(k), keys, n=1)
            sug, sug_vi = suggest(close) if close else (f" (use {', '.join(keys)})", f" (dùng {', '.join(keys)})")
            out.append((f"{line}: parameter '{p.id}': unknown {p.keyed_by} '{clip(k)}'{sug}",
                        f"{line}: tham số '{p.id}': không có {p.keyed_by} '{clip(k)}'{sug_vi}"))
    for k in keys:
        if k not in value:
            out.append((f"{at}: parameter '{p.id}': no value for {p.keyed_by} '{k}' (give {shape})",
                        f"{at}: tham số '{p.id}': thiếu giá trị cho {p.keyed_by} '{k}' (cho {shape})"))
        else:
            line = f"{path}:{key_line(raw_value, k) or key_line(raw, 'value')}"
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
                sug, sug_vi = suggest(close)
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
        nxt = model_in(info.annotation)
        if nxt is None:
            break
        cls = nxt
    return allowed_keys(cls)

