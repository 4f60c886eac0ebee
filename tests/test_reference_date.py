"""The reference date is decided once: `on`, or the date an already loaded RulesAt was loaded for — never both
disagreeing (ages at one date, the result saying another)."""
import datetime as dt

import pytest

import tieuchi
from tieuchi.contract.ages import parse_day
from tieuchi.errors import UsageError
from tieuchi.contract.read import read_survey

DEMO = "datasets/demo"


@pytest.fixture(scope="module")
def survey():
    raw = read_survey(DEMO)
    first = raw.households["household_id"].head(30)
    return raw.households.head(30), raw.members[raw.members["household_id"].isin(first)]


def test_rules_loaded_for_another_date_than_on_are_refused_naming_both_dates(survey):
    hh, mem = survey
    with pytest.raises(UsageError) as caught:
        tieuchi.classify(hh, mem, on="2024-12-01", rules=tieuchi.load_rules(dt.date(2026, 6, 1)))
    assert caught.value.code == "rules_date_differs"
    assert "2026-06-01" in str(caught.value) and "2024-12-01" in str(caught.value)
    assert "2026-06-01" in caught.value.in_lang("vi")[0]


def test_with_loaded_rules_and_no_on_the_rules_date_is_the_reference_date(survey):
    hh, mem = survey
    rules = tieuchi.load_rules(dt.date(2024, 12, 1))
    implicit = tieuchi.classify(hh, mem, on=None, rules=rules)
    explicit = tieuchi.classify(hh, mem, on="2024-12-01")
    assert implicit.reference_date == dt.date(2024, 12, 1)
    assert implicit.households.equals(explicit.households) and implicit.members.equals(explicit.members)


def test_rules_loaded_for_the_same_date_given_as_text_or_date_are_accepted(survey):
    hh, mem = survey
    rules = tieuchi.load_rules(dt.date(2024, 12, 1))
    for on in ("2024-12-01", "01/12/2024", dt.date(2024, 12, 1), dt.datetime(2024, 12, 1, 8, 30)):
        assert tieuchi.classify(hh, mem, on=on, rules=rules).reference_date == dt.date(2024, 12, 1)


@pytest.mark.parametrize("text,day", [("2024-12-01", dt.date(2024, 12, 1)), (" 01/12/2024 ", dt.date(2024, 12, 1)),
                                      ("2024-02-30", None), ("1/12/24", None), ("", None), (None, None)])
def test_one_parser_reads_the_two_ways_a_reference_date_is_written(text, day):
    assert parse_day(text) == day
