"""`twinteller admin import PATH [--format PLATFORM]`: another chatbot platform's export
(README "Moving in"), packed into one zip here, converted and written by the router, and
the report printed: what the export has and what came across, per kind, and every thing
that did not, with where it appeared and why."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from twinteller.platforms import archive, importers
from twinteller.v1 import knowledge_pb2 as kpb
from twinteller.v1 import knowledge_pb2_grpc as kpb_grpc


def print_report(report: dict[str, Any]) -> None:
    how = "detected" if report["detected"] else "as named"
    print(f"platform: {report['platform']} ({how})")
    print(f"{'':24} {'present':>8} {'imported':>9}")
    for kind, counts in report["counts"].items():
        print(f"{kind:24} {counts['present']:8} {counts['imported']:9}")
    if report["omitted"]:
        print(f"not imported ({len(report['omitted'])}):")
        for item in report["omitted"]:
            print(f"  {item['where']}: {item['what']} -- {item['reason']}")


def run_import(args: argparse.Namespace, stub: kpb_grpc.KnowledgeStub, call: dict[str, Any]) -> None:
    content, name = archive.pack(Path(args.file))
    request = kpb.ImportPlatformRequest(
        content=content, filename=name, platform=args.format or "", dry_run=args.dry_run, overwrite=args.overwrite
    )
    reply = stub.ImportPlatform(request, **call)
    report = json.loads(reply.report)
    if args.report:
        Path(args.report).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print_report(report)
    verb = "would write" if args.dry_run else "wrote"
    print(f"{verb} {len(reply.faq_ids)} entries and {reply.lexicon_entries} lexicon terms")
    if reply.updated:
        print(f"updating {len(reply.updated)} entries an earlier import made: {', '.join(reply.updated)}")
    if reply.collisions:
        what = "overwritten" if args.overwrite else "in the way (the import is refused without --overwrite)"
        print(f"{len(reply.collisions)} collide with existing entries, {what}: {', '.join(reply.collisions)}")


SAMPLES = Path(__file__).resolve().parents[1] / "data" / "platform_samples"


def main(argv: list[str] | None = None) -> None:
    """`twinteller import-report [PATH ...]`: convert exports here, without a cluster, and
    print each one's report (default: the sample export of every platform, as `make eval`
    shows). Exit status 1 if one cannot be read."""
    parser = argparse.ArgumentParser(prog="twinteller import-report", description=main.__doc__)
    parser.add_argument("paths", nargs="*", help="exports (file, folder or zip); default: the samples")
    parser.add_argument("--format", default="", help="the platform, when detection should not decide")
    args = parser.parse_args(argv)
    paths = [Path(p) for p in args.paths] or sorted(p for p in SAMPLES.iterdir() if p.is_dir())
    failed = False
    for path in paths:
        print(f"== {path}")
        try:
            content, name = archive.pack(path)
            converted = importers.convert(archive.unpack(content, name), args.format)
        except Exception as e:  # one unreadable export must not hide the others' reports
            print(f"cannot import: {e}")
            failed = True
            continue
        print_report(converted.report.to_dict())
        print(f"{len(converted.faqs)} entries and {len(converted.lexicon)} lexicon terms\n")
    if failed:
        sys.exit(1)
