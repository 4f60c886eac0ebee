"""Differential tests: the durable_rules backend gives exactly the vectorized backend's results.

Hypothesis generates households (missing answers included); they are gathered into a few batches of several hundred
and each batch is classified once per backend in a child process (tests/durable_child.py), so that a crash of
durable_rules' native code fails the test instead of killing the run. Compared: the class, every indicator, the
counts, undecided_by, the reasons (both languages), and the member outputs.

Skipped when durable-rules is not importable, unless TIEUCHI_REQUIRE_DURABLE=1, where that is a failure.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from hypothesis import strategies as st

from tests.strategies import household

CHILD = Path(__file__).with_name("durable_child.py")


def _require_durable() -> None:
    try:
        import durable.engine  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - ImportError, or a broken native module
        why = f"durable-rules is not importable: {exc}"
        if os.environ.get("TIEUCHI_REQUIRE_DURABLE") == "1":
            pytest.fail(f"{why} (TIEUCHI_REQUIRE_DURABLE=1)", pytrace=False)
        pytest.skip(why)


def _classify_in_child(on: str, documents: list[dict]) -> dict:
    import tieuchi

    env = dict(os.environ)
    src = str(Path(tieuchi.__file__).resolve().parents[1])  # the child imports the tieuchi under test
    env["PYTHONPATH"] = os.pathsep.join([src] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    proc = subprocess.run([sys.executable, str(CHILD)], input=json.dumps({"on": on, "documents": documents}),
                          capture_output=True, text=True, env=env, timeout=600)
    if proc.returncode != 0:
        pytest.fail(f"the child classifying {len(documents)} households on {on} exited with {proc.returncode} "
                    f"(negative: killed by that signal)\n{proc.stderr[-4000:]}", pytrace=False)
    return json.loads(proc.stdout)


def _gather(strategy, examples: int, derandomize: bool = False) -> list[dict]:
    """Households drawn by hypothesis (`examples` surveys), renumbered so that ids are unique in the batch.
    `derandomize`: the same batch every run (for a test that also asserts what the batch covers)."""
    out: list[dict] = []

    @settings(max_examples=examples, database=None, deadline=None, derandomize=derandomize,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def draw(docs):
        for doc in docs:
            out.append(dict(doc, household_id=f"G{len(out) + 1}"))

    draw()
    return out


def _differences(docs: list[dict], got: dict) -> list[str]:
    vec, dur = got["vectorized"], got["durable"]
    problems = []
    if vec.get("notes") != dur.get("notes"):
        problems.append(f"notes: {vec.get('notes')} vs {dur.get('notes')}")
    if vec["rejects"] != dur["rejects"]:
        problems.append(f"rejects: {vec['rejects']} vs {dur['rejects']}")
    if len(vec["households"]) != len(dur["households"]) or len(vec["members"]) != len(dur["members"]):
        return problems + ["different numbers of result rows"]
    by_id = {d["household_id"]: d for d in docs}
    for a, b in zip(vec["households"], dur["households"]):
        diff = {k: (a[k], b.get(k)) for k in a if a[k] != b.get(k)}
        if diff:
            problems.append(f"household {a['household_id']}: {diff}\n    input: {json.dumps(by_id[a['household_id']])}")
    for a, b in zip(vec["members"], dur["members"]):
        diff = {k: (a[k], b.get(k)) for k in a if a[k] != b.get(k)}
        if diff:
            problems.append(f"member {a['household_id']}/{a['member_no']}: {diff}")
    return problems


# (reference date, surveys drawn, missing answers): 2024-12-01 is the strategies' date; in 2025 the low-income
# worker output is in force and retirement ages have just risen (by_year_reached); 2026 too, a year later
# about 2,000 households a run (each survey drawn holds 5-15)
BATCHES = [("2024-12-01", 70, True), ("2025-03-01", 70, True), ("2026-01-10", 50, True), ("2024-12-01", 40, False)]


@pytest.mark.parametrize("on,examples,missing", BATCHES, ids=[f"{b[0]}-{'missing' if b[2] else 'complete'}"
                                                                for b in BATCHES])
def test_backends_agree_on_generated_households(on, examples, missing):
    _require_durable()
    docs = _gather(st.lists(household(missing=missing), min_size=5, max_size=15), examples)
    assert len(docs) >= 5 * examples
    got = _classify_in_child(on, docs)
    n = len(got["vectorized"]["households"])
    assert n == len(docs)  # generated households are valid: none rejected
    problems = _differences(docs, got)
    assert not problems, f"{len(problems)} differences among {n} households:\n" + "\n".join(problems[:10])
    # the batch must exercise unknowns and several classes, or agreement proves little
    classes = {h["household_class"] for h in got["durable"]["households"]}
    if missing:
        assert "unknown" in classes and any(h["undecided_by"] for h in got["durable"]["households"])
    assert len(classes) >= 2
    # and the eligibility columns: compared above whenever the program is in force, and exercised here
    hh = got["durable"]["households"]
    if on < "2026-01-01":
        assert any(h.get("eligible_p2_livelihood") for h in hh) and any(h.get("class_mismatch") for h in hh)
        assert any(h.get("newly_escaped_poverty") for h in hh)
        assert "eligible_p4_3_jobs" in got["durable"]["members"][0]
    else:
        assert not any(k.startswith("eligible_") for k in hh[0]) and got["durable"]["notes"]
    assert "health_insurance_support" in got["durable"]["members"][0]
    if missing and on < "2026-01-01":  # a question that cannot apply (p3_2: pregnant_or_nursing) was met unanswered
        age_at = dt.date.fromisoformat(on)
        assert any(h["poor_commune"] and mb["sex"] == "female" and mb["pregnant_or_nursing"] is None
                   and (age_at - dt.date.fromisoformat(mb["birth_date"])).days > 50 * 366
                   for h in docs for mb in h["members"])
