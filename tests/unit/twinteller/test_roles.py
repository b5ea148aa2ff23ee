"""twinteller.roles: the one table of who may take which admin action, and that every
action the router's services ask about is in it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from twinteller.roles import ADMIN, PERMISSIONS, READ, ROLES, Principal

ROUTER = Path(__file__).resolve().parents[3] / "router"


@pytest.mark.parametrize(
    ("roles", "may"),
    [
        ({"viewer"}, {READ}),
        ({"editor"}, {READ, "propose", "train", "run tests", "import legacy rules"}),
        ({"approver"}, {READ, "approve"}),
        ({"operator"}, {READ, "propose", "train", "run tests", "deploy", "roll back", "steer cutover"}),
        ({"editor", "approver"}, {READ, "propose", "train", "run tests", "import legacy rules", "approve"}),
        ({ADMIN}, set(PERMISSIONS)),
    ],
)
def test_what_each_role_may_do(roles: set[str], may: set[str]) -> None:
    principal = Principal("someone", frozenset(roles))
    assert {action for action in PERMISSIONS if principal.may(action)} == may


def test_only_admins_change_the_knowledge_base_at_once() -> None:
    assert [r for r in ROLES if Principal("x", frozenset({r})).may("change knowledge")] == []


def test_every_action_the_services_ask_about_is_in_the_table() -> None:
    asked = set()
    for path in ROUTER.rglob("*.py"):
        source = path.read_text()
        asked |= set(re.findall(r'actor\(context, "([^"]+)"\)', source))
        asked |= set(re.findall(r'^(?:CHANGE) = "([^"]+)"', source, re.M))
    assert asked, "no action found: the pattern no longer matches the code"
    assert asked - set(PERMISSIONS) == set()
