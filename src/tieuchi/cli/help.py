"""How `tieuchi --help` and each command's `--help` read: plain text wrapped to the terminal (at most 100 columns),
every option with the metavar its declaration gives, required options marked, the options of which exactly one is
required said so, and each command's examples at the end.

Everything is read from the click parameters typer builds from the declarations (`opts`, `metavar`, `is_flag`,
`required`, `help`, `default`), never from a list of option names, so an option added to a command shows up right
without a change here: a flag shows no metavar, an option without one shows its name in capitals, an argument its
metavar (or name) as the usage line gives it. Only the groups of options of which one is required are declared
here (`ONE_OF`), since no declaration can say it.

A command declares its examples with `examples(...)` as its epilog; `Command` and `Group` are the classes every
command and the app are built with (`app.command(cls=Command, epilog=examples(...))`).
"""
from __future__ import annotations

import inspect
import re
import shutil
import textwrap

from typer.core import TyperCommand, TyperGroup

MAX_WIDTH = 100  # wider lines are hard to read, whatever the terminal
NAME_COLUMN = 28  # the option column; a longer option name puts its help on the next line
INDENT = "  "
# options of which exactly one must be given: no option declaration can say it
ONE_OF = (("--on", "--for-year"), ("--vs-on", "--vs-for-year"))
EXAMPLES_HEAD = "Ví dụ / Examples:"
HELP_OPTION_TEXT = "Show this help and exit / Xem hướng dẫn này."
KEEP = "\u00a0"  # a space that wrapping never breaks at (written as a plain space)
SPACES = re.compile(r"[ \t\r\n]+")


def examples(*lines: str) -> str:
    """A command's examples, one command line each, as its epilog (shown last in its help)."""
    return "\n".join(lines)


def width() -> int:
    """The terminal's width (COLUMNS when set), at most MAX_WIDTH."""
    return min(shutil.get_terminal_size((80, 24)).columns, MAX_WIDTH)


def wrap(text: str, columns: int, indent: str = "", first: str | None = None) -> list[str]:
    """`text` (line breaks are spaces) wrapped to `columns`, without a word alone on the last line of a paragraph
    of several lines (the word before it moves down with it). A no-break space (KEEP) holds words together."""
    first = indent if first is None else first
    words = " ".join(SPACES.split(text.strip()))

    def filled(w: int) -> list[str]:
        return textwrap.wrap(words, w, initial_indent=first, subsequent_indent=indent, break_long_words=False,
                             break_on_hyphens=False)

    def lone(lines: list[str]) -> bool:
        return len(lines) >= 2 and len(SPACES.split(lines[-1].strip(" "))) == 1

    lines = filled(columns)
    for narrower in range(columns - 1, max(columns - 16, len(first) + 10), -1):
        if not lone(lines):
            break
        again = filled(narrower)
        if len(again) == len(lines) and not lone(again):
            lines = again
    return [x.replace(KEEP, " ") for x in lines] or [first.rstrip()]


def together(text: str) -> str:
    """`text` as one unbreakable piece (its spaces are KEEP)."""
    return text.replace(" ", KEEP)


def paragraphs(help_text: str | None) -> list[str]:
    """The paragraphs of a docstring or help text (blank-line separated), each on one line."""
    text = inspect.cleandoc(help_text or "").partition("\f")[0]
    return [" ".join(SPACES.split(p.strip())) for p in text.split("\n\n") if p.strip()]


# --------------------------------------------------------------------------------------------------------------
# one parameter


def is_option(param) -> bool:
    return getattr(param, "param_type_name", "") == "option"


def metavar(param) -> str:
    """What the user writes after the option (or for the argument): the declared metavar, else the name in
    capitals; '' for a flag; '...' when it may be given several times."""
    if is_option(param) and (getattr(param, "is_flag", False) or getattr(param, "count", False)):
        return ""
    shown = param.metavar or (param.name or "").upper()
    if getattr(param, "multiple", False) or param.nargs == -1:
        shown += "..."
    return shown


def one_of(command, param) -> tuple[str, ...] | None:
    """The ONE_OF group `param` belongs to, when the command has every option of it."""
    mine = {o for p in command.params if is_option(p) for o in p.opts}
    for group in ONE_OF:
        if set(group) <= mine and set(param.opts) & set(group):
            return group
    return None


def name_of(param) -> str:
    """`--out DIR`, `--strict`, `--bom / --no-bom`, or an argument's metavar."""
    if not is_option(param):
        return metavar(param)
    mv = metavar(param)
    names = ", ".join(sorted(param.opts, key=len))
    if getattr(param, "secondary_opts", None):
        names += " / " + ", ".join(param.secondary_opts)
    return f"{names} {mv}" if mv else names


def default_of(param) -> str | None:
    if not is_option(param) or getattr(param, "is_flag", False) or param.required:
        return None
    if getattr(param, "show_default", True) is False:
        return None
    value = param.default
    if value is None or callable(value) or value == () or value == []:
        return None
    return str(value)


def help_of(command, ctx, param) -> str:
    """The parameter's help with whether it is required and its default (each note unbreakable)."""
    if is_option(param) and param.name == "help" and set(param.opts) <= set(ctx.help_option_names):
        text = HELP_OPTION_TEXT
    else:
        text = " ".join(paragraphs(getattr(param, "help", None)))
    notes = []
    if param.required and not one_of(command, param):
        notes.append(together("[bắt buộc / required]"))
    default = default_of(param)
    if default is not None:
        notes.append(together(f"[mặc định / default: {default}]"))
    return " ".join([text, *notes]).strip()


def mark(command, param) -> str:
    """'*' before a required parameter, '+' before one of a group of which one is required."""
    if one_of(command, param):
        return "+"
    return "*" if param.required else " "


