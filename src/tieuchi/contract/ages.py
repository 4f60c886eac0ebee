"""Ages from dates: input normalisation shared by every backend (the data contract's full years and months)."""
from __future__ import annotations

import calendar
import datetime as dt

import numpy as np


REFERENCE_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")  # how a user writes a reference date: 2024-12-01 or 01/12/2024


def parse_day(value) -> dt.date | None:
    """A reference date as a user gives it (a date, a datetime, or text in one of REFERENCE_DATE_FORMATS) → the date;
    None when it is none. The one parser of reference dates: the API and the CLI say why in their own words."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        for fmt in REFERENCE_DATE_FORMATS:
            try:
                return dt.datetime.strptime(value.strip(), fmt).date()
            except ValueError:
                pass
    return None


def _civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Days since 1970-01-01 → (year, month 1–12, day) with integer arithmetic (H. Hinnant's civil_from_days)."""
    z = days.astype(np.int64) + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


def age_in_months(birth: np.ndarray, day: dt.date) -> np.ndarray:
    """Full months of age at `day`; a birthday falling on a day the month lacks is the month's last day.
    Computed once per distinct day in the range of birth dates (a table of a few tens of thousands), then looked up."""
    days = birth.astype("datetime64[D]").view(np.int64)
    if not len(days):
        return np.zeros(0, dtype=np.int32)
    lo, hi = int(days.min()), int(days.max())
    y, mo, d = _civil(np.arange(lo, hi + 1, dtype=np.int64))
    next_month = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    dim = (next_month - dt.timedelta(days=1)).day
    table = ((day.year - y) * 12 + (day.month - mo) - (np.minimum(d, dim) > day.day)).astype(np.int32)
    return table[days - lo]


def months_since(end: dt.date, day: dt.date) -> int:
    """A lower bound of the whole months from `end` to `day` (one less than the calendar-month difference)."""
    return (day.year - end.year) * 12 + day.month - end.month - 1


def reached_in_earlier_period(birth: np.ndarray, age_months: np.ndarray, day: dt.date,
                              periods: list[tuple[float, dt.date]], limit_now: float,
                              among: np.ndarray | None = None) -> np.ndarray:
    """Who reached an earlier age limit while it was in force, among members still below today's limit.

    `periods`: (age limit in months, last day it was in force) for periods that ended before `day`. A member who
    reached limit R by the end of a period is today at least R + months_since(end) old, so only periods where that is
    still below `limit_now`, and only members in that band of ages, need the exact check on the period's last day.
    `among`: a mask of the members the limits apply to (one sex, say)."""
    out = np.zeros(len(age_months), dtype=bool)
    relevant = [(limit, end) for limit, end in periods if limit + months_since(end, day) < limit_now]
    if not relevant:
        return out
    lower = min(limit + months_since(end, day) for limit, end in relevant)
    band = (age_months >= lower) & (age_months < limit_now)
    if among is not None:
        band &= among
    near = np.flatnonzero(band)
    for limit, end in relevant:
        out[near] |= age_in_months(birth[near], end) >= limit
    return out


def add_months(dates: np.ndarray, months: int) -> np.ndarray:
    """`dates` (datetime64[D], NaT kept) plus whole months, clamped to the month end (31 Jan + 1 month = 28/29 Feb)."""
    d = dates.astype("datetime64[D]")
    nat = np.isnat(d)
    safe = np.where(nat, np.datetime64("1970-01-01", "D"), d)
    month = safe.astype("datetime64[M]")
    dom = (safe - month.astype("datetime64[D]")).astype(np.int64)  # 0-based day of month
    target = month + np.timedelta64(int(months), "M")
    start = target.astype("datetime64[D]")
    length = ((target + np.timedelta64(1, "M")).astype("datetime64[D]") - start).astype(np.int64)
    out = start + np.minimum(dom, length - 1).astype("timedelta64[D]")
    return np.where(nat, np.datetime64("NaT", "D"), out)


def last_start_ended_by(day: dt.date, months: int) -> dt.date:
    """The latest start E whose span of `months` months has ended by `day` (E + months ≤ day, month arithmetic clamped
    to the month end). E + months never decreases as E grows, so `day < E + months` ⟺ `E > last_start_ended_by(day)`:
    a window test on a million dates becomes one comparison with a constant instead of date arithmetic per row."""
    e = add_months_one(day, -int(months)) + dt.timedelta(days=4)
    while add_months_one(e, months) > day:
        e -= dt.timedelta(days=1)
    return e


def add_months_one(day: dt.date, months: int) -> dt.date:
    """The same for one date."""
    total = day.year * 12 + day.month - 1 + int(months)
    y, mo = divmod(total, 12)
    return dt.date(y, mo + 1, min(day.day, calendar.monthrange(y, mo + 1)[1]))
