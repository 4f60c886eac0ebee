"""The rulebook: the vocabulary of rule files (pydantic), YAML read with its lines, regimes, programs and the
rules in force at a date (`RulesAt`), their cross-checks, overlays and plans. It knows no survey rows."""
