"""`twinteller admin test ...` and the canary's commands (README "Releases"):

    twinteller admin test list | show NAME | export [NAME...] [--format yaml|json] [-o FILE]
    twinteller admin test import FILE [--dry-run]    # YAML/JSON suites, all or none
    twinteller admin test delete NAME
    twinteller admin test capture SUITE (--session SID | --cluster C --intent FAQ | --text T --intent FAQ)
                                  [--name CASE] [--propose [--reason R]]
    twinteller admin test run [--suite S]... [--version V] [--json] [--junit FILE] [-v]
    twinteller admin canary                          # the canary and per-version figures
    twinteller admin promote | abort [--reason R]

`test run` exits 1 when a case fails; `--json` prints twinteller/release/results.py's
RunResult.to_dict, `--junit FILE` writes JUnit XML for a bank's CI to show.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from twinteller.release.results import RunResult, junit_xml, render_text
from twinteller.v1 import knowledge_pb2 as kpb
from twinteller.v1 import knowledge_pb2_grpc as kpb_grpc

# A run may first load a version in every zone (minutes on a cold machine).
RUN_TIMEOUT_S = 600.0


def add_parsers(sub: Any) -> None:
    tests = sub.add_parser("test", help="conversation test suites: import, list, capture, run")
    actions = tests.add_subparsers(dest="action", required=True)
    actions.add_parser("list")
    actions.add_parser("show").add_argument("name")
    exported = actions.add_parser("export")
    exported.add_argument("names", nargs="*")
    exported.add_argument("--format", choices=["yaml", "json"], default="yaml")
    exported.add_argument("-o", "--output")
    imported = actions.add_parser("import")
    imported.add_argument("file")
    imported.add_argument("--dry-run", action="store_true")
    actions.add_parser("delete").add_argument("name")
    capture = actions.add_parser("capture", help="a case from real traffic")
    capture.add_argument("suite")
    source = capture.add_mutually_exclusive_group(required=True)
    source.add_argument("--session", help="a conversation `locate` found: its turns as they were answered")
    source.add_argument("--cluster", help="an unrecognised-query cluster: each query must give --intent")
    source.add_argument("--text", help="words (e.g. a shadow-report difference's) that must give --intent")
    capture.add_argument("--intent", default="", help="the FAQ id the words must be answered with")
    capture.add_argument("--name", default="", help="the case's name")
    capture.add_argument("--propose", action="store_true", help="as a proposal an approver applies")
    capture.add_argument("--reason", default="")
    ran = actions.add_parser("run", help="the suites through a router, pinned to a version")
    ran.add_argument("--suite", action="append", default=[], help="a suite (again for more); default: all")
    ran.add_argument("--version", default="", help="a trained version; default: the active one")
    ran.add_argument("--json", action="store_true", help="the result as JSON")
    ran.add_argument("--junit", help="also write a JUnit XML report here")
    ran.add_argument("-v", "--verbose", action="store_true", help="every turn, not only failing ones")
    sub.add_parser("canary", help="the canary and per-version figures")
    sub.add_parser("promote", help="the canary becomes the active version")
    sub.add_parser("abort", help="stop the canary: its conversations go back").add_argument("--reason", default="")


def _suite_line(s: kpb.TestSuite) -> str:
    return f"{s.name:30} {s.cases:4} cases  revision {s.revision}  by {s.updated_by or '-'}  {s.description}"


def _tests(args: argparse.Namespace, stub: kpb_grpc.KnowledgeStub, call: dict[str, Any]) -> None:
    if args.action == "list":
        for suite in stub.ListTestSuites(kpb.ListTestSuitesRequest(), **call).suites:
            print(_suite_line(suite))
    elif args.action == "show":
        print(stub.ExportTestSuites(kpb.ExportTestSuitesRequest(names=[args.name]), **call).content.decode(), end="")
    elif args.action == "export":
        request = kpb.ExportTestSuitesRequest(names=args.names, format=args.format)
        content = stub.ExportTestSuites(request, **call).content
        if args.output:
            Path(args.output).write_bytes(content)
        else:
            sys.stdout.write(content.decode())
    elif args.action == "import":
        path = Path(args.file)
        request = kpb.PutTestSuitesRequest(content=path.read_bytes(), filename=path.name, dry_run=args.dry_run)
        for suite in stub.PutTestSuites(request, **call).suites:
            print(("would write " if args.dry_run else "wrote ") + _suite_line(suite))
    elif args.action == "delete":
        stub.DeleteTestSuite(kpb.DeleteTestSuiteRequest(name=args.name), **call)
        print(f"deleted {args.name}")
    elif args.action == "capture":
        _capture(args, stub, call)
    else:
        _run(args, stub, call)


def _capture(args: argparse.Namespace, stub: kpb_grpc.KnowledgeStub, call: dict[str, Any]) -> None:
    request = kpb.CaptureTestCaseRequest(suite=args.suite, case_name=args.name, intent=args.intent,
                                         dry_run=args.propose)  # fmt: skip
    if args.session:
        request.session_id = args.session
    elif args.cluster:
        request.cluster_id = args.cluster
    else:
        request.text = args.text
    suite = stub.CaptureTestCase(request, **call)
    if not args.propose:
        print(f"wrote {_suite_line(suite)}")
        return
    change = kpb.ProposeChangeRequest(
        put_test_suites=kpb.PutTestSuitesRequest(content=suite.content.encode(), filename=f"{suite.name}.yaml"),
        reason=args.reason,
    )
    proposal = stub.ProposeChange(change, **call)
    print(f"{proposal.id}  PENDING  {proposal.summary}")


def _run(args: argparse.Namespace, stub: kpb_grpc.KnowledgeStub, call: dict[str, Any]) -> None:
    request = kpb.RunTestsRequest(suites=args.suite, version=args.version)
    response = stub.RunTests(request, **{**call, "timeout": max(call["timeout"], RUN_TIMEOUT_S)})
    result = RunResult.from_dict(json.loads(response.result))
    if args.junit:
        Path(args.junit).write_bytes(junit_xml(result))
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
    else:
        print(render_text(result, verbose=args.verbose))
    if result.passed < result.cases:
        raise SystemExit(1)


def _figures(f: kpb.VersionFigures) -> str:
    return (
        f"version {f.version:>5}  {f.turns:7} turns  fallback {f.fallback_rate:6.1%}  clarify {f.clarify_rate:6.1%}"
        f"  handoff {f.handoff_rate:6.1%}  asked again {f.rephrase_rate:6.1%}  errors {f.error_rate:6.1%}"
        f"  low ratings {f.low_rating_rate:6.1%} of {f.ratings}  p50 {f.p50_ms:6.1f} ms  p99 {f.p99_ms:6.1f} ms"
    )


def show_release(release: kpb.Release) -> None:
    print(f"active version {release.active_version}")
    if release.HasField("canary"):
        c = release.canary
        print(f"canary: version {c.version} at {c.percent}% beside {c.baseline}: {c.state} (by {c.updated_by})")
        if c.reason:
            print(f"    {c.reason}")
    for figures in release.versions:
        print(_figures(figures))


def run(args: argparse.Namespace, stub: kpb_grpc.KnowledgeStub, call: dict[str, Any]) -> None:
    """The commands of this module (`args.command` is test, canary, promote or abort)."""
    if args.command == "test":
        _tests(args, stub, call)
    elif args.command == "canary":
        show_release(stub.GetRelease(kpb.GetReleaseRequest(), **call))
    elif args.command == "promote":
        show_release(stub.PromoteCanary(kpb.PromoteCanaryRequest(), **call))
    else:
        show_release(stub.AbortCanary(kpb.AbortCanaryRequest(reason=args.reason), **call))
