"""The rulebook: the rule files read, checked and resolved at a date. It knows no survey rows.

Each name has one owner, imported from it (nothing is re-exported here, so that `tieuchi.rulebook.load.load_rules`
is the one place to read, and to patch in a test). Within the rulebook a module imports only those above it in this
list (and `tieuchi.contract`, `tieuchi.errors`):

    yaml_lines   YAML read safely with the line of every key (`read_yaml`, `key_line`, `YamlMap`, `MAX_DEPTH`)
    vocabulary   the pydantic vocabulary of rule files: parameters, derived variables, indicators, conditions …
    overlay      the shape of an overlay file (`Overlay`)        plan   the shape of a plan file (`Plan`)
    source       where the rules are (`rules_root`, shipped ids); a file validated into a model with file:line and
                 "did you mean"; how a user's value appears in a message (`shown`, `listed`, `suggest`)
    tree         the condition tree: `children`, `walk`, `member_child`, `static`, the levels HOUSEHOLD / MEMBER
    regime       the domain types: `Regime`, `ProgramRules`, `SharedRules`, `EligibilityRules`, `RulesAt`
    checks       the cross-checks: citations, condition names and levels, codes (`cross_check`, `check_condition`)
    folders      a regime read from its folder with its program and shared sets (`load_regime`, `discover_regimes`)
    overlays     overlays found, checked against their base and applied (`load_overlay`, `read_overlay`)
    plans        plans found, read, added up and checked against a regime (`load_plan`, `check_plan`,
                 `rules_with_plan`, `plan_path`)
    load         where loading starts: `load_rules(on, rules)` and `load_candidate(rules)`
"""
