"""`twinteller migration ...` (or `twinteller admin migration ...`): replacing the legacy bot from the command
line, over the admin `Migration` API (README, "Replacing the legacy bot").

    migration import RULES.json [--logs LOG.jsonl] [--dry-run]   # rules -> FAQ entries, with the report
    migration replay LOG.jsonl                                  # the log through both systems: differences
    migration status
    migration set [--enable | --disable] [--percent N] [--reason TEXT] [--fallback-margin F]
                  [--error-margin F] [--window-s S] [--min-turns N]
    migration report [--window-s S]                             # live shadow comparison
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from twinteller.v1 import migration_pb2 as mpb
from twinteller.v1 import migration_pb2_grpc as mpb_grpc


def add_parser(sub: Any) -> None:
    """`admin migration ACTION`."""
    add_actions(sub.add_parser("migration", help="replace the legacy bot: import, replay, shadow, cutover"))


def add_actions(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    imported = actions.add_parser("import", help="the legacy rule file -> FAQ entries")
    imported.add_argument("rules")
    imported.add_argument("--logs", help="the legacy conversation log (JSON lines)")
    imported.add_argument("--dry-run", action="store_true")
    actions.add_parser("replay", help="a legacy log through both systems").add_argument("logs")
    actions.add_parser("status")
    update = actions.add_parser("set", help="change the cutover (audited)")
    switch = update.add_mutually_exclusive_group()
    switch.add_argument("--enable", action="store_true", help="shadow every turn (ask both systems)")
    switch.add_argument("--disable", action="store_true", help="twinteller alone; the legacy is not asked")
    update.add_argument("--percent", type=int, help="share of new conversations twinteller serves, 0..100")
    update.add_argument("--reason", default="", help="why, for the audit trail")
    update.add_argument("--fallback-margin", type=float)
    update.add_argument("--error-margin", type=float)
    update.add_argument("--window-s", type=int)
    update.add_argument("--min-turns", type=int)
    actions.add_parser("report", help="the live shadow comparison").add_argument("--window-s", type=int, default=0)


def _stats(name: str, s: mpb.SystemStats) -> str:
    return (
        f"{name:11} asked {s.asked:6}  served {s.served:6}  fallback {s.fallback_rate:6.1%}  "
        f"errors {s.error_rate:6.1%}  p50 {s.p50_ms:7.1f} ms  p99 {s.p99_ms:7.1f} ms"
    )


def _differences(differences: Any) -> None:
    for d in differences:
        rule, intent = d.legacy_rule or "(no rule)", d.twinteller_intent or "-"
        print(f"  {d.count:5}  legacy {rule:18} twinteller {d.twinteller_action} {intent}")
        for text in d.examples:
            print(f"           {text!r}")


def _show_cutover(c: mpb.Cutover) -> None:
    state = "enabled" if c.enabled else "disabled"
    print(f"cutover {state}: twinteller serves {c.twinteller_percent}% of new conversations (revision {c.revision})")
    print(f"  guard: rollback when twinteller's fallback rate exceeds the legacy's by {c.fallback_margin:.0%} or its")
    print(f"  error rate by {c.error_margin:.0%}, over up to {c.window_s} s, after {c.min_turns} turns")
    if c.updated_by:
        print(f"  last changed by {c.updated_by}: {c.reason or '(no reason given)'}")


def run(args: argparse.Namespace, stub: mpb_grpc.MigrationStub, call: dict[str, Any]) -> None:
    if args.action == "import":
        logs = Path(args.logs).read_bytes() if args.logs else b""
        request = mpb.ImportLegacyRulesRequest(rules=Path(args.rules).read_bytes(), logs=logs, dry_run=args.dry_run)
        reply = stub.ImportLegacyRules(request, **call)
        for m in reply.migrated:
            note = (
                f"overlaps {m.overlaps}: kept disabled"
                if m.overlaps
                else "catch-all: kept disabled"
                if m.catch_all
                else ""
            )
            state = "enabled" if m.enabled else "disabled"
            counts = f"{m.pattern_questions:3} + {m.log_questions:3} questions"
            print(f"{m.rule:20} -> {m.faq_id:28} {state:8} {counts}  {note}")
        for p in reply.problems:
            print(f"{p.rule or '?':20} NOT MIGRATED (rule #{p.index}): {p.reason}")
        for problem in reply.log_problems:
            print(f"log {problem}")
        verb = "would migrate" if args.dry_run else "migrated"
        log = f"log: {reply.log_lines} lines, {reply.log_lines_unused} unused"
        print(f"{verb} {len(reply.migrated)} rules, {len(reply.problems)} not; {log}")
        print("train and deploy to use the new entries" if not args.dry_run else "dry run: nothing written")
    elif args.action == "replay":
        report = stub.ReplayLegacyLog(mpb.ReplayLegacyLogRequest(logs=Path(args.logs).read_bytes()), **call)
        print(
            f"{report.turns} turns replayed: agreement {report.agreement:.1%} ({report.agreed}), failed {report.failed}"
        )
        print(f"the legacy bot now answers {report.legacy_changed} of them unlike its log")
        _differences(report.differences)
    elif args.action == "status":
        _show_cutover(stub.GetCutover(mpb.GetCutoverRequest(), **call))
    elif args.action == "set":
        current = stub.GetCutover(mpb.GetCutoverRequest(), **call)
        if args.enable or args.disable:
            current.enabled = args.enable
        changes = {
            "twinteller_percent": args.percent,
            "fallback_margin": args.fallback_margin,
            "error_margin": args.error_margin,
            "window_s": args.window_s,
            "min_turns": args.min_turns,
        }
        for name, value in changes.items():
            if value is not None:
                setattr(current, name, value)
        current.reason = args.reason
        _show_cutover(stub.UpdateCutover(mpb.UpdateCutoverRequest(cutover=current), **call))
    else:  # report
        r = stub.GetShadowReport(mpb.GetShadowReportRequest(window_s=args.window_s), **call)
        print(f"{r.compared} turns compared: agreement {r.agreement:.1%} ({r.agreed})")
        print(_stats("twinteller", r.twinteller))
        print(_stats("legacy", r.legacy))
        _differences(r.differences)
