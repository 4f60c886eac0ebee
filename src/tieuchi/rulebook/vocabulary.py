"""The vocabulary of rule files, as pydantic models. Imports nothing but pydantic and the standard library.

A rule file is data: citations, validity windows, dated parameters, a tree of conditions, indicators and ordered
classifications. Backends compile the same tree; nothing here evaluates anything.
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal, NamedTuple, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from tieuchi.errors import clip

Strict = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

COMPARE_OPS = ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "is", "contains_any")
COUNT_OPS = ("eq", "ne", "lt", "le", "gt", "ge")


class Labels(BaseModel):
    model_config = Strict
    vi: str
    en: str


class Citation(BaseModel):
    """Where the law says it: instrument id (see instruments.yaml), article (Điều), clause (khoản), point (điểm)."""

    model_config = Strict
    instrument: str
    article: int | str | None = None
    clause: int | str | None = None
    point: str | None = None
    appendix: str | None = None
    item: str | None = None  # a numbered item of an appendix table (mục)
    note: str | None = None


class Validity(BaseModel):
    model_config = Strict
    start: dt.date = Field(alias="from")
    end: dt.date | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _ordered(self):
        if self.end is not None and self.end < self.start:
            raise ValueError(f"validity ends ({self.end}) before it starts ({self.start})")
        return self

    def covers(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def __str__(self) -> str:
        return f"{self.start.isoformat()} → {self.end.isoformat() if self.end else '…'}"


class Instrument(BaseModel):
    model_config = Strict
    kind: Labels  # "Nghị định" / "Decree"
    number: str | None  # "07/2021/NĐ-CP"; null for an unnumbered instrument (a district plan)
    signed: dt.date | None = None
    issuer: Labels | None = None
    title: Labels
    in_force: dt.date | None = None
    amended_by: list[str] = []
    status: Literal["law", "agreed", "likely", "open"] = "law"
    notes: str | None = None


Confidence = Literal["law", "agreed", "likely", "open"]
Scalar = Union[bool, int, float, str, dt.date]
ParamValue = Union[Scalar, list[str], dict[str, Union[Scalar, list[str]]]]


MAX_VND = 10**12  # đồng: an amount of money in a rule file is a whole number of đồng from 0 to this bound, far above
# any amount per person or per month, and small enough that sums over members and months stay exact in int64 and
# float64 (below 2**53) everywhere downstream


class UnitValues(NamedTuple):
    """What a parameter value of a unit may be: `kind` "whole" (an integer), "number" (an integer or a finite decimal),
    "bool" or "codes" (a list of texts), from 0 to `high` for numbers; `en`/`vi` say it in words."""

    kind: str
    high: int | None
    en: str
    vi: str


UNITS: dict[str, UnitValues] = {
    "vnd_per_person_month": UnitValues("whole", MAX_VND, "an amount in VND per person per month (a whole number of "
                                       "đồng from 0 to 1,000,000,000,000)", "một số tiền đồng/người/tháng (số nguyên "
                                       "đồng từ 0 đến 1.000.000.000.000)"),
    "vnd_per_month": UnitValues("whole", MAX_VND, "an amount in VND per month (a whole number of đồng from 0 to "
                                "1,000,000,000,000)", "một số tiền đồng/tháng (số nguyên đồng từ 0 đến "
                                "1.000.000.000.000)"),
    "m2_per_person": UnitValues("number", 10_000, "an area in m² per person (a number from 0 to 10,000)",
                                "một diện tích m²/người (số từ 0 đến 10.000)"),
    "points": UnitValues("number", 10_000, "a number of points (from 0 to 10,000)", "một số điểm (từ 0 đến 10.000)"),
    "share": UnitValues("number", 1, "a share from 0 to 1", "một tỷ lệ từ 0 đến 1"),
    "months": UnitValues("whole", 1_800, "a whole number of months (from 0 to 1,800)",
                         "một số tháng nguyên (từ 0 đến 1.800)"),
    "years": UnitValues("whole", 150, "a whole number of years (from 0 to 150)", "một số năm nguyên (từ 0 đến 150)"),
    "count": UnitValues("whole", 10_000, "a whole number (from 0 to 10,000)", "một số nguyên (từ 0 đến 10.000)"),
    "bool": UnitValues("bool", None, "true or false", "true hoặc false"),
    "codes": UnitValues("codes", None, "a list of codes", "một danh sách mã"),
}


def fits_unit(unit: str, value: Any) -> bool:
    """Whether one value (of one key, for a keyed parameter) is a value of `unit` (see UNITS)."""
    spec = UNITS[unit]
    if spec.kind == "bool":
        return isinstance(value, bool)
    if spec.kind == "codes":
        return isinstance(value, list) and all(isinstance(c, str) for c in value)
    if isinstance(value, bool) or not isinstance(value, int if spec.kind == "whole" else (int, float)):
        return False
    return (isinstance(value, int) or math.isfinite(value)) and 0 <= value <= spec.high


def _shown(value: Any) -> str:
    return clip(repr(value))


class DatedValue(BaseModel):
    model_config = Strict
    start: dt.date = Field(alias="from")
    value: ParamValue
    citation: Citation
    provisional: bool = False


class Parameter(BaseModel):
    """A dated, cited value. `keyed_by` makes the value depend on a household or member field (area, sex)."""

    model_config = Strict
    id: str
    label: Labels
    unit: Literal[tuple(UNITS)]  # what its values may be: UNITS
    keyed_by: str | None = None
    confidence: Confidence
    notes: str | None = None
    values: list[DatedValue] = Field(min_length=1)

    @model_validator(mode="after")
    def _sorted(self):
        starts = [v.start for v in self.values]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            raise ValueError("values must be listed by increasing, distinct 'from' dates")
        return self

    @model_validator(mode="after")
    def _in_unit(self):
        """Every value fits the unit: an amount of money is a whole number of đồng within MAX_VND, a share is from 0
        to 1, and so on (UNITS); a keyed value, for each of its keys."""
        for v in self.values:
            leaves = v.value.items() if isinstance(v.value, dict) else [(None, v.value)]
            for key, x in leaves:
                if not fits_unit(self.unit, x):
                    which = f" for {self.keyed_by or 'key'} {_shown(key)}" if key is not None else ""
                    raise ValueError(f"the value from {v.start}{which}: {_shown(x)} is not {UNITS[self.unit].en}")
        return self

    def at(self, day: dt.date) -> DatedValue | None:
        found = None
        for v in self.values:
            if v.start <= day:
                found = v
        return found


class ParamRef(BaseModel):
    model_config = Strict
    param: str


Operand = Union[ParamRef, bool, int, float, str, dt.date, list[str]]


# ----------------------------------------------------------------------------------------------------------------
# The condition tree. Each node is a mapping with one head key; `_head` picks the model.

def _head(raw: Any) -> str | None:
    if isinstance(raw, BaseModel):
        return type(raw).__name__
    if not isinstance(raw, dict):
        return None
    for key in CONDITION_HEADS:
        if key in raw:
            return CONDITION_HEADS[key]
    return None


class ConditionNode(BaseModel):
    """What every node of a condition tree is (a model that is not one is a part of a rule, not a condition).

    `reason`: on a branch of an `any:` (of an item's `eligible_when`, an indicator's `deprived_when` or any condition,
    outside a member aggregation), the phrase lists and explanations give when that branch holds, "{param id}"
    standing for that parameter's value at the date; the loader refuses it anywhere else."""

    model_config = Strict
    reason: Labels | None = None


