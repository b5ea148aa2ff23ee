"""Who is calling an admin service (Knowledge, Migration, Operations), and may they:
`authorization: Bearer <token>` metadata, checked against `--admin-tokens
name:token[:role+role],...`; the name is the actor in the audit trail, and the one table of
twinteller/roles.py says which roles may take each action. No tokens configured: every
admin call is refused."""

from __future__ import annotations

import hmac

import grpc

from twinteller.errors import PermissionDenied, Unauthenticated
from twinteller.roles import PERMISSIONS, READ, Principal


class Tokens:
    def __init__(self, tokens: dict[str, Principal]) -> None:
        self._tokens = tokens  # token -> who

    def principal(self, context: grpc.aio.ServicerContext) -> Principal:
        if not self._tokens:
            raise Unauthenticated("the admin API is off: no --admin-tokens are configured on this router")
        header = dict(context.invocation_metadata() or ()).get("authorization", "")
        scheme, _, token = str(header).partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("authorization: send 'Bearer <token>'")
        for known, principal in self._tokens.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                return principal
        raise Unauthenticated("authorization: unknown token")

    def actor(self, context: grpc.aio.ServicerContext, action: str = READ) -> str:
        """The caller's name, if one of its roles may take `action` (twinteller/roles.py)."""
        principal = self.principal(context)
        if not principal.may(action):
            held, takes = "+".join(sorted(principal.roles)), ", ".join(PERMISSIONS[action])
            raise PermissionDenied(f"{principal.name} ({held}) may not do this; it takes: {takes}")
        return principal.name
