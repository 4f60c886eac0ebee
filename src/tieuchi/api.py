"""The small public API: `classify` a survey at a reference date. The CLI and reports sit on top of it."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import pandas as pd

from tieuchi.contract.ages import parse_day
from tieuchi.contract.household import document, parse_household
from tieuchi.contract.locate import locate
from tieuchi.contract.parse import to_text
from tieuchi.contract.problems import CONSEQUENCES, reject_message
from tieuchi.contract.read import RawSurvey, document_tables, read_survey, with_reader_rejects
from tieuchi.contract.validate import normalize
from tieuchi.engine import vectorized
from tieuchi.engine.isolate import classify_isolating
from tieuchi.engine.memory import tune_for_batches
from tieuchi.errors import DataError, TieuchiError, UsageError
from tieuchi.i18n import LANGS, table, text
from tieuchi.outputs.explanation import explain_household
from tieuchi.rulebook.regime import RulesAt
from tieuchi.rulebook.load import load_rules


class StrictRefusal(DataError):
    """--strict: some rows failed validation, so nothing was evaluated. `.rejects` holds every problem."""

    code = "strict_refused"

    def __init__(self, rejects: pd.DataFrame, lang: str = "vi"):
        n = len(rejects)  # said in both languages, so that `in_lang` gives one language whatever `lang` was
        super().__init__(f"strict mode: {n} data problem(s); nothing was classified",
                         "fix the rows listed in rejects and run again",
                         vi=f"chế độ nghiêm ngặt (--strict): {n} lỗi dữ liệu, không phân loại hộ nào",
                         vi_hint="sửa các dòng trong rejects rồi chạy lại")
        self.rejects = rejects


@dataclass
class Result:
    households: pd.DataFrame
    members: pd.DataFrame
    rejects: pd.DataFrame
    regime: str
    rules_version: str
    reference_date: dt.date
    indicators: list[str]
    lang: str = "vi"
    communes: pd.DataFrame | None = None
    n_households_in: int = 0
    n_members_in: int = 0
    rules: RulesAt | None = field(default=None, repr=False)
    render_reasons: Callable | None = field(default=None, repr=False)
    notes: list[str] = field(default_factory=list)  # why expected columns are absent (items outside their window …)
    # classify_survey: the survey's households as read, laid out by the user's row (position = row - 1, gaps empty),
    # so that a rejected household's commune can be found from its reject row (reports count them per commune);
    # read from several files: indexed by (file, row) instead, as the rejects' `file` and `row` say
    households_by_row: pd.DataFrame | None = field(default=None, repr=False)

    def reasons(self, lang: str | None = None) -> pd.Series:
        """The `reasons` column as text. The frame keeps a compact integer key per situation; text is rendered once
        per distinct key here."""
        col = self.households["reasons"]
        if self.render_reasons is None or not pd.api.types.is_integer_dtype(col.dtype):
            return col
        codes, keys = pd.factorize(col.to_numpy())
        texts = self.render_reasons(keys, lang or self.lang)
        position = {t: i for i, t in enumerate(dict.fromkeys(texts))}
        remap = np.array([position[t] for t in texts], dtype=np.int32)
        cat = pd.Categorical.from_codes(remap[codes], categories=list(position))
        return pd.Series(cat, index=col.index, name="reasons")

    def households_with_reasons(self, lang: str | None = None) -> pd.DataFrame:
        """The household results with `reasons` rendered as text in `lang` (default: the language asked for)."""
        return self.households.assign(reasons=self.reasons(lang))


def as_date(value) -> dt.date:
    day = parse_day(value)
    if day is not None:
        return day
    raise UsageError(f"'{value}' is not a date", "write the reference date as YYYY-MM-DD, e.g. 2024-12-01",
                     vi=f"'{value}' không phải là ngày",
                     vi_hint="viết ngày tham chiếu dạng YYYY-MM-DD, ví dụ 2024-12-01",
                     code="date_invalid")


def _day_and_rules(on, rules) -> tuple[dt.date, RulesAt]:
    """The reference date, decided once: `on`, or — when `rules` is an already loaded `RulesAt` and `on` is None —
    the date it was loaded for. A `RulesAt` loaded for another date than `on` is refused: its parameters and its
    ages would be those of the other date while the result said `on`."""
    if isinstance(rules, RulesAt):
        if on is None:
            return rules.day, rules
        day = as_date(on)
        if day != rules.day:
            raise UsageError(f"the rules were loaded for {rules.day.isoformat()}, not for the reference date "
                             f"{day.isoformat()}",
                             f"load them for that date (tieuchi.load_rules(date({day.year}, {day.month}, {day.day}), "
                             "…)) or leave on= out to classify at the rules' date",
                             vi=f"bộ quy tắc được nạp cho ngày {rules.day.isoformat()}, không phải ngày tham chiếu "
                                f"{day.isoformat()}",
                             vi_hint="nạp bộ quy tắc cho đúng ngày đó (tieuchi.load_rules(date("
                                     f"{day.year}, {day.month}, {day.day}), …)) hoặc bỏ on= để phân loại theo ngày "
                                     "của bộ quy tắc",
                             code="rules_date_differs")
        return day, rules
    day = as_date(on)
    return day, load_rules(day, rules)


ENGINES = ("vectorized", "durable")


def backend(engine: str):
    """The `classify_tables` function of a backend, imported only when asked for (durable_rules is optional)."""
    if engine == "vectorized":
        return vectorized.classify_tables
    if engine == "durable":
        try:
            from tieuchi.engine.durable import classify_tables  # optional: durable_rules (an extra, not on 3.13)
        except ImportError as exc:
            raise UsageError(f"the durable engine is not available: {exc}",
                             "install the optional extra: pip install 'tieuchi[durable]' (Python 3.11 or 3.12; "
                             "durable-rules 2.0.28 does not build for 3.13)",
                             vi=f"chưa cài bộ máy durable: {exc}",
                             vi_hint="cài thêm: pip install 'tieuchi[durable]' (Python 3.11 hoặc 3.12)",
                             code="engine_unavailable") from None
        return classify_tables
    raise UsageError(f"unknown engine '{engine}'", f"use one of: {', '.join(ENGINES)}",
                     vi=f"không có bộ máy '{engine}'", vi_hint=f"chọn một trong: {', '.join(ENGINES)}",
                     code="engine_unknown")


def _poor_commune_from_communes(households: pd.DataFrame, communes: pd.DataFrame | None) -> pd.DataFrame:
    """Data contract §1.1/§1.3: a household's `poor_commune` is used when no communes table gives it; where the
    communes table says whether the household's commune is poor, that answer applies."""
    if communes is None or "poor_commune" not in communes.columns or "commune_code" not in households.columns:
        return households
    given = communes.dropna(subset=["poor_commune"])
    if not len(given):
        return households
    by_code = pd.Series(given["poor_commune"].astype("boolean").to_numpy(),
                        index=given["commune_code"].astype(str).to_numpy())
    by_code = by_code[~by_code.index.duplicated(keep="first")]
    from_table = pd.array(by_code.reindex(households["commune_code"].astype(str).to_numpy()).to_numpy(),
                          dtype="boolean")
    own = households["poor_commune"].array if "poor_commune" in households.columns else \
        pd.array([pd.NA] * len(households), dtype="boolean")
    merged = pd.array(np.where(pd.isna(from_table), own, from_table), dtype="boolean")
    out = households.copy(deep=False)
    out["poor_commune"] = merged
    return out