class AllOf(ConditionNode):
    all: list["Condition"] = Field(min_length=1)


class AnyOf(ConditionNode):
    any: list["Condition"] = Field(min_length=1)


class Not(ConditionNode):
    not_: "Condition" = Field(alias="not")


class _Compared(ConditionNode):
    eq: Operand | None = None
    ne: Operand | None = None
    lt: Operand | None = None
    le: Operand | None = None
    gt: Operand | None = None
    ge: Operand | None = None

    @property
    def op(self) -> tuple[str, Any]:
        for name in COUNT_OPS:
            value = getattr(self, name)
            if value is not None:
                return name, value
        raise AssertionError("validated")

    @model_validator(mode="after")
    def _one_op(self):
        ops = [o for o in self._allowed_ops() if getattr(self, o, None) is not None]
        if len(ops) != 1:
            raise ValueError(f"give exactly one comparison among {', '.join(self._allowed_ops())} "
                             f"(found {ops or 'none'})")
        return self

    @classmethod
    def _allowed_ops(cls) -> tuple[str, ...]:
        return COUNT_OPS


class NotApplicable(BaseModel):
    """Where a question cannot apply (`when`, a condition at the comparison's level), with the legal basis or the
    note that says why (`citation`): there an empty answer is not a missing answer and the comparison is false — the
    question is not asked, so it never makes anyone undecided. An answer given is read as given."""

    model_config = Strict
    when: "Condition"
    citation: Citation


