"""A regime read from its folder in a rules tree, with the program and the shared sets that apply with it.

A rules tree holds rules/instruments.yaml, rules/poverty/<regime>/ (ruleset.yaml, classification.yaml, parameters/,
derived/, indicators/), rules/programs/<id>/ and rules/shared/<id>/. `load_regime` reads one regime folder, merges
into it the names of the program that names the regime and of the shared sets whose validity meets its window,
cross-checks the whole (`checks`) and gives its version: `<regime id>@<hash of the files that decide results>`.
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from tieuchi.errors import RulesError, clip
from tieuchi.rulebook import vocabulary as m
from tieuchi.rulebook.checks import cross_check
from tieuchi.rulebook.regime import ProgramRules, Regime, SharedRules
from tieuchi.rulebook.source import rules_root, validate
from tieuchi.rulebook.yaml_lines import read_yaml


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
                             f"rename the file to {clip(obj.id)}.yaml or fix the id", code='rule_id_not_file_name')
        if obj.id in files:
            raise RulesError(f"{path}: id '{obj.id}' is already used by {files[obj.id]}", "ids must be unique",
                             code='rule_id_duplicate')
        files[obj.id] = path
        out[obj.id] = obj
    return out


def load_instruments(root: Path) -> dict[str, m.Instrument]:
    """rules/instruments.yaml: every legal instrument a citation may name, by id."""
    path = root / "instruments.yaml"
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise RulesError(f"{path}:1: expected a mapping of instrument id -> instrument", code='instruments_not_mapping')
    return {key: validate(m.Instrument, value, path) for key, value in data.items()}


@functools.lru_cache(maxsize=16)
def load_regime(folder: Path) -> Regime:
    """The regime of rules/poverty/<regime>/ with its program and shared sets, checked (cached by folder)."""
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
    cross_check(regime)
    regime.version = f"{ruleset.id}@{_content_hash(folder, root)}"
    return regime


def _program_folders(root: Path) -> list[Path]:
    return sorted(p.parent for p in (root / "programs").glob("*/program.yaml"))


def program_items(root: Path | None = None) -> list[str]:
    """The item ids every program of a rules tree declares (default: the shipped rules), in their order: what a
    plan's budget lines may name."""
    out: list[str] = []
    for folder in _program_folders(root or rules_root()):
        path = folder / "program.yaml"
        out += [i for i in validate(m.Program, read_yaml(path), path).items if i not in out]
    return out


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
                             code='rule_name_clash')
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
                             f"rename the folder to {shared.id} or fix the id", code='shared_set_id_not_folder')
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
                                 code='shared_status_unknown')
        taken = {o for s in out for o in s.shares.values() for o in [o.output]}
        for sr in shares.values():
            if sr.output in taken:
                raise RulesError(f"{files[sr.id]}: output '{sr.output}' is already written by another shared set",
                                 "give each share rule its own output column", code='share_output_duplicate')
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
                         "one program per regime", code='program_duplicate')
    folder, path, prog = found[0]
    files: dict[str, Path] = {prog.id: path}
    parameters = _load_kind(folder / "parameters", m.Parameter, "parameter", files)
    derived = _load_kind(folder / "derived", m.Derived, "derived variable", files)
    items = _load_kind(folder / "items", m.ProgramItem, "program item", files)
    shares = _load_kind(folder / "shares", m.ShareRule, "share", files)
    unknown = [i for i in items if i not in prog.items]
    if unknown:
        raise RulesError(f"{files[unknown[0]]}: '{unknown[0]}' is not an item of the program ({path.name}: items)",
                         f"use one of: {', '.join(prog.items)}, or add it to items in {path}",
                         code='program_item_unknown')
    missing = [i for i in prog.items if i not in items]
    if missing or len(set(prog.items)) < len(prog.items):
        what = f"has no file items/{missing[0]}.yaml" if missing else "names an item twice"
        raise RulesError(f"{path}: items {what}", "list each file of items/ once", code='program_item_unknown')
    items = {i: items[i] for i in prog.items}
    groups = [g.id for g in prog.priority_groups]
    if len(set(groups)) < len(groups):
        raise RulesError(f"{path}: priority_groups names a group twice", "list each group once",
                         code='priority_group_duplicate')
    for item in items.values():
        for g in item.priority:
            if g not in groups:
                raise RulesError(f"{files[item.id]}: priority group '{g}' is not one of the program's priority_groups",
                                 f"use one of: {', '.join(groups) or '—'}, or add it to priority_groups in {path}",
                                 code='priority_group_unknown')
    for sid in [*prog.statuses, prog.target]:
        if sid not in derived or derived[sid].level != "household":
            raise RulesError(f"{path}: '{sid}' is not a household variable of the program's derived/",
                             code='program_status_unknown')
    outputs = {sr.output for s in regime.shared for sr in s.shares.values()}
    for sr in shares.values():
        if sr.output in outputs:
            raise RulesError(f"{files[sr.id]}: output '{sr.output}' is already written by a shared set",
                             "give each share rule its own output column", code='share_output_duplicate')
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
    """The regime folders of a rules tree (default: the shipped rules), in name order."""
    root = root or rules_root()
    return sorted(p.parent for p in (root / "poverty").glob("*/ruleset.yaml"))
