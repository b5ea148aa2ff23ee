"""Who is calling an admin service (Knowledge, Migration, Operations), and may they:
`authorization: Bearer <token>` metadata, checked against `--admin-tokens
name:token[:role+role],...`; the name is the actor in the audit trail, the roles say what
the caller may do (twinteller/config.py: viewer, editor, approver, operator; admin: all
of them). No tokens configured: every admin call is refused."""

from __future__ import annotations

import hmac

import grpc

from twinteller.config import ADMIN, Principal
from twinteller.errors import PermissionDenied, Unauthenticated

ANYONE: tuple[str, ...] = ()  # any authenticated caller: the reads


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

    def actor(self, context: grpc.aio.ServicerContext, *allowed: str) -> str:
        """The caller's name, if one of its roles is in `allowed` (ANYONE: any role)."""
        principal = self.principal(context)
        if allowed and ADMIN not in principal.roles and not principal.roles & set(allowed):
            held = "+".join(sorted(principal.roles))
            raise PermissionDenied(f"{principal.name} ({held}) may not do this; it takes: {', '.join(allowed)}")
        return principal.name
