"""The audit trail (`kb/audit/`, read by `ListAudit`): one record per change to the knowledge
base, the lexicon, a proposal, a job or the cutover, written in the same etcd transaction
as the change, so the trail never misses a change nor shows one that did not happen."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence

from twinteller.errors import Conflict
from twinteller.etcd import keys
from twinteller.etcd.store import Store


def record(actor: str, action: str, ids: list[str], at: float) -> dict[str, bytes]:
    """The audit record of one change, as the put to add to the change's transaction. Keys
    sort by time; the random tail keeps two writers' records of one instant apart."""
    key = f"{keys.KB_AUDIT}{time.time_ns():020d}-{secrets.token_hex(4)}"
    entry = {"at": at, "actor": actor, "action": action, "ids": ids}
    return {key: json.dumps(entry, ensure_ascii=False).encode()}


async def audited_commit(
    store: Store,
    actor: str,
    action: str,
    ids: list[str],
    *,
    puts: dict[str, bytes] | None = None,
    deletes: tuple[str, ...] = (),
    absent: Sequence[str] = (),
    unchanged: dict[str, int] | None = None,
    also: Sequence[tuple[str, list[str]]] = (),
    at: float | None = None,
    conflict: str = "",
) -> int:
    """Write `puts` and delete `deletes` with the audit record of (`actor`, `action`, `ids`)
    and of each (action, ids) in `also`, in one transaction, if every key in `absent` is
    missing and every key in `unchanged` still has that revision (optimistic concurrency).
    The revision written; if a compare failed, nothing is written and Conflict(`conflict`)
    is raised, or 0 returned when no `conflict` message is given."""
    at = time.time() if at is None else at
    writes = dict(puts or {})
    for name, named in ((action, ids), *also):
        writes.update(record(actor, name, named, at))
    revision = await store.commit(absent=list(absent), unchanged=unchanged or {}, puts=writes, deletes=deletes)
    if not revision and conflict:
        raise Conflict(conflict)
    return revision