BATCH_TUNING_FROM = 50_000  # households: below this, the allocator's defaults cost nothing worth tuning


def _constant(n: int, value: str) -> pd.Categorical:
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[value])


def classify(households: pd.DataFrame, members: pd.DataFrame, on, rules=None, communes: pd.DataFrame | None = None,
             lang: str = "vi", strict: bool = False,
             progress: Callable[[str, int, int], None] | None = None, engine: str = "vectorized",
             isolate_failures: bool = False) -> Result:
    """Classify every household of a survey as of the reference date `on`.

    `households`/`members`/`communes` are the contract's tables, raw (text, as read from CSV) or typed (as Parquet
    gives them). Rows that fail validation go to `Result.rejects`; every other household is evaluated.
    `rules`: None for the shipped regime in force on `on`, a regime folder, or an already loaded `RulesAt` — then `on`
    must be its date (or None: the date it was loaded for); one loaded for another date is refused.
    `engine`: "vectorized" (numpy, whole tables) or "durable" (durable_rules, one household at a time; needs the
    optional extra `tieuchi[durable]`). Both give the same results.
    `isolate_failures`: should tieuchi itself fail on some households (a defect, not a data problem), find them by
    bisection and reject only them (problem `internal_error`) instead of failing the batch; the `tieuchi` command
    sets it. Without it the exception propagates.
    """
    if lang not in LANGS:
        raise UsageError(f"unknown language '{lang}'", f"use one of: {', '.join(LANGS)}",
                         vi=f"không có ngôn ngữ '{lang}'", vi_hint=f"dùng một trong: {', '.join(LANGS)}",
                         code="lang_unknown")
    classify_tables = backend(engine)
    day, rules_at = _day_and_rules(on, rules)
    try:
        return _classify(households, members, day, rules_at, communes, lang, strict, progress, classify_tables)
    except (TieuchiError, KeyboardInterrupt, MemoryError):
        raise
    except Exception as error:
        if not isolate_failures:
            raise
        result = classify_isolating(
            households, members, lambda h, m: _classify(h, m, day, rules_at, communes, lang, False, None,
                                                        classify_tables), error)
        if strict and len(result.rejects):
            raise StrictRefusal(result.rejects, lang) from None
        return result