def rows(items: list[tuple[str, str, str]], columns: int) -> list[str]:
    """(mark, name, help) rows as two columns: the name column NAME_COLUMN wide at most."""
    name_w = min(max((len(n) for _, n, _ in items), default=0) + 2, NAME_COLUMN)
    lead = len(INDENT) + 2  # the mark and a space
    help_w = max(columns - lead - name_w, 30)
    out = []
    for m, name, text in items:
        pad = " " * (lead + name_w)
        if len(name) + 2 > name_w:
            out.append(f"{INDENT}{m} {name}")
            out += wrap(text, lead + name_w + help_w, indent=pad)
        else:
            first = f"{INDENT}{m} {name.ljust(name_w)}"
            out += wrap(text, lead + name_w + help_w, indent=pad, first=first)
    return out


# --------------------------------------------------------------------------------------------------------------
# a command and the app


def usage_pieces(command, ctx) -> list[str]:
    """SURVEY (--on DATE | --for-year YEAR) --out DIR [OPTIONS]: the arguments, the required options and the
    groups of which one is required, then the others."""
    pieces: list[str] = []
    for p in command.params:
        if not is_option(p):
            mv = metavar(p)
            pieces.append(mv if p.required else f"[{mv}]")
    groups_done: set[tuple[str, ...]] = set()
    for p in command.params:
        if not is_option(p):
            continue
        group = one_of(command, p)
        if group and group not in groups_done:
            groups_done.add(group)
            by_opt = {o: q for q in command.params if is_option(q) for o in q.opts}
            pieces.append("(" + " | ".join(name_of(by_opt[o]) for o in group) + ")")
        elif not group and p.required:
            pieces.append(name_of(p))
    pieces.append("[OPTIONS]")
    return pieces


def usage_lines(path: str, pieces: list[str], columns: int) -> list[str]:
    """`Usage: tieuchi classify …` wrapped between pieces (a piece is never split), the last one never alone on its
    line."""
    head = f"Usage: {path}"
    indent = " " * len(head)
    lines: list[list[str]] = [[]]
    used = len(head)
    for piece in pieces:
        if lines[-1] and used + 1 + len(piece) > columns:
            lines.append([])
            used = len(indent)
        lines[-1].append(piece)
        used += 1 + len(piece)
    if len(lines) >= 2 and len(lines[-1]) == 1 and len(lines[-2]) >= 2:
        lines[-1].insert(0, lines[-2].pop())
    return [(head if i == 0 else indent) + " " + " ".join(line) for i, line in enumerate(lines)]


def command_help(command, ctx) -> str:
    columns = width()
    out = usage_lines(ctx.command_path, usage_pieces(command, ctx), columns)
    for para in paragraphs(command.help):
        out += ["", *wrap(para, columns)]
    params = [p for p in command.get_params(ctx) if not getattr(p, "hidden", False)]
    arguments = [p for p in params if not is_option(p)]
    options = [p for p in params if is_option(p)]
    for title, group in (("Tham số / Arguments:", arguments), ("Tuỳ chọn / Options:", options)):
        if group:
            out += ["", title, *rows([(mark(command, p), name_of(p), help_of(command, ctx, p)) for p in group],
                                     columns)]
    out += legend(command, params, columns)
    out += examples_block(command.epilog)
    return "\n".join(out) + "\n"


def legend(command, params, columns: int) -> list[str]:
    """What the marks before the parameters mean: '*' required, '+' one of a group required (each group named)."""
    out = []
    if any(p.required and not one_of(command, p) for p in params):
        out += wrap("* bắt buộc / required", columns)
    for group in dict.fromkeys(g for p in params if is_option(p) and (g := one_of(command, p))):
        out += wrap(f"+ bắt buộc một trong hai / exactly one of {', '.join(group)} is required", columns,
                    indent="  ", first="")
    return ["", *out] if out else []


def examples_block(epilog: str | None) -> list[str]:
    lines = [x.strip() for x in (epilog or "").splitlines() if x.strip()]
    return ["", EXAMPLES_HEAD, *(f"{INDENT}{x}" for x in lines)] if lines else []


def group_help(group, ctx) -> str:
    columns = width()
    out = usage_lines(ctx.command_path, ["COMMAND", "[ARGS]..."], columns)
    for para in paragraphs(group.help):
        out += ["", *wrap(para, columns)]
    commands = [(name, group.get_command(ctx, name)) for name in group.list_commands(ctx)]
    items = [(" ", name, (paragraphs(cmd.help) or [""])[0]) for name, cmd in commands if cmd and not cmd.hidden]
    out += ["", "Lệnh / Commands:", *rows(items, columns)]
    options = [p for p in group.get_params(ctx) if is_option(p) and not getattr(p, "hidden", False)]
    out += ["", "Tuỳ chọn / Options:", *rows([(" ", name_of(p), help_of(group, ctx, p)) for p in options], columns)]
    out += examples_block(group.epilog)
    return "\n".join(out) + "\n"


class Command(TyperCommand):
    """A `tieuchi` command: its help as `command_help` gives it, the same usage line in usage errors."""

    def format_help(self, ctx, formatter) -> None:
        formatter.write(command_help(self, ctx))

    def collect_usage_pieces(self, ctx) -> list[str]:
        return usage_pieces(self, ctx)

    def format_usage(self, ctx, formatter) -> None:  # in usage errors too: wrapped as in the help
        formatter.write("\n".join(usage_lines(ctx.command_path, usage_pieces(self, ctx), width())) + "\n")


class Group(TyperGroup):
    """The `tieuchi` app: its help lists the commands by the first paragraph of their help."""

    def format_help(self, ctx, formatter) -> None:
        formatter.write(group_help(self, ctx))
