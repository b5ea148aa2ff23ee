"""twinteller.etcd.audit.audited_commit: a change and its audit record(s) in one
transaction, or nothing at all."""

from __future__ import annotations

import json

import pytest

from tests.helpers.memory_store import MemoryStore
from twinteller.errors import Conflict
from twinteller.etcd import keys
from twinteller.etcd.audit import audited_commit

KEY = keys.faq("card_arrival")


def trail(store: MemoryStore) -> list[dict[str, object]]:
    return [json.loads(e.value) for k, e in sorted(store.data.items()) if k.startswith(keys.KB_AUDIT)]


async def test_the_change_and_its_record_are_one_transaction() -> None:
    store = MemoryStore()
    revision = await audited_commit(store, "alice", "put", ["card_arrival"], puts={KEY: b"{}"}, at=12.5)
    assert revision == store.data[KEY].mod_revision
    assert len(store.commits) == 1 and KEY in store.commits[0]
    assert trail(store) == [{"at": 12.5, "actor": "alice", "action": "put", "ids": ["card_arrival"]}]
    record_key = next(k for k in store.commits[0] if k.startswith(keys.KB_AUDIT))
    assert store.data[record_key].mod_revision == revision


async def test_more_records_in_the_same_transaction() -> None:
    store = MemoryStore()
    store.put_now(keys.faq("old"), b"{}")
    await audited_commit(
        store, "bob", "import", ["a"], puts={keys.faq("a"): b"{}"}, deletes=(keys.faq("old"),),
        also=[("import delete", ["old"])],
    )  # fmt: skip
    assert [(r["action"], r["ids"]) for r in trail(store)] == [("import", ["a"]), ("import delete", ["old"])]
    assert keys.faq("old") not in store.data and len(store.commits) == 1


async def test_a_failed_compare_writes_nothing_and_says_why() -> None:
    store = MemoryStore()
    revision = store.put_now(KEY, b"v1")
    store.put_now(KEY, b"v2")  # someone else's change since it was read
    with pytest.raises(Conflict, match="changed meanwhile"):
        await audited_commit(
            store, "alice", "put", ["card_arrival"], puts={KEY: b"mine"}, unchanged={KEY: revision},
            conflict="changed meanwhile",
        )  # fmt: skip
    assert store.data[KEY].value == b"v2" and trail(store) == [] and store.commits == []


async def test_without_a_message_a_failed_compare_returns_zero() -> None:
    store = MemoryStore()
    store.put_now(KEY, b"there")
    assert await audited_commit(store, "guard", "create", [], puts={KEY: b"new"}, absent=[KEY]) == 0
    assert store.data[KEY].value == b"there" and trail(store) == []