class Compare(_Compared):
    """`{field: age, ge: 16}`; `{field: floor_area_m2, per: member_count, lt: {param: min_floor_area_per_person}}`;
    `{field: pregnant_or_nursing, is: true, not_applicable: {when: {field: sex, eq: male}, citation: …}}`."""

    field: str
    per: str | None = None  # compare field / per (done exactly as field < value × per)
    not_applicable: NotApplicable | None = None  # where the question cannot apply: see NotApplicable
    in_: Operand | None = Field(default=None, alias="in")
    not_in: Operand | None = None
    is_: bool | None = Field(default=None, alias="is")
    contains_any: Operand | None = None

    @classmethod
    def _allowed_ops(cls) -> tuple[str, ...]:
        return ("eq", "ne", "lt", "le", "gt", "ge", "in_", "not_in", "is_", "contains_any")

    @property
    def op(self) -> tuple[str, Any]:
        for name in self._allowed_ops():
            value = getattr(self, name)
            if value is not None:
                return name.rstrip("_"), value
        raise AssertionError("validated")


class Missing(ConditionNode):
    """True when the input field is empty (always known)."""

    missing: str


class Present(ConditionNode):
    present: str


class Var(ConditionNode):
    """A derived variable declared in the rule set (`derived/`), e.g. `{var: working_age}`."""

    var: str


class Flag(ConditionNode):
    """A boolean parameter, e.g. a switch for a branch the sources leave open:
    `{flag: employment_counts_no_contract}`."""

    flag: str


class AnyMember(ConditionNode):
    any_member: "Condition"


class AllMembers(ConditionNode):
    all_members: "Condition"


class CountMembers(_Compared):
    count_members: "Condition"


class ShareOfMembers(_Compared):
    share_of_members: "Condition"


class CountOf(_Compared):
    count_of: list["Condition"] = Field(min_length=1)


class CountDeprived(_Compared):
    """Number of deprived indicators of the regime (`all`) or of the listed ones; with unknowns it is a range
    [known, known + unknown]."""

    count_deprived: Union[Literal["all"], list[str]]

    def of(self, indicators: list) -> list:
        """The regime's indicators this count reads, in the regime's order."""
        if self.count_deprived == "all":
            return list(indicators)
        return [i for i in indicators if i.id in self.count_deprived]


class ReachedAge(ConditionNode):
    """Member-level: the member has reached the age in the parameter (months, keyed by sex) by the reference date.

    `by_year_reached: false`: the age in force on the reference date. `true`: a dated age applies to those who reach
    it while it is in force (Decree 135/2020: the retirement age of the year in which it is reached), so a member who
    reached last year's age stays past it when the age rises on 1 January."""

    reached_age: ParamRef
    by_year_reached: bool = False


class MonthsSpec(BaseModel):
    model_config = Strict
    field: str  # a household date field
    months: Union[ParamRef, int]
    mode: Literal["within", "elapsed"] = "within"


class WithinMonths(ConditionNode):
    """Household-level, on a date field E: `within` (default) is true when E ≤ reference date < E + months; `elapsed`
    when E + months ≤ reference date. Month arithmetic clamped to the month end (31 Jan + 1 month = 28/29 Feb).
    Unknown when the date is empty."""

    within_months: MonthsSpec


CONDITION_HEADS = {
    "all": "AllOf", "any": "AnyOf", "not": "Not", "any_member": "AnyMember", "all_members": "AllMembers",
    "count_members": "CountMembers", "share_of_members": "ShareOfMembers", "count_of": "CountOf",
    "count_deprived": "CountDeprived", "missing": "Missing", "present": "Present", "var": "Var", "flag": "Flag",
    "reached_age": "ReachedAge", "within_months": "WithinMonths", "field": "Compare",
}

Condition = Annotated[
    Union[
        Annotated[AllOf, Tag("AllOf")], Annotated[AnyOf, Tag("AnyOf")], Annotated[Not, Tag("Not")],
        Annotated[Compare, Tag("Compare")], Annotated[Missing, Tag("Missing")], Annotated[Present, Tag("Present")],
        Annotated[Var, Tag("Var")], Annotated[Flag, Tag("Flag")], Annotated[AnyMember, Tag("AnyMember")],
        Annotated[AllMembers, Tag("AllMembers")], Annotated[CountMembers, Tag("CountMembers")],
        Annotated[ShareOfMembers, Tag("ShareOfMembers")], Annotated[CountOf, Tag("CountOf")],
        Annotated[CountDeprived, Tag("CountDeprived")], Annotated[ReachedAge, Tag("ReachedAge")],
        Annotated[WithinMonths, Tag("WithinMonths")],
    ],
    Discriminator(_head, custom_error_type="unknown_condition",
                  custom_error_message="a condition needs one of the keys: " + ", ".join(CONDITION_HEADS)),
]

for _m in (AllOf, AnyOf, Not, AnyMember, AllMembers, CountMembers, ShareOfMembers, CountOf, NotApplicable, Compare):
    _m.model_rebuild()


