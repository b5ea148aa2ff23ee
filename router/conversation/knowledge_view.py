"""The router's read-only view of the knowledge base: the active model version, the
snapshot of every version and the lexicon, mirrored from etcd."""

from __future__ import annotations

from twinteller.errors import Unavailable
from twinteller.etcd import keys
from twinteller.etcd.mirror import PrefixMirror
from twinteller.etcd.store import Store
from twinteller.knowledge.lexicon import Lexicon, LexiconEntry
from twinteller.knowledge.schema import Snapshot


class KnowledgeView:
    def __init__(self, store: Store) -> None:
        self.active = PrefixMirror(store, keys.ACTIVE_VERSION)
        self.versions = PrefixMirror(store, keys.KB_VERSIONS, on_change=self._invalidate)
        self.terms = PrefixMirror(store, keys.KB_LEXICON, on_change=self._new_lexicon)
        self._parsed: dict[str, Snapshot] = {}
        self.lexicon = Lexicon([])

    def mirrors(self) -> list[PrefixMirror]:
        return [self.active, self.versions, self.terms]

    def _new_lexicon(self, items: dict[str, bytes]) -> None:
        self.lexicon = Lexicon([LexiconEntry.from_json(raw) for raw in items.values()])

    def _invalidate(self, _items: dict[str, bytes]) -> None:
        self._parsed = {}

    def active_version(self) -> str:
        raw = self.active.items.get("")
        if raw is None:
            raise Unavailable("no active model version is published yet")
        return raw.decode()

    def snapshot(self, version: str) -> Snapshot:
        snapshot = self._parsed.get(version)
        if snapshot is None:
            raw = self.versions.items.get(version)
            if raw is None:
                raise Unavailable(f"knowledge base of model version {version} is not published")
            snapshot = self._parsed[version] = Snapshot.from_json(raw)
        return snapshot
