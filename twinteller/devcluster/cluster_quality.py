"""How well clusters of unrecognised questions separate customers' needs (`make eval`, the
insights worker's clustering: insights/clustering.py).

`score(truth, found, sent)`: `truth` the need of each clustered question, `found` its cluster
(same order), `sent` how many questions were sent in all (some are answered, or left in no
cluster). Figures:
- adjusted Rand index of the clusters against the needs, over the clustered questions;
- purity: share of the clustered in their cluster's majority need;
- in a cluster of their own: share of everything sent that sits in a cluster whose members
  are at least `OWN_SHARE` of that question's need (issue 21's target measure);
- mixing: the clusters in which a second need makes up more than `MIXED_SHARE` of the
  members, as a share of all clusters, and the worst such second-need share.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

OWN_SHARE = 0.7
MIXED_SHARE = 0.1


@dataclass(frozen=True)
class Quality:
    sent: int
    clustered: int
    clusters: int
    ari: float
    purity: float
    own_cluster: float  # of all sent
    mixed_clusters: float  # of all clusters
    worst_second_need: float  # the largest share a second need has in any cluster

    def lines(self) -> list[str]:
        return [
            f"clustered {self.clustered} of {self.sent} in {self.clusters} clusters; adjusted Rand {self.ari:.3f}, "
            f"purity {self.purity:.1%}",
            f"in a cluster >= {OWN_SHARE:.0%} their own need {self.own_cluster:.1%} (of all sent)",
            f"clusters mixing two needs (a second > {MIXED_SHARE:.0%}) {self.mixed_clusters:.1%}, "
            f"worst second need {self.worst_second_need:.1%}",
        ]


def score(truth: list[str], found: list[str], sent: int) -> Quality:
    from sklearn.metrics import adjusted_rand_score

    members: dict[str, Counter[str]] = {}
    for need, cluster in zip(truth, found, strict=True):
        members.setdefault(cluster, Counter())[need] += 1
    majority = sum(c.most_common(1)[0][1] for c in members.values())
    own = sum(n for c in members.values() for need, n in c.items() if n >= OWN_SHARE * sum(c.values()))
    seconds = [c.most_common(2)[1][1] / sum(c.values()) if len(c) > 1 else 0.0 for c in members.values()]
    return Quality(
        sent=sent,
        clustered=len(truth),
        clusters=len(members),
        ari=float(adjusted_rand_score(truth, found)) if truth else 0.0,
        purity=majority / max(1, len(truth)),
        own_cluster=own / max(1, sent),
        mixed_clusters=sum(1 for s in seconds if s > MIXED_SHARE) / max(1, len(seconds)),
        worst_second_need=max(seconds, default=0.0),
    )
