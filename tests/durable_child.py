"""Child process of the differential tests: classify one batch of households with each backend, print JSON.

Input (stdin): {"on": "YYYY-MM-DD", "documents": [household documents, data contract §1.4]}.
Output (stdout): {"vectorized": RESULT, "durable": RESULT}, where RESULT = {"households": [...], "members": [...],
"rejects": n}, every value plain JSON (None for an empty cell), reasons rendered in both languages.

Run apart from the test process so that a crash of durable_rules' native code fails a test instead of the run.
"""
from __future__ import annotations

import json
import sys


def _plain(v):
    import pandas as pd

    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


ELIGIBILITY = {"low_income_worker", "newly_escaped_poverty", "no_labour_capacity", "eligibility_class",
               "class_mismatch"}


def run(payload: dict) -> dict:
    import datetime as dt

    from tieuchi.api import classify
    from tieuchi.casework.cases import tables

    on = dt.date.fromisoformat(payload["on"])
    hh, mem = tables(payload["documents"])
    out = {}
    for engine in ("vectorized", "durable"):
        res = classify(hh, mem, on=on, lang="en", engine=engine)
        households = res.households.drop(columns=["reasons"]).assign(
            reasons_en=res.reasons("en").astype(str), reasons_vi=res.reasons("vi").astype(str))
        keep = [c for c in households.columns if c in {"household_id", "household_class", "income_line",
                                                         "deprivation_count", "unknown_count", "undecided_by",
                                                         "provisional", "reasons_en", "reasons_vi"}
                or c.startswith(("deprived_", "eligible_", "priority_")) or c in ELIGIBILITY]
        mkeep = [c for c in ("household_id", "member_no", "age", "working_age", "dependant", "low_income_worker",
                             "health_insurance_support") if c in res.members.columns] + \
            [c for c in res.members.columns if c.startswith("eligible_")]
        out[engine] = {
            "households": [{k: _plain(v) for k, v in row.items()} for row in households[keep].to_dict("records")],
            "members": [{k: _plain(v) for k, v in row.items()} for row in res.members[mkeep].to_dict("records")],
            "rejects": len(res.rejects),
            "notes": res.notes,
        }
    return out


if __name__ == "__main__":
    json.dump(run(json.load(sys.stdin)), sys.stdout)
