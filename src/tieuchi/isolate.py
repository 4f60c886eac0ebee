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

from tieuchi.io.parse import factorize, to_text
from tieuchi.io.read import REJECT_COLUMNS

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


def classify_isolating(households: pd.DataFrame, members: pd.DataFrame, run: Callable):
    """`run(households, members)` classifies a part of the survey (a `tieuchi.api.Result`); see the module."""
    hh_key, mem_key = _id_keys(households), _id_keys(members)
    groups: dict[object, list[int]] = {}
    for i, k in enumerate(hh_key):
        groups.setdefault(k if k is not None else ("blank", i), []).append(i)
    members_of: dict[object, list[int]] = {}
    for j, k in enumerate(mem_key):
        members_of.setdefault(k, []).append(j)
    order = list(groups)
    orphans = [j for k, js in members_of.items() if k not in groups for j in js]

    pieces, failed = [], []

    def attempt(keys: list) -> None:
        hpos = np.asarray(sorted(i for k in keys for i in groups[k]), dtype=np.int64)
        mpos = np.asarray(sorted(j for k in keys for j in members_of.get(k, [])), dtype=np.int64)
        try:
            pieces.append((run(_take(households, hpos), _take(members, mpos)), hpos, mpos))
        except Exception:
            if len(keys) == 1:
                failed.append((hpos, mpos))
                if len(failed) > MAX_FAILED:
                    raise _TooManyFailures from None
                return
            half = len(keys) // 2
            attempt(keys[:half])
            attempt(keys[half:])

    try:
        if order:
            attempt(order)
        if orphans:  # members of no household: validation rejects them on their own
            mpos = np.asarray(sorted(orphans), dtype=np.int64)
            pieces.append((run(_take(households, np.zeros(0, dtype=np.int64)), _take(members, mpos)),
                           np.zeros(0, dtype=np.int64), mpos))
    except _TooManyFailures:
        raise _first_error(run, households, members) from None
    if not pieces:
        raise _first_error(run, households, members)
    return _combine(pieces, failed, households, members, hh_key, len(households), len(members))


def _first_error(run, households, members) -> Exception:
    try:
        run(households, members)
    except Exception as exc:  # noqa: BLE001 - the failure we were isolating
        return exc
    return RuntimeError("classification failed on parts of the survey but not on the whole")


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
    rejects = pd.concat(rej_parts, ignore_index=True)
    rejects["_t"] = rejects["table"].map({"households": 0, "members": 1, "communes": 2})
    rejects = rejects.sort_values(["_t", "row"], kind="stable").drop(columns="_t").reset_index(drop=True)
    return replace(first, households=hh, members=mem, rejects=rejects, n_households_in=n_h, n_members_in=n_m,
                   render_reasons=None)


def _in_order(parts: list[pd.DataFrame], at: list[np.ndarray]) -> pd.DataFrame:
    """The parts' accepted rows back in input order (a part holds its rows in input order)."""
    frames = [p for p in parts if len(p.columns)]
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    order = np.argsort(np.concatenate(at), kind="stable")
    return df.iloc[order].reset_index(drop=True)