# ----------------------------------------------------------------------------------------------------------------
# Rules

class _Rule(BaseModel):
    model_config = Strict
    id: str
    label: Labels
    validity: Validity
    citation: Citation
    confidence: Confidence = "law"
    notes: str | None = None


class Derived(_Rule):
    """A named condition over a household or one member, reused by indicators and classes."""

    level: Literal["household", "member"]
    condition: Condition
    output: str | None = None  # result column it is written to, if any
    enabled_by: str | None = None  # boolean parameter: when false at the date, the output is empty (not false)
    # a household status that qualifies for a program: the phrase lists give as the reason, "{param id}" standing for
    # that parameter's value at the date
    reason: Labels | None = None


class Indicator(_Rule):
    dimension: Labels
    deprived_when: Condition
    reason: Labels  # short phrase: what deprivation means for this household


class ClassRule(BaseModel):
    model_config = Strict
    id: str
    label: Labels
    short: Labels | None = None  # a word or two, for narrow tables (the label when absent)
    when: Condition
    citation: Citation
    reason: Labels


class Classification(_Rule):
    """Ordered classes: the first whose condition is true wins; an unknown condition before it gives `unknown`."""

    classes: list[ClassRule] = Field(min_length=1)
    unknown: Labels
    unknown_short: Labels | None = None  # a word or two, for narrow tables (`unknown` when absent)
    income_line: str  # parameter id of the line written to the `income_line` column
    income: IncomeTest  # which inputs and parameters the income test reads (for reasons and explanations)


class IncomeTest(BaseModel):
    """What the income side of the classes reads, named for the reasons and explanations (the conditions themselves
    say how): the income field, the score that stands in for it when empty and its cut-off (none: the score does not
    stand in), and the average-living limit."""

    model_config = Strict
    field: str  # household input: income per person per month, đồng
    score: str | None = None  # household input: a score read in place of an empty income
    score_cutoff: str | None = None  # parameter id: the score's cut-off (absent: the standard has none)
    average_living_upper: str | None = None  # parameter id: the upper income of the average-living class


class Ruleset(BaseModel):
    model_config = Strict
    id: str
    label: Labels
    validity: Validity
    citation: Citation
    indicators: list[str] = Field(min_length=1)  # order of the indicators in results
    member_count_field: str = "member_count"
    not_formalised: list[Labels] = []
    not_established: list[str] = []  # ids of parameters whose default the sources leave open


# ----------------------------------------------------------------------------------------------------------------
# Programs: who each project may support (rules/programs/<program>/)

MAX_PRIORITY_GROUPS = 8  # the engines keep a row's groups as the bits of one byte


class PriorityGroup(BaseModel):
    """A priority group of a program's items: its id (written in `priority_<item>`) and its label."""

    model_config = Strict
    id: str
    label: Labels


class Program(_Rule):
    """A program (Decision 90/QĐ-TTg): its window bounds the validity of its items."""

    regimes: list[str] = Field(min_length=1)  # the poverty regimes whose classes and variables its rules use
    statuses: list[str] = []  # ids of the program's derived household variables written as columns of that name
    target: str  # the derived household variable "household the program supports": poor, near-poor, newly escaped
    items: list[str] = Field(min_length=1)  # its items (files of items/), in the order of columns, lists and counts
    priority_groups: list[PriorityGroup] = Field(default=[], max_length=MAX_PRIORITY_GROUPS)  # highest first


class SharedSet(_Rule):
    """Rules that apply across regimes and programs (rules/shared/<id>/shared.yaml): the health-insurance shares of
    the health-insurance law, the household statuses (newly escaped poverty …). Loaded with every regime whose window
    its validity overlaps, compiled on the dates its validity covers; its rules read the regime's classes and
    variables like a program's."""

    statuses: list[str] = []  # ids of its derived household variables written as columns of that name


class ProgramItem(_Rule):
    """One project or sub-project: whom it may support (`eligible_when`, at the unit's level) and which priority
    groups apply (household-level conditions, written as `priority_<item>`)."""

    unit: Literal["household", "person"]
    eligible_when: Condition
    priority: dict[str, Condition] = {}  # priority group id (of the program's priority_groups) -> condition
    reason: Labels


class Share(BaseModel):
    model_config = Strict
    id: str
    label: Labels
    value: Union[ParamRef, float, int]
    when: Condition  # member-level
    citation: Citation


class ShareRule(_Rule):
    """Member-level share of a cost the state pays (health-insurance premium): the highest share whose condition
    holds; 0 when none does. Unknown when a share above the highest known one is undecided."""

    output: str
    shares: list[Share] = Field(min_length=1)
