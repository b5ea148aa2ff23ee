"""`twinteller admin` commands for the clusters of unrecognised queries (README "Insights"):

    twinteller admin clusters [--members]          # tag, size, questions per day, suggested split
    twinteller admin split CLUSTER [KEY...] [--reason R]   # no KEY: the suggested split
    twinteller admin merge CLUSTER OTHER [--reason R]      # OTHER's questions join CLUSTER
    twinteller admin move KEY CLUSTER [--reason R]         # one question (its key: --members)
    twinteller admin dismiss CLUSTER [--reason R]          # noise: not proposed again
    twinteller admin cluster-rules                 # the corrections made, oldest first
    twinteller admin undo RULE                     # delete a correction

Corrections apply from the insights worker's next round; none changes the knowledge base
(`adopt` and `create-from-cluster` do, `propose` them where the role only proposes).
"""

from __future__ import annotations

import argparse
import datetime
from typing import Any

from twinteller.v1 import knowledge_pb2 as kpb
from twinteller.v1 import knowledge_pb2_grpc as kpb_grpc

COMMANDS = ("clusters", "split", "merge", "move", "dismiss", "cluster-rules", "undo")
BARS = " ▁▂▃▄▅▆▇█"


def add_parsers(sub: Any) -> None:
    sub.add_parser("clusters", help="unrecognised queries grouped by need").add_argument(
        "--members", action="store_true", help="every member with its key"
    )
    split = sub.add_parser("split", help="split a cluster: the suggested split, or the members named")
    split.add_argument("cluster")
    split.add_argument("keys", nargs="*", help="member keys to split off (none: the suggested split)")
    merge = sub.add_parser("merge", help="OTHER's members join CLUSTER")
    merge.add_argument("cluster")
    merge.add_argument("other")
    move = sub.add_parser("move", help="a member into another cluster")
    move.add_argument("key")
    move.add_argument("cluster")
    sub.add_parser("dismiss", help="a cluster as noise: not proposed again").add_argument("cluster")
    for parser in (split, merge, move, sub.choices["dismiss"]):
        parser.add_argument("--reason", default="")
    sub.add_parser("cluster-rules", help="the corrections made to the clusters")
    sub.add_parser("undo", help="delete a correction").add_argument("rule")


def sparkline(daily: list[kpb.DayCount]) -> str:
    top = max([d.count for d in daily] + [1])
    return "".join(BARS[round(d.count / top * (len(BARS) - 1))] for d in daily)


def _rule(rule: kpb.ClusterRule) -> str:
    when = datetime.datetime.fromtimestamp(rule.at, datetime.UTC).isoformat(timespec="seconds")
    what = {"merge": f" <- {rule.other_cluster_id}", "split": f" ({len(rule.member_keys)} split off)",
            "move": f" <- {', '.join(rule.member_keys)}"}.get(rule.kind, "")  # fmt: skip
    return f"{rule.id}  {rule.kind:8} {rule.cluster_id}{what}  by {rule.by} at {when}" + (
        f"  ({rule.reason})" if rule.reason else ""
    )


def run(args: argparse.Namespace, stub: kpb_grpc.KnowledgeStub, call: dict[str, Any]) -> None:
    if args.command == "clusters":
        for c in stub.ListClusters(kpb.ListClustersRequest(), **call).clusters:
            action = f"adopt into {c.suggested_faq}" if c.suggested_faq else f"new FAQ {c.proposed_id}"
            print(f"{c.id}  {c.size:4} queries  {c.tag or c.label!r:32} [{c.language}] {sparkline(list(c.daily))} "
                  f"-> {action}")  # fmt: skip
            if c.HasField("split"):
                print(f"    split suggested: {c.split.tag!r} ({len(c.split.member_keys)}) from {c.split.rest_tag!r}")
            for m in c.members if args.members else []:
                print(f"    {m.key}  {m.text}")
            for text in [] if args.members else c.representatives:
                print(f"    {text}")
    elif args.command == "split":
        request = kpb.SplitClusterRequest(cluster_id=args.cluster, member_keys=args.keys, reason=args.reason)
        print(_rule(stub.SplitCluster(request, **call)))
    elif args.command == "merge":
        merging = kpb.MergeClustersRequest(cluster_id=args.cluster, other_cluster_id=args.other, reason=args.reason)
        print(_rule(stub.MergeClusters(merging, **call)))
    elif args.command == "move":
        moving = kpb.MoveClusterMemberRequest(member_key=args.key, cluster_id=args.cluster, reason=args.reason)
        print(_rule(stub.MoveClusterMember(moving, **call)))
    elif args.command == "dismiss":
        dismissal = kpb.DismissClusterRequest(cluster_id=args.cluster, reason=args.reason)
        print(_rule(stub.DismissCluster(dismissal, **call)))
    elif args.command == "cluster-rules":
        for rule in stub.ListClusterRules(kpb.ListClusterRulesRequest(), **call).rules:
            print(_rule(rule))
    else:
        stub.DeleteClusterRule(kpb.DeleteClusterRuleRequest(id=args.rule), **call)
        print(f"{args.rule} deleted; the clusters follow within a round")
