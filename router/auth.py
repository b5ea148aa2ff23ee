"""Who is calling an admin service (Knowledge, Migration): `authorization: Bearer <token>`
metadata, checked against `--admin-tokens name:token,...`; the name is the actor in the
audit trail. No tokens configured: every admin call is refused."""

from __future__ import annotations

import hmac

import grpc

from twinteller.errors import Unauthenticated


class Tokens:
    def __init__(self, tokens: dict[str, str]) -> None:
        self._tokens = tokens  # token -> name

    def actor(self, context: grpc.aio.ServicerContext) -> str:
        if not self._tokens:
            raise Unauthenticated("the admin API is off: no --admin-tokens are configured on this router")
        header = dict(context.invocation_metadata() or ()).get("authorization", "")
        scheme, _, token = str(header).partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("authorization: send 'Bearer <token>'")
        for known, name in self._tokens.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                return name
        raise Unauthenticated("authorization: unknown token")
