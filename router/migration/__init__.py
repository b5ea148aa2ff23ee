"""The router's part of replacing the legacy bot: the Migration admin service, the shadow
that asks both systems per turn, the leader's cutover guard, and the legacy bot's client."""
