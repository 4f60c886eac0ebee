"""Corrupted surveys for the CLI fuzz test (tests/test_cli_fuzz.py) and the longer run before a release
(scripts/fuzz_cli.py): a few households of the demo, damaged the way real workbooks are — blank cells, junk values,
wrong codes, moved, duplicated and deleted rows, odd ids and member numbers, decomposed (NFD) text, Vietnamese or
accent-less headers, dropped columns — written as CSV, as an .xlsx workbook or as JSONL (a line cut short, too), then
run through the real command.

`check_run` states what must hold whatever the damage: an exit code of the contract; for a command that ran, every
input row in the results or the rejects (rows in = rows out + rejected rows, for both tables), exit 0 exactly when
nothing was rejected, every member written belongs to a household written; never an internal error.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from hypothesis import strategies as st

from tieuchi.contract.columns import canonical_header, columns

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "datasets" / "demo"
CONTRACT_EXIT_CODES = {0, 1, 2, 3}
DATES = ["2024-12-01", "2025-06-30", "2026-12-31", "2027-06-30"]
PROGRAM_DATES = ["2024-12-01", "2025-06-30"]  # eligible lists exist inside the 2021–2025 program's window only
COMMANDS = ["classify", "classify", "eligible", "report", "diff"]
FORMATS = ["csv", "csv", "xlsx", "jsonl"]

JUNK = ["", " ", "abc", "a\u2028b", "x\u0085y", "-1", "0", "1.5", "1e400", "-1e308", "inf", "NaN", "None", "null",
        "n/a", "=1+1", "+1", "@x",
        "Có", "không", "KHÔNG", "1.500.000", "1,500,000", "31/02/2024", "2024-02-30", "0001-01-01", "9999-12-31",
        "２０２０", "Nông thôn", "Thành thị", "nong thon", "Nam", "Nữ", "X", "tv;;smartphone", ";", "none;tv",
        "\u2028", "a\u2029b", "\u0085", "\t", "x" * 300, "😀", "001", " 7 ", "7.0", "99999999999999999999"]
ODD_IDS = ["", " ", "007", "7", "7.0", " 7 ", "=HYPERLINK(\"x\")", "id\u2028x", "Ｈ１", "x" * 200, "None", "-1"]
ODD_MEMBER_NOS = ["0", "1.5", "-3", "", "01", "1e3", "1,0", "abc", "99999999999999999999", "inf", " 2 "]


def _demo() -> tuple[pd.DataFrame, pd.DataFrame]:
    global _DEMO
    if _DEMO is None:
        _DEMO = (pd.read_csv(DEMO / "households.csv", dtype=str, keep_default_na=False),
                 pd.read_csv(DEMO / "members.csv", dtype=str, keep_default_na=False))
    return _DEMO


_DEMO = None


@dataclass
class Survey:
    households: pd.DataFrame
    members: pd.DataFrame
    fmt: str  # csv | xlsx | jsonl
    command: str
    on: str
    damage: list[str] = field(default_factory=list)  # what was done, for the failure report
    raw: list[tuple[str, str, int]] = field(default_factory=list)  # (table, damage, line) to the CSV text

    members_in: int | None = None  # jsonl: the members of the lines that can be read
    blank_lines: dict[str, int] = field(default_factory=dict)  # CSV: blank lines inserted (they count in `row`)
    blank_rows: dict[str, int] = field(default_factory=dict)  # CSV/xlsx: rows whose every cell is empty (skipped)

    def rows_in(self, table: str) -> int:
        """Data rows as the file holds them: a blank line is no row; a short or long row is still one; a JSONL line
        is one household row, read or not, and its members count only when the line can be read."""
        if table == "members" and self.members_in is not None:
            return self.members_in
        df = self.households if table == "households" else self.members
        return len(df) - self.blank_rows.get(table, 0)

    def last_row(self, table: str) -> int:
        """The highest row a reject may name: blank rows and lines are counted, as the user's sheet shows them."""
        df = self.households if table == "households" else self.members
        return len(df) + self.blank_lines.get(table, 0)

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        if self.fmt == "jsonl":
            return self._write_jsonl(folder / "survey.jsonl")
        if self.fmt == "xlsx":
            from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # what no workbook can hold, Excel's or ours

            path = folder / "survey.xlsx"
            with pd.ExcelWriter(path, engine="openpyxl") as xw:
                for name, df in (("households", self.households), ("members", self.members)):
                    df.map(lambda v: ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v).to_excel(
                        xw, sheet_name=name, index=False)
            return path
        for name, df in (("households", self.households), ("members", self.members)):
            text = df.to_csv(index=False, lineterminator="\n")
            lines = text.split("\n")[:-1]
            for table, what, n in self.raw:
                if table != name or len(lines) < 2 or any(q in text for q in ('"', "\r")):
                    continue  # (quoted cells span lines: the line arithmetic below would not hold)
                i = 1 + (n - 1) % (len(lines) - 1)
                if what != "blank_line" and not lines[i].replace(",", "").strip():
                    continue  # a blank row stays blank
                if what == "extra_field":
                    lines[i] += ",extra"
                elif what == "short_row" and "," in lines[i]:
                    lines[i] = lines[i].rsplit(",", 1)[0]
                elif what == "blank_line":
                    lines.insert(i, "")
                    self.blank_lines[name] = self.blank_lines.get(name, 0) + 1
            (folder / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return folder

    def _write_jsonl(self, path: Path) -> Path:
        """One household object per line with its members (those of the first household of their id)."""
        import json

        def id_column(df: pd.DataFrame, table: str) -> str | None:
            return next((c for c in df.columns if canonical_header(table, c) == "household_id"), None)

        hh_col, mem_col = id_column(self.households, "households"), id_column(self.members, "members")
        by_id: dict[str, list[dict]] = {}
        for rec in self.members.to_dict("records"):
            key = rec.pop(mem_col, None) if mem_col else None
            by_id.setdefault(key, []).append({k: (v if v != "" else None) for k, v in rec.items()})
        lines, counted, self.members_in = [], set(), 0
        broken = {n % max(len(self.households), 1) for t, w, n in self.raw if w == "broken_line"}
        for i, rec in enumerate(self.households.to_dict("records")):
            key = rec.get(hh_col) if hh_col else None
            mine = by_id.get(key, []) if key not in counted else []
            counted.add(key)
            line = json.dumps({**{k: (v if v != "" else None) for k, v in rec.items()}, "members": mine},
                              ensure_ascii=False)  # (writes U+2028 raw, as Python does)
            if i in broken:
                line = line[: len(line) // 2]
            else:
                self.members_in += len(mine)
            lines.append(line)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def args(self, path: Path, out: Path) -> list[str]:
        base = [self.command, str(path), "--on", self.on, "--out", str(out)]
        if self.command == "report":
            return base + ["--plan", "tan_yen_2024"]
        if self.command == "diff":
            return [self.command, str(path), "--on", self.on, "--vs-on", "2027-06-30", "--out", str(out)]
        return base


def _cell_text(draw, kind: str) -> str:
    if kind == "id":
        return draw(st.sampled_from(ODD_IDS))
    if kind == "member_no":
        return draw(st.sampled_from(ODD_MEMBER_NOS))
    return draw(st.one_of(st.sampled_from(JUNK), st.text(max_size=12)))


@st.composite
def surveys(draw) -> Survey:
    hh_all, mem_all = _demo()
    k = draw(st.integers(1, 25))
    start = draw(st.integers(0, len(hh_all) - k))
    hh = hh_all.iloc[start:start + k].reset_index(drop=True)
    mem = mem_all[mem_all["household_id"].isin(set(hh["household_id"]))].reset_index(drop=True)
    tables = {"households": hh, "members": mem}
    damage: list[str] = []
    for _ in range(draw(st.integers(0, 8))):
        what = draw(st.sampled_from(["blank", "junk", "junk", "code", "move", "duplicate", "delete", "odd_id",
                                     "odd_member_no", "nfd", "alias", "drop_column"]))
        name = draw(st.sampled_from(["households", "members"]))
        df = tables[name]
        if not len(df) or not len(df.columns):
            continue
        row = draw(st.integers(0, len(df) - 1))
        col = draw(st.sampled_from(list(df.columns)))
        if what == "blank":
            df.iat[row, df.columns.get_loc(col)] = ""
        elif what == "junk":
            df.iat[row, df.columns.get_loc(col)] = _cell_text(draw, "junk")
        elif what == "code":
            spec = columns(name).get(col)
            codes = [c for s in columns(name).values() for c in s.codes]
            if spec is not None and codes:
                df.iat[row, df.columns.get_loc(col)] = draw(st.sampled_from(codes))
        elif what == "move":
            to = draw(st.integers(0, len(df) - 1))
            order = list(range(len(df)))
            order.insert(to, order.pop(row))
            tables[name] = df = df.iloc[order].reset_index(drop=True)
        elif what == "duplicate":
            tables[name] = df = pd.concat([df.iloc[:row + 1], df.iloc[row:]], ignore_index=True)
        elif what == "delete":
            tables[name] = df = df.drop(index=row).reset_index(drop=True)
        elif what == "odd_id" and "household_id" in df.columns:
            col = "household_id"
            df.iat[row, df.columns.get_loc(col)] = _cell_text(draw, "id")
        elif what == "odd_member_no" and "member_no" in df.columns:
            col = "member_no"
            df.iat[row, df.columns.get_loc(col)] = _cell_text(draw, "member_no")
        elif what == "nfd":
            v = df.iat[row, df.columns.get_loc(col)]
            df.iat[row, df.columns.get_loc(col)] = unicodedata.normalize("NFD", v)
        elif what == "alias":
            spec = columns(name).get(col)
            if spec is not None:
                header = draw(st.sampled_from(list(spec.headers)))
                header = draw(st.sampled_from([header, header.upper(), f" {header} ", _accentless(header)]))
                if header.strip() and header not in df.columns:
                    tables[name] = df = df.rename(columns={col: header})
        elif what == "drop_column":
            tables[name] = df = df.drop(columns=[col])
        damage.append(f"{what} {name} row {row + 1} column {col!r}")
    for df in tables.values():  # a row left with no cell at all is not a row: give it something
        blank = (df.astype(str).apply(lambda c: c.str.strip()) == "").all(axis=1) if len(df.columns) else None
        if blank is not None and blank.any():
            df.iloc[blank.to_numpy().nonzero()[0], 0] = "?"
    fmt = draw(_evenly(FORMATS))
    raw = []
    if fmt == "jsonl":  # a line cut short costs its own household only
        raw += [("households", "broken_line", draw(st.integers(0, 60))) for _ in range(draw(st.integers(0, 1)))]
    if fmt == "csv":  # damage only a text file can have: rows longer or shorter than the header, blank lines
        for _ in range(draw(st.integers(0, 2))):
            raw.append((draw(st.sampled_from(["households", "members"])),
                        draw(st.sampled_from(["extra_field", "short_row", "blank_line"])), draw(st.integers(1, 60))))
    blank_rows: dict[str, int] = {}
    if fmt != "jsonl":  # a row of empty cells (Excel keeps them between households): skipped, still counted
        for _ in range(draw(st.integers(0, 1))):
            name = draw(st.sampled_from(["households", "members"]))
            df = tables[name]
            if len(df) and len(df.columns):
                row = draw(st.integers(0, len(df) - 1))
                df.iloc[row, :] = ""
                blank_rows[name] = blank_rows.get(name, 0) + 1
                damage.append(f"blank_row {name} row {row + 1}")
    command = draw(_evenly(COMMANDS))
    on = draw(st.sampled_from(PROGRAM_DATES if command == "eligible" else DATES))
    return Survey(tables["households"], tables["members"], fmt, command, on,
                  damage + [f"{w} {t} line {n}" for t, w, n in raw], raw, blank_rows=blank_rows)


def _evenly(choices: list[str]):
    """One of `choices`, drawn evenly (hypothesis favours the first entries of a sampled_from list)."""
    return st.randoms(use_true_random=False).map(lambda r: r.choice(choices))


def _accentless(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def check_run(survey: Survey, exit_code: int, output: str, out: Path) -> list[str]:
    """What went wrong (empty when the run kept the contract)."""
    problems = []
    if exit_code not in CONTRACT_EXIT_CODES:
        problems.append(f"exit code {exit_code} is not one of the contract's")
    if "Traceback" in output or "please report" in output or "vui lòng báo lại" in output:
        problems.append("an internal error reached the user")
    if exit_code not in (0, 1):
        return problems
    rejects = out / "rejects.csv"
    if not rejects.exists():
        return problems + ["no rejects.csv written"]
    rej = _read(rejects)
    if (exit_code == 0) != (len(rej) == 0):
        problems.append(f"exit {exit_code} with {len(rej)} reject row(s)")
    if (rej["problem"] == "internal_error").any():
        problems.append("a household was rejected as an internal error")
    if survey.command != "classify":
        return problems
    n_in = {"households": survey.rows_in("households"), "members": survey.rows_in("members")}
    written = {"households": _read(out / "households.csv"), "members": _read(out / "members.csv")}
    for table in ("households", "members"):
        rows = rej.loc[rej["table"] == table, "row"].astype(int)
        last = survey.last_row(table)  # a row number is the row the user sees
        if len(rows) and (rows.min() < 1 or rows.max() > last):
            problems.append(f"{table}: reject rows outside 1..{last}")
        if len(written[table]) + rows.nunique() != n_in[table]:
            problems.append(f"{table}: {n_in[table]} in, {len(written[table])} written + {rows.nunique()} rejected")
    orphans = set(written["members"]["household_id"]) - set(written["households"]["household_id"])
    if orphans:
        problems.append(f"{len(orphans)} written member(s) of a household not written")
    return problems