def classify_survey(survey, on, rules=None, lang: str = "vi", strict: bool = False,
                    progress: Callable[[str, int, int], None] | None = None, engine: str = "vectorized",
                    isolate_failures: bool = False) -> Result:
    """Read and classify a survey: `survey` is a path or a list of paths (as `tieuchi.contract.read.read_survey`
    takes: several files are combined into one survey) or what it returned.

    Unlike `classify` on the tables, the rows the reader itself refused (a JSON line that cannot be read, a CSV row
    with more cells than the header) are in the rejects with their own problem and counted in, and every reject's
    `row` is the user's: the line of a JSONL file, the row below the header with blank rows counted; each reject
    also has the header its column has in the user's file (`header`) and, for a workbook, its `cell`
    (`tieuchi.contract.locate`). With `strict`,
    any reject refuses the survey (`StrictRefusal`, its `rejects` mapped the same way)."""
    raw = survey if isinstance(survey, RawSurvey) else read_survey(survey)
    try:
        result = classify(raw.households, raw.members, on, rules=rules, communes=raw.communes, lang=lang,
                          strict=strict, progress=progress, engine=engine, isolate_failures=isolate_failures)
    except StrictRefusal as refusal:
        raise StrictRefusal(locate(with_reader_rejects(refusal.rejects, raw), raw), lang) from None
    rejects = locate(with_reader_rejects(result.rejects, raw), raw)  # + each reject's cell and header as written
    if strict and len(rejects):  # the reader's own rejects refuse the survey too
        raise StrictRefusal(rejects, lang)
    unread = raw.problems
    n_unread = int((unread["table"] == "households").sum()) if unread is not None and len(unread) else 0
    return replace(result, rejects=rejects, n_households_in=result.n_households_in + n_unread,
                   households_by_row=_by_user_row(raw))


def check(household: dict, on, rules=None, lang: str = "vi", engine: str = "vectorized",
          show_names: bool = False) -> dict:
    """Classify one household given as a JSON document (data contract §1.4; `household` is the parsed JSON) and
    explain why, as `tieuchi check` does: the explanation as data (see `tieuchi.explain`).

    A document that does not fit the contract raises `DocumentError` naming each field; a household the survey
    validation refuses (two members with the same number …) a `DataError` listing its problems."""
    doc = document(parse_household(household, lang))
    households, members = document_tables([doc])
    result = classify(households, members, on=on, rules=rules, lang=lang, engine=engine)
    if len(result.rejects):
        raise _household_refused(result.rejects, lang)
    return explain_household(result, doc["household_id"], lang=lang, show_names=show_names)


