"""The condition tree: one way to find a node's children, used by the checks, the engines and the explanations."""
from __future__ import annotations

import pytest
from pydantic import TypeAdapter

from tieuchi.rulebook import vocabulary as m
from tieuchi.rulebook.tree import children, member_child, static, walk

CONDITION = TypeAdapter(m.Condition)


def cond(data):
    return CONDITION.validate_python(data)


def test_every_node_type_with_children_gives_them_in_the_order_of_the_rule_file():
    tree = cond({"all": [{"field": "water_source", "eq": "tap"},
                         {"not": {"flag": "f"}},
                         {"any_member": {"field": "age", "ge": 6}},
                         {"count_of": [{"var": "a"}, {"var": "b"}], "ge": 1}]})
    first, negation, any_member, count_of = children(tree)
    assert first.field == "water_source"
    assert children(negation)[0].flag == "f"
    assert children(any_member)[0].field == "age"
    assert [c.var for c in children(count_of)] == ["a", "b"]
    assert children(first) == []


def test_walk_gives_every_node_depth_first():
    tree = cond({"any": [{"all": [{"var": "a"}, {"var": "b"}]}, {"var": "c"}]})
    assert [type(n).__name__ for n in walk(tree)] == ["AnyOf", "AllOf", "Var", "Var", "Var"]
    assert [n.var for n in walk(tree) if isinstance(n, m.Var)] == ["a", "b", "c"]


@pytest.mark.parametrize("head", ["any_member", "all_members", "count_members", "share_of_members"])
def test_the_member_condition_of_each_member_aggregation_is_its_one_child(head):
    extra = {} if head in ("any_member", "all_members") else {"ge": 1}
    agg = cond({head: {"field": "age", "ge": 6}, **extra})
    assert member_child(agg).field == "age"


def test_a_node_that_is_no_member_aggregation_has_no_member_condition():
    with pytest.raises(TypeError):
        member_child(cond({"not": {"flag": "f"}}))


@pytest.mark.parametrize("data, expected", [
    ({"flag": "on"}, True),
    ({"not": {"flag": "on"}}, False),
    ({"all": [{"flag": "off"}, {"var": "x"}]}, False),  # one false child decides `all`
    ({"any": [{"flag": "on"}, {"var": "x"}]}, True),  # one true child decides `any`
    ({"all": [{"flag": "on"}, {"var": "x"}]}, None),  # the data decides
    ({"any": [{"flag": "off"}, {"not": {"flag": "on"}}]}, False),
    ({"var": "x"}, None),
])
def test_static_is_the_value_the_parameters_alone_decide(data, expected):
    assert static(cond(data), {"on": True, "off": False}) is expected
