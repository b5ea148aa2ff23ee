"""A knowledge manager's corrections to the clusters: split one, merge two, move a question,
dismiss one as noise. Each is a `Rule` kept in etcd (`cluster-rules/<id>`, written by the
admin API, router/admin/cluster_service.py) and applied by the insights worker every round
after clustering (`apply`), so a correction holds as new questions arrive
(twinteller/knowledge/cluster_rules.py is the record):

- **split** (cluster, the members split off): the members listed go to a new cluster (its id
  the rule's); a member that joined since goes to the side whose centre it is nearer.
- **merge** (cluster, other): the other cluster's members join the cluster.
- **move** (member, into cluster): the member leaves its cluster for that one.
- **dismiss** (cluster, its members' texts): the cluster is not proposed again, nor any
  later cluster whose centre is within `SAME_CENTRE` of the dismissed one's (the same
  noise, after its first members aged out of the worker's window), and its members join
  no other cluster.

Rules name clusters by id, stable while the cluster's oldest member is among the newest
unrecognised queries the worker reads (insights/insight_worker.py MAX_RECORDS); one whose
cluster is gone does nothing. Rules apply oldest first; deleting a rule undoes it. None of
them changes the knowledge base: adopting a cluster into an FAQ does, through maker-checker.
"""

from __future__ import annotations

import numpy as np

from twinteller.etcd import keys as keys_module
from twinteller.knowledge.cluster_rules import Rule

SAME_CENTRE = 0.9  # cosine of two clusters' centres (projected) above which they are the same noise


def centre(vectors: np.ndarray) -> np.ndarray:
    """The unit centre of `vectors` (rows)."""
    mean = vectors.mean(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


def apply(
    groups: dict[str, list[int]],
    keys: list[str],
    vectors: np.ndarray,
    rules: list[Rule],
    dismissed_centres: dict[str, np.ndarray],
) -> dict[str, list[int]]:
    """`groups`: cluster id -> rows (indices into `keys`, the records' etcd keys, and
    `vectors`, their projected embeddings); `dismissed_centres`: each dismiss rule's centre,
    by rule id. The groups after the rules, oldest rule first; no group is left empty."""
    out = {cid: list(rows) for cid, rows in groups.items()}
    row_of = {key: i for i, key in enumerate(keys)}
    for rule in sorted(rules, key=lambda r: (r.at, r.id)):
        if rule.kind == "split" and rule.cluster in out:
            rows, listed, since = out[rule.cluster], set(rule.members), keys_module.unrecognised_since(rule.at)
            part = [r for r in rows if keys[r] in listed]
            if not part or len(part) == len(rows):
                continue
            # Members recorded after the split go to the nearer side; the others stay.
            newer = [r for r in rows if keys[r] not in listed and keys[r] > since]
            stay = [r for r in rows if keys[r] not in listed and keys[r] <= since]
            if stay:
                to_part, to_stay = centre(vectors[part]), centre(vectors[stay])
                part += [r for r in newer if vectors[r] @ to_part > vectors[r] @ to_stay]
                stay += [r for r in newer if vectors[r] @ to_part <= vectors[r] @ to_stay]
            else:
                part += newer
            out[rule.cluster] = sorted(stay)
            out[rule.id] = sorted(part)
        elif rule.kind == "merge" and rule.cluster in out and rule.other in out and rule.other != rule.cluster:
            out[rule.cluster] = sorted(out[rule.cluster] + out.pop(rule.other))
        elif rule.kind == "move" and rule.cluster in out:
            for key in rule.members:
                row = row_of.get(key)
                if row is None:
                    continue
                for rows in out.values():
                    if row in rows:
                        rows.remove(row)
                out[rule.cluster] = sorted({*out[rule.cluster], row})
        elif rule.kind == "dismiss":
            out.pop(rule.cluster, None)
            gone = {row_of[k] for k in rule.members if k in row_of}
            dismissed = dismissed_centres.get(rule.id)
            for cid in list(out):
                out[cid] = [r for r in out[cid] if r not in gone]
                if dismissed is not None and out[cid] and float(centre(vectors[out[cid]]) @ dismissed) >= SAME_CENTRE:
                    del out[cid]
        out = {cid: rows for cid, rows in out.items() if rows}
    return out