_REFUSED = table(
    vi={"refused": "hộ bị loại khi kiểm tra dữ liệu:\n{body}", "refused_hint": "sửa các trường trên rồi chạy lại",
        "member": "thành viên số {no}", "household": "hộ"},
    en={"refused": "the household was rejected:\n{body}", "refused_hint": "fix the fields listed and run again",
        "member": "member {no}", "household": "household"},
)


def _household_refused(rejects: pd.DataFrame, lang: str) -> DataError:
    """The household was refused by the survey validation (e.g. two members with the same number): its problems,
    one a line, in `lang`."""
    lines = []
    for r in rejects.itertuples(index=False):  # one household: a few rows
        if r.problem in CONSEQUENCES:
            continue
        who = text(_REFUSED, "household", lang) if r.table == "households" else \
            text(_REFUSED, "member", lang, no=to_text(r.member_no))
        lines.append(f"  {who}: {reject_message(r.problem, lang, r.table, to_text(r.column))}")
    return DataError.from_table(_REFUSED, "refused", hint="refused_hint", code="household_rejected",
                                body="\n".join(lines))


def _by_user_row(raw) -> pd.DataFrame:
    if raw.several_files:  # rows are numbered within each file: indexed by (file, row) instead, as rejects say
        rows = np.asarray(raw.household_rows, dtype=np.int64)
        files = raw.files_of("households", np.arange(len(raw.households)))
        return raw.households.set_axis(pd.MultiIndex.from_arrays([files, rows], names=["file", "row"]))
    rows = raw.household_rows
    if rows is None or not len(raw.households):
        return raw.households
    rows = np.asarray(rows, dtype=np.int64)
    return raw.households.set_axis(rows - 1).reindex(np.arange(int(rows.max()))).reset_index(drop=True)


def _classify(households: pd.DataFrame, members: pd.DataFrame, day: dt.date, rules_at: RulesAt,
              communes: pd.DataFrame | None, lang: str, strict: bool,
              progress: Callable[[str, int, int], None] | None, classify_tables) -> Result:
    step = progress or (lambda *a: None)
    if len(households) >= BATCH_TUNING_FROM:
        # keep freed heap for the next array instead of faulting in fresh pages (see engine/memory.py)
        tune_for_batches()
    step("validate", 0, 3)
    norm = normalize(households, members, communes, on=day)
    if strict and len(norm.rejects):
        raise StrictRefusal(norm.rejects, lang)
    norm.households = _poor_commune_from_communes(norm.households, norm.communes)
    step("classify", 1, 3)
    hh_cols, mem_cols, render = classify_tables(rules_at, norm.households, norm.members, norm.member_hh_pos,
                                                norm.birth)
    step("assemble", 2, 3)
    hh_in, mem_in = norm.households, norm.members
    n_h = len(hh_in)
    head = {
        "household_id": hh_in["household_id"],
        "regime": _constant(n_h, rules_at.regime.id),
        "rules_version": _constant(n_h, rules_at.version),
        "reference_date": _constant(n_h, day.isoformat()),
    }
    hh_res = pd.DataFrame({**head, **hh_cols}, index=hh_in.index, copy=False)
    hh_out = pd.concat([hh_res, hh_in.drop(columns=[c for c in hh_res.columns if c in hh_in.columns])], axis=1)
    mem_head = {"household_id": mem_in["household_id"], "member_no": mem_in["member_no"]}
    mem_res = pd.DataFrame({**mem_head, **mem_cols}, index=mem_in.index, copy=False)
    mem_out = pd.concat([mem_res, mem_in.drop(columns=[c for c in mem_res.columns if c in mem_in.columns])], axis=1)
    step("done", 3, 3)
    er = rules_at.eligibility
    notes = [f"no program or shared rules apply with regime {rules_at.regime.id} on {day.isoformat()}: no "
             f"eligibility columns"] if er is None else er.notes
    return Result(households=hh_out, members=mem_out, rejects=norm.rejects, regime=rules_at.regime.id,
                  rules_version=rules_at.version, reference_date=day,
                  indicators=list(rules_at.regime.ruleset.indicators),
                  lang=lang, communes=norm.communes, n_households_in=norm.n_households_in,
                  n_members_in=norm.n_members_in, rules=rules_at, render_reasons=render, notes=notes)
