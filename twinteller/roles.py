"""Who may do what through the admin services (README "Security model"): the roles an
admin token carries (`--admin-tokens name:token[:role+role],...`) and the one table from
each admin action to the roles that may take it. router/api/auth.py enforces it.

Viewers read; editors change the knowledge base by proposing (a different approver
applies the change) and train; operators train, deploy, roll back and steer the cutover.
ADMIN is every role with no second person: for local development and automation, and the
role of a token given no roles.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("viewer", "editor", "approver", "operator")
ADMIN = "admin"

READ = "read"
ANYONE: tuple[str, ...] = ()  # any authenticated caller
# action -> the roles that may take it (ADMIN may take every action).
PERMISSIONS: dict[str, tuple[str, ...]] = {
    READ: ANYONE,  # every List/Get, Export, a dry-run import, the reports
    "change knowledge": (ADMIN,),  # FAQ entries, imports, the lexicon, clusters: at once
    "propose": ("editor", "operator"),  # the same changes, applied once approved
    "approve": ("approver",),  # never one's own proposal
    "train": ("editor", "operator"),
    "run tests": ("editor", "operator"),  # conversation tests against a version (loads it)
    "deploy": ("operator",),
    "roll back": ("operator",),
    "steer cutover": ("operator",),
    "import legacy rules": ("editor",),
}


@dataclass(frozen=True)
class Principal:
    name: str
    roles: frozenset[str]

    def may(self, action: str) -> bool:
        allowed = PERMISSIONS[action]
        return not allowed or ADMIN in self.roles or bool(self.roles & set(allowed))


def parse_tokens(spec: str) -> dict[str, Principal]:
    """ "alice:s3cret:editor,bob:t0ken:approver+viewer,ci:k3y" -> {token: principal};
    a token with no roles is ADMIN. Tokens have 8 characters or more, and no ':' or ','."""
    tokens: dict[str, Principal] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        parts = item.split(":")
        name, token = parts[0], parts[1] if len(parts) > 1 else ""
        if not name or len(token) < 8 or len(parts) > 3:
            raise ValueError(f"admin token {name or item!r}: expected name:token[:role+role], a token of 8+ characters")
        roles = frozenset(filter(None, (parts[2] if len(parts) == 3 else "").split("+"))) or frozenset({ADMIN})
        unknown = roles - {*ROLES, ADMIN}
        if unknown:
            raise ValueError(f"admin token {name!r}: unknown roles {sorted(unknown)}; known: {[*ROLES, ADMIN]}")
        tokens[token] = Principal(name, roles)
    return tokens
