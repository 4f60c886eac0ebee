"""A plan as data (rules/plans/<id>.yaml): targets over a classified survey and the budget the plan states.

A plan is data, never code: targets are conditions of the same tree as rule files, read at the level of what they
count (`unit`), and the budget is numbers that `tieuchi.rulebook.plans.load_plan` checks add up. Imports nothing but
pydantic, the standard library and the rule vocabulary.

    id, label {vi, en}, citation {instrument}, scope (all), regimes [ids], period {from, to} (optional), notes,
    parameters [Parameter …]            plan-level open points, the schema of rule parameter files
    targets:  id, label, section, citation, unit (households | persons | models | officials), population, count,
              comparator (ge | le), value (percent), denominator_source (communes), requires
              [support_records | program_records | need], notes
    budget:   unit (million_vnd), total, sources {central_recurrent, central_investment, provincial, district},
              projects [{project, label, total (null: the plan states none), section, note}],
              lines [{id, project, sub_project, label, source, amount, item, section, note}]

How a target is read (the achievement report does it; nothing here evaluates anything):
- `unit: households` — `population` and `count` are household conditions (household fields such as
  `eligibility_class`, derived household variables, `count_deprived`, member aggregations such as `any_member`).
- `unit: persons` — they are member conditions, over every member of every household: member fields, `age`,
  member variables (`{var: working_age}`) and household fields of the member's household (`eligibility_class`).
- `population` omitted: every household (every member). `count` is evaluated within the population; the rate is
  count / population in percent, compared with `value` by `comparator` (`le`: at most, `ge`: at least).
- `requires` names data a survey does not hold. `need`: the population is further limited to the units that need
  records list; `support_records`: the numerator is the units of the population (and of `count`, when given) that
  support records list; `program_records`: both numbers come from program records (`unit: models | officials`, no
  conditions). Without the data the target is *not measurable*; nothing is invented.
- `denominator_source: communes`: a rate over all resident households, whose denominator is the communes table's
  `households_total` when it gives one (else the surveyed households, flagged).
- No `comparator`/`value`: the plan states no number (status `no_numeric_target`).
"""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, Field, PrivateAttr, model_validator

from tieuchi.rulebook.vocabulary import Citation, Condition, Labels, Parameter, Strict, Validity

MAX_MILLION_VND = 10**9  # a budget amount (million VND) is from 0 to this bound: 10^15 đồng, far above any plan's
Amount = Annotated[Union[int, Annotated[float, Field(allow_inf_nan=False)]], Field(ge=0, le=MAX_MILLION_VND)]
Requirement = Literal["support_records", "program_records", "need"]
Source = Literal["central_recurrent", "central_investment", "provincial", "district"]
SOURCES: tuple[str, ...] = ("central_recurrent", "central_investment", "provincial", "district")
SURVEY_UNITS = ("households", "persons")
LEVEL_OF_UNIT = {"households": "household", "persons": "member"}


class Target(BaseModel):
    """One target of the plan: a rate (percent) of `count` within `population`, at the level of `unit`."""

    model_config = Strict
    id: str
    label: Labels
    section: str  # where in the plan: "II.1"
    citation: Citation
    unit: Literal["households", "persons", "models", "officials"]
    population: Condition | None = None
    count: Condition | None = None
    comparator: Literal["ge", "le"] | None = None
    value: Annotated[float, Field(ge=0, le=100)] | None = None  # percent
    denominator_source: Literal["communes"] | None = None
    requires: list[Requirement] = []
    notes: str | None = None

    @model_validator(mode="after")
    def _consistent(self):
        if (self.comparator is None) != (self.value is None):
            given, missing = ("comparator", "value") if self.comparator is not None else ("value", "comparator")
            raise ValueError(f"'{given}' is given without '{missing}': give both, or neither for a target the plan "
                             "states no number for")
        if len(set(self.requires)) != len(self.requires):
            raise ValueError(f"requires lists a kind of data twice: {self.requires}")
        records = "program_records" in self.requires
        if records != (self.unit not in SURVEY_UNITS):
            raise ValueError("units 'models' and 'officials' are counted from program records: give "
                             "requires: [program_records] with them, and only with them")
        if records and (self.population is not None or self.count is not None):
            raise ValueError("a target counted from program records has no survey conditions: remove population "
                             "and count")
        if not records and self.count is None and "support_records" not in self.requires:
            raise ValueError("give 'count' (the numerator filter), or requires: [support_records] when the "
                             "numerator comes from support records")
        if self.denominator_source == "communes" and (self.unit != "households" or self.population is not None):
            raise ValueError("denominator_source: communes is for a rate over all resident households: unit "
                             "households and no population")
        return self

    @property
    def level(self) -> str | None:
        """The level its conditions are read at: 'household', 'member', or None (program records)."""
        return LEVEL_OF_UNIT.get(self.unit)

    @property
    def numeric(self) -> bool:
        return self.value is not None


class BudgetProject(BaseModel):
    model_config = Strict
    project: str  # Decision 90 numbering: "2", "3", "4", "6", "7"
    label: Labels
    total: Amount | None  # the total the plan states; null when it states none (the lines' sum then stands)
    section: str | None = None
    note: str | None = None


class BudgetLine(BaseModel):
    model_config = Strict
    id: str
    project: str
    sub_project: str | None = None  # "4.1"
    label: Labels
    source: Source
    amount: Amount
    item: str | None = None  # the eligibility item it funds (budget per eligible unit); null: funds no household
    section: str | None = None
    note: str | None = None


class BudgetSources(BaseModel):
    model_config = Strict
    central_recurrent: Amount  # ngân sách trung ương, vốn sự nghiệp
    central_investment: Amount  # ngân sách trung ương, vốn đầu tư phát triển
    provincial: Amount
    district: Amount


class Budget(BaseModel):
    model_config = Strict
    unit: Literal["million_vnd"]
    total: Amount
    sources: BudgetSources
    projects: list[BudgetProject] = Field(min_length=1)
    lines: list[BudgetLine] = Field(min_length=1)
    citation: Citation | None = None

    def project_total(self, project: str) -> float:
        """The total the plan states for a project, else the sum of its lines."""
        for p in self.projects:
            if p.project == project and p.total is not None:
                return p.total
        return sum(line.amount for line in self.lines if line.project == project)


class Plan(BaseModel):
    """A plan: its targets (judged over `scope`) and its budget."""

    model_config = Strict
    id: str
    label: Labels
    citation: Citation
    scope: Literal["all"]  # targets are judged over the whole survey (a district plan's area); communes show gaps
    regimes: list[str] = Field(min_length=1)  # the regimes it was written for
    period: Validity | None = None  # the period it covers (targets are due at its end)
    notes: str | None = None
    parameters: list[Parameter] = []
    targets: list[Target] = Field(min_length=1)
    budget: Budget | None = None

    _source: str | None = PrivateAttr(default=None)  # the file it was read from
    _lines: dict = PrivateAttr(default_factory=dict)  # target id -> line of the file
    _digest: str = PrivateAttr(default="")  # content hash of the file

    def target(self, tid: str) -> Target:
        for t in self.targets:
            if t.id == tid:
                return t
        raise KeyError(tid)

    @property
    def source(self) -> str | None:
        return self._source
