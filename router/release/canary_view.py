"""The canary state every router follows (twinteller/release/canary.py), parsed once per
change, and the model version each turn is served by."""

from __future__ import annotations

import logging

from router.conversation.knowledge_view import KnowledgeView
from router.conversation.sessions import Context
from router.conversation.turn import Turn
from twinteller.errors import InvalidArgument
from twinteller.etcd import keys
from twinteller.etcd.mirror import PrefixMirror
from twinteller.etcd.store import Store
from twinteller.release import canary as canaries
from twinteller.release.canary import Canary

log = logging.getLogger(__name__)


class CanaryView:
    def __init__(self, store: Store, knowledge: KnowledgeView) -> None:
        self.mirror = PrefixMirror(store, keys.CANARY, on_change=self._changed)
        self._knowledge = knowledge
        self._state: Canary | None = None

    def _changed(self, items: dict[str, bytes]) -> None:
        raw = items.get("")
        try:
            self._state = None if raw is None else Canary.from_json(raw).validated()
        except (InvalidArgument, ValueError, TypeError, KeyError):
            log.error("the canary state in etcd is not readable: every conversation gets the active version")
            self._state = None

    def state(self) -> Canary | None:
        return self._state

    def version(self, turn: Turn, context: Context | None) -> str:
        """The version to serve `turn` by; `context` None: before it is read (a guess that
        holds for every new conversation, checked once the context is in)."""
        if turn.pinned_version:
            return turn.pinned_version
        active = self._knowledge.active_version()
        if context is None:
            return canaries.choose(turn.session_id, "", False, self._state, active)
        return canaries.choose(turn.session_id, context.version, bool(context.turns), self._state, active)
