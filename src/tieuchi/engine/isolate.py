"""When tieuchi itself fails on a survey (a defect, not a data problem), find the households it fails on and reject
only them, so that one odd household costs that household and not the batch.

`classify_isolating` re-runs the classification on halves of the survey (whole households with their members,
households sharing an id kept together) until each failing part is one household, which is rejected with problem
`internal_error` (its members `household_rejected`); every other household is classified as usual. Row numbers in
the rejects are those of the whole survey. It runs only after a first attempt on the whole survey failed, so a clean
run pays nothing for it. When more than `MAX_FAILED` households fail the defect is not one of a few households and
the original exception is raised again.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable

import numpy as np
import pandas as pd

from tieuchi.contract.parse import factorize, to_text
from tieuchi.contract.read import REJECT_COLUMNS, sort_rejects

INTERNAL_PROBLEM = "internal_error"
MAX_FAILED = 100


class _TooManyFailures(Exception):
    pass


def _id_keys(df: pd.DataFrame) -> np.ndarray:
    """The household id of each row as text (None when blank), as validation compares them."""
    if "household_id" not in df.columns:
        return np.full(len(df), None, dtype=object)
    codes, uniques = factorize(df["household_id"])
    texts = np.asarray([to_text(u) or None for u in uniques] + [None], dtype=object)
    return texts[codes]


def _groups(hh_key: np.ndarray, mem_key: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(household group, member group, number of groups): households sharing an id form one group, a household
    with a blank id one of its own; a member joins the group of its household id, a member with a blank id the
    group of the nearest member row above it with an id (as validation attaches it); -1: no household."""
    ids = pd.Index([k for k in hh_key if k is not None]).unique()
    hh_group = ids.get_indexer(pd.Index(hh_key, dtype=object))
    blank = hh_group < 0
    hh_group[blank] = len(ids) + np.arange(int(blank.sum()))
    mem_group = ids.get_indexer(pd.Index(mem_key, dtype=object)) if len(mem_key) else np.zeros(0, dtype=np.int64)
    mem_blank = np.asarray([k is None for k in mem_key], dtype=bool)
    if mem_blank.any():
        above = np.where(mem_blank, -1, np.arange(len(mem_key), dtype=np.int64))
        np.maximum.accumulate(above, out=above)
        at = above[mem_blank]
        mem_group[mem_blank] = np.where(at >= 0, mem_group[np.maximum(at, 0)], -1)
    return hh_group.astype(np.int64), np.asarray(mem_group, dtype=np.int64), len(ids) + int(blank.sum())


def classify_isolating(households: pd.DataFrame, members: pd.DataFrame, run: Callable, error: Exception):
    """`run(households, members)` classifies a part of the survey (a `tieuchi.api.Result`); it has just failed on
    the whole survey with `error`, raised again when the failure is not one of a few households (see the module)."""
    hh_group, mem_group, n_groups = _groups(_id_keys(households), _id_keys(members))
    pieces, failed = [], []

    def attempt(groups: np.ndarray) -> None:
        hpos = np.flatnonzero(np.isin(hh_group, groups))
        mpos = np.flatnonzero(np.isin(mem_group, groups))
        try:
            pieces.append((run(_take(households, hpos), _take(members, mpos)), hpos, mpos))
        except MemoryError:
            raise
        except Exception:
            if len(groups) == 1:
                failed.append((hpos, mpos))
                if len(failed) > MAX_FAILED:
                    raise _TooManyFailures from None
                return
            split(groups)

    def split(groups: np.ndarray) -> None:
        half = len(groups) // 2
        attempt(groups[:half])
        attempt(groups[half:])

    try:
        if n_groups > 1:
            split(np.arange(n_groups))  # the whole survey has just failed
        elif n_groups == 1:
            failed.append((np.flatnonzero(hh_group == 0), np.flatnonzero(mem_group == 0)))
        orphans = np.flatnonzero(mem_group < 0)
        if len(orphans):  # members of no household: validation rejects them on their own
            none = np.zeros(0, dtype=np.int64)
            pieces.append((run(_take(households, none), _take(members, orphans)), none, orphans))
    except _TooManyFailures:
        raise error from None
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - even the orphan members alone fail: not a few households' defect
        raise error from None
    if not pieces:
        raise error
    return _combine(pieces, failed, households, members, _id_keys(households), len(households), len(members))


def _take(df: pd.DataFrame, pos: np.ndarray) -> pd.DataFrame:
    return df.iloc[pos].reset_index(drop=True)


def _combine(pieces, failed, households, members, hh_key, n_h: int, n_m: int):
    hh_parts, mem_parts, rej_parts, hh_at, mem_at = [], [], [], [], []
    first = pieces[0][0]
    for k, (res, hpos, mpos) in enumerate(pieces):
        rej = res.rejects.copy()
        is_h, is_m = (rej["table"] == "households").to_numpy(), (rej["table"] == "members").to_numpy()
        rows = rej["row"].astype("int64").to_numpy(copy=True)
        h_bad = np.zeros(len(hpos), dtype=bool)
        m_bad = np.zeros(len(mpos), dtype=bool)
        h_bad[rows[is_h] - 1] = True
        m_bad[rows[is_m] - 1] = True
        rows[is_h] = hpos[rows[is_h] - 1] + 1
        rows[is_m] = mpos[rows[is_m] - 1] + 1
        rej["row"] = rows
        if k:  # the communes table goes whole with every part: its rejects once
            rej = rej[(rej["table"] != "communes").to_numpy()]
        rej_parts.append(rej)
        hh_parts.append(res.households_with_reasons())
        mem_parts.append(res.members)
        hh_at.append(hpos[~h_bad])
        mem_at.append(mpos[~m_bad])
    for hpos, mpos in failed:
        rej_parts.append(pd.DataFrame({
            "table": "households", "row": hpos + 1, "household_id": [hh_key[i] for i in hpos], "member_no": None,
            "column": None, "value": None, "problem": INTERNAL_PROBLEM}, columns=REJECT_COLUMNS))
        mem_no = members["member_no"].iloc[mpos] if "member_no" in members.columns else [None] * len(mpos)
        rej_parts.append(pd.DataFrame({
            "table": "members", "row": mpos + 1, "household_id": [hh_key[hpos[0]]] * len(mpos),
            "member_no": [to_text(v) for v in mem_no], "column": None, "value": None,
            "problem": "household_rejected"}, columns=REJECT_COLUMNS))
    hh = _in_order(hh_parts, hh_at)
    mem = _in_order(mem_parts, mem_at)
    rejects = sort_rejects(pd.concat(rej_parts, ignore_index=True))
    return replace(first, households=hh, members=mem, rejects=rejects, n_households_in=n_h, n_members_in=n_m,
                   render_reasons=None)


def _in_order(parts: list[pd.DataFrame], at: list[np.ndarray]) -> pd.DataFrame:
    """The parts' accepted rows back in input order (a part holds its rows in input order)."""
    frames = [p for p in parts if len(p.columns)]
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    order = np.argsort(np.concatenate(at), kind="stable")
    return df.iloc[order].reset_index(drop=True)
