"""Where the rule files are, and one file read into a model: each problem with `file:line` and a suggestion.

`validate` turns the plain data `read_yaml` gives into a pydantic model of the vocabulary (or an overlay's, a plan's):
an unknown key is named with "did you mean" or the keys allowed there. `shown`, `listed` and `suggest` say how a
user's value, a list of problems and a close name appear in a message, the same way in every rule-file message.
"""
from __future__ import annotations

import difflib
import functools
import hashlib
import re
import typing
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from tieuchi.errors import SHOWN, RulesError, UsageError, clip
from tieuchi.rulebook import vocabulary as m
from tieuchi.rulebook.yaml_lines import line_of

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


def suggest(close: list[str]) -> tuple[str, str]:
    """' — did you mean 'x'?' in English and Vietnamese ('' when there is nothing close)."""
    if not close:
        return "", ""
    return f" — did you mean '{close[0]}'?", f" — có phải là '{close[0]}'?"


# ----------------------------------------------------------------------------------------------------------------
# A file read into a model


def allowed_keys(model_cls: type[BaseModel]) -> list[str]:
    """The keys a rule file may give for `model_cls` (aliases where a field has one)."""
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
            line = line_of(data, loc)
            where = clip(".".join(clip(p, 40) for p in loc if not (isinstance(p, str) and p[:1].isupper()))
                         or "(top)", 160)
            msg = clip(err["msg"], 300)
            hint = ""
            if err["type"] == "extra_forbidden":
                known = (keys_near or known_keys_near)(loc)
                close = difflib.get_close_matches(str(loc[-1]), known, n=1)
                allowed = f" — allowed: {', '.join(known)}" if 0 < len(known) <= 12 else ""
                hint = f" — did you mean '{close[0]}'?" if close else allowed
                msg = f"unknown key '{clip(loc[-1])}'"
            elif err["type"] == "missing":
                msg = f"required key '{loc[-1]}' is missing"
            lines.append(f"{path}:{line}: {where}: {msg}{hint}")
        raise RulesError(listed(lines), "fix the rule file; see rules/README.md", code='rules_file_invalid') from None


_ALL_MODELS = [m.Labels, m.Citation, m.Validity, m.Parameter, m.DatedValue, m.Derived, m.Indicator,
               m.Classification, m.ClassRule, m.Ruleset, m.Instrument, m.Compare, m.CountMembers,
               m.ShareOfMembers, m.CountOf, m.CountDeprived]


def known_keys_near(loc: tuple) -> list[str]:
    """The keys allowed where an unknown key of a rule file was met: those of the condition model named in the
    location, else every key of the rule models."""
    for part in reversed(loc[:-1]):
        if isinstance(part, str) and part[:1].isupper() and hasattr(m, part):
            return allowed_keys(getattr(m, part))
    keys: set[str] = set()
    for cls in _ALL_MODELS:
        keys.update(allowed_keys(cls))
    keys.update(m.CONDITION_HEADS)
    return sorted(keys)


def model_in(annotation: Any) -> type[BaseModel] | None:
    """The one model class an annotation holds (list[X], X | None, Annotated[X, …]); None for conditions."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return None if issubclass(annotation, m.ConditionNode) else annotation
    for arg in typing.get_args(annotation):
        found = model_in(arg)
        if found is not None:
            return found
    return None


# ----------------------------------------------------------------------------------------------------------------
# Where the rules are


def rules_root() -> Path:
    """The rules shipped in the package (wheel: tieuchi/_rules), or the source tree's rules/ (editable/dev)."""
    packaged = packaged_rules()
    if packaged is not None:
        return packaged
    source = Path(__file__).resolve().parents[3] / "rules"
    if source.is_dir():
        return source
    raise UsageError("the rules shipped with tieuchi were not found",
                     "reinstall tieuchi (pip install .); the wheel carries them as tieuchi/_rules",
                     code='rules_not_shipped')


def packaged_rules() -> Path | None:
    """The rules a (non-editable) install carries as tieuchi/_rules; None when tieuchi runs from a source tree."""
    packaged = resources.files("tieuchi") / "_rules"
    return Path(str(packaged)) if packaged.is_dir() else None


def tree_of(path: Path) -> Path | None:
    """The rules tree (the folder holding instruments.yaml and poverty/) that `path` is in, or None."""
    for folder in [Path(path).resolve(), *Path(path).resolve().parents]:
        if (folder / "instruments.yaml").is_file() and (folder / "poverty").is_dir():
            return folder
    return None


def checkout_rules(start: Path) -> Path | None:
    """The rules/ folder of the tieuchi source checkout that `start` is in (a folder whose pyproject.toml names
    the project tieuchi and that holds rules/instruments.yaml), or None."""
    for folder in [Path(start).resolve(), *Path(start).resolve().parents]:
        project, rules = folder / "pyproject.toml", folder / "rules"
        if project.is_file() and (rules / "instruments.yaml").is_file():
            try:
                named = re.search(r'(?m)^name\s*=\s*"tieuchi"\s*$', project.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                named = None
            if named:
                return rules
    return None


def tree_digest(root: Path) -> str:
    """A content hash of every YAML file of a rules tree (cases included: `tieuchi test` reads them), by path; kept
    while no file is added, removed, resized or touched (a process that runs many commands hashes each tree once)."""
    files = sorted(root.rglob("*.yaml"))
    stamp = tuple((p.relative_to(root).as_posix(), (st := p.stat()).st_mtime_ns, st.st_size) for p in files)
    return _digest(root, stamp)


@functools.lru_cache(maxsize=16)
def _digest(root: Path, stamp: tuple) -> str:
    h = hashlib.sha256()
    for rel, _, _ in stamp:
        h.update(rel.encode() + b"\0")
        h.update((root / rel).read_bytes() + b"\0")
    return h.hexdigest()


def stale_rules(start: Path | None = None) -> tuple[Path, Path] | None:
    """(installed rules, checkout rules) when tieuchi runs with the rules an install carries from inside a source
    checkout (`start`, default the current folder) whose rules/ differ from them: edits there are not used."""
    installed = packaged_rules()
    if installed is None:
        return None
    checkout = checkout_rules(Path.cwd() if start is None else start)
    if checkout is None or checkout.resolve() == installed.resolve():
        return None
    return None if tree_digest(installed) == tree_digest(checkout) else (installed, checkout)


SHIPPED_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")  # an id of a shipped overlay or plan: no '/', no '.', no '..'


def shipped_file(kind: str, name: str) -> Path | None:
    """rules/<kind>/<name>.yaml shipped with tieuchi (overlays, plans), when `name` is an id and there is one: an id
    never reaches outside rules/<kind>/."""
    if not SHIPPED_ID.fullmatch(name):
        return None
    path = rules_root() / kind / f"{name}.yaml"
    return path if path.is_file() else None


def shipped_ids(kind: str) -> list[str]:
    """The ids of the files shipped under rules/<kind>/."""
    return sorted(x.stem for x in (rules_root() / kind).glob("*.yaml"))
