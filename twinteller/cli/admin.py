"""The knowledge managers' command line, over the admin `Knowledge` gRPC API.

    twinteller admin list [--tag T]                 # id, questions, languages answered in, title
    twinteller admin get ID
    twinteller admin put FILE.json          # one entry, the JSON of `get`
    twinteller admin delete ID
    twinteller admin import FILE [--format csv|json] [--dry-run] [--replace]
    twinteller admin import PATH [--format rasa|dialogflow-es|dialogflow-cx|lex-v2|qna|aiml]
                                 [--dry-run] [--overwrite]   # another platform's export (a file,
                                 # folder or zip; the format is detected when not given) and a report
    twinteller admin export [--format csv|json] [-o FILE]
    twinteller admin audit [--limit N]
    twinteller admin lexicon [list | put TERM CANONICAL | delete TERM]
    twinteller admin train [--wait] [--no-generalisation]  # a new model version
    twinteller admin deploy VERSION [--wait] [--canary PERCENT [--min-turns N --margin M --z Z]]
                                            # conversation tests first (README "Releases")
    twinteller admin rollback [--wait]
    twinteller admin job ID
    twinteller admin versions
    twinteller admin clusters [--members]   # unrecognised queries grouped by need
    twinteller admin split | merge | move | dismiss | cluster-rules | undo ...
                                            # corrections to them (twinteller/cli/clusters.py)
    twinteller admin adopt CLUSTER FAQ_ID   # its queries become FAQ_ID's training questions
    twinteller admin create-from-cluster CLUSTER NEW.json  # a new entry from its queries
    twinteller admin trends                 # intents and clusters on the rise
    twinteller admin satisfaction           # feedback per intent, channel, version, day
    twinteller admin migration ...          # replace the legacy bot (twinteller/cli/migration.py)
    twinteller admin test ... | canary | promote | abort   # releases (twinteller/cli/release.py)
    twinteller admin propose put FILE.json | delete ID | import FILE [--replace] |
                                       lexicon-put TERM CANONICAL | lexicon-delete TERM | deploy VERSION |
                                       adopt CLUSTER FAQ | create-from-cluster CLUSTER FILE.json |
                                       tests FILE | delete-tests NAME
                                       [--reason TEXT]   # an editor's change, applied once approved
                                       (deploy: [--canary PERCENT] [--override-reason TEXT] to pass
                                        failing conversation tests)
    twinteller admin proposals [--pending]
    twinteller admin approve ID [--comment TEXT]   # an approver; not the proposer
    twinteller admin reject ID [--comment TEXT]

The router is `--target` (default: both local routers) and the token `--token` or
TWINTELLER_ADMIN_TOKEN (`make run` prints the local one). Exit status: 0 done, 1 refused
(the message says why, e.g. which rows of an import are wrong), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format

from twinteller import client
from twinteller.cli import clusters, migration, platforms, release
from twinteller.config import add_transport_arguments, transport_from_arguments
from twinteller.platforms import archive
from twinteller.platforms.mapping import PLATFORMS
from twinteller.v1 import knowledge_pb2 as kpb
from twinteller.v1 import knowledge_pb2_grpc as kpb_grpc
from twinteller.v1 import migration_pb2_grpc as mpb_grpc

FORMATS: dict[str, kpb.Format] = {"csv": kpb.CSV, "json": kpb.JSON}


def _format(name: str | None, path: Path | None = None) -> kpb.Format:
    if name is None and path is not None:
        name = path.suffix.lstrip(".").lower()
    if name not in FORMATS:
        raise SystemExit(f"format: csv or json (got {name!r}); give --format")
    return FORMATS[name]


def _show(message: object) -> None:
    print(json_format.MessageToJson(message, preserving_proto_field_name=True, ensure_ascii=False, indent=1))  # type: ignore[arg-type]


def run(args: argparse.Namespace, stub: kpb_grpc.KnowledgeStub, metadata: list[tuple[str, str]]) -> None:
    call = {"metadata": metadata, "timeout": args.timeout}
    if args.command == "list":
        for faq in stub.ListFaqs(kpb.ListFaqsRequest(tag=args.tag or ""), **call).faqs:
            state = "" if faq.enabled else "  (disabled)"
            # The languages it answers in itself; others fall back (README "Languages").
            spoken = ",".join(["en", *sorted(language for language, t in faq.translations.items() if t.answer)])
            print(f"{faq.id:45} {len(faq.questions):5} questions  {spoken:17} {faq.title}{state}")
    elif args.command == "get":
        _show(stub.GetFaq(kpb.GetFaqRequest(id=args.id), **call))
    elif args.command == "put":
        faq = json_format.Parse(Path(args.file).read_text(encoding="utf-8"), kpb.Faq())
        _show(stub.PutFaq(kpb.PutFaqRequest(faq=faq), **call))
    elif args.command == "delete":
        stub.DeleteFaq(kpb.DeleteFaqRequest(id=args.id), **call)
        print(f"deleted {args.id}")
    elif args.command == "import" and not _own_format(args.format, Path(args.file)):
        platforms.run_import(args, stub, call)
    elif args.command == "import":
        path = Path(args.file)
        request = kpb.ImportRequest(
            format=_format(args.format, path), content=path.read_bytes(), dry_run=args.dry_run, replace=args.replace
        )
        reply = stub.Import(request, **call)
        for error in reply.errors:
            print(f"row {error.row} ({error.id or 'no id'}): {error.reason}")
        verb, gone = ("would import", "would delete") if args.dry_run else ("imported", "deleted")
        print(f"{verb} {len(reply.ids)} entries" + (f", {len(reply.errors)} rows wrong" if reply.errors else ""))
        if reply.deleted:
            print(f"{gone} {len(reply.deleted)} entries not in the file: {', '.join(reply.deleted)}")
        if reply.errors:
            raise SystemExit(1)
    elif args.command == "export":
        content = stub.Export(kpb.ExportRequest(format=_format(args.format or "csv")), **call).content
        if args.output:
            Path(args.output).write_bytes(content)
        else:
            sys.stdout.buffer.write(content)
    elif args.command == "lexicon":
        if args.action == "put" and len(args.words) == 2:
            term, canonical = args.words
            stub.PutLexiconEntry(
                kpb.PutLexiconEntryRequest(entry=kpb.LexiconEntry(term=term, canonical=canonical)), **call
            )
            print(f"{term} -> {canonical}")
        elif args.action == "delete" and len(args.words) == 1:
            stub.DeleteLexiconEntry(kpb.DeleteLexiconEntryRequest(term=args.words[0]), **call)
            print(f"deleted {args.words[0]}")
        elif args.action == "list" and not args.words:
            for entry in stub.ListLexicon(kpb.ListLexiconRequest(), **call).entries:
                print(f"{entry.term} -> {entry.canonical}")
        else:
            raise SystemExit("lexicon list | lexicon put TERM CANONICAL | lexicon delete TERM")
    elif args.command in ("train", "deploy", "rollback"):
        requests = {
            "train": lambda: stub.Train(kpb.TrainRequest(no_generalisation=args.no_generalisation), **call),
            "deploy": lambda: stub.Deploy(_deploy_request(args, args.version), **call),
            "rollback": lambda: stub.Rollback(kpb.RollbackRequest(), **call),
        }
        if args.command == "deploy":  # the conversation tests run first: minutes, not seconds
            call["timeout"] = max(args.timeout, release.RUN_TIMEOUT_S)
        job = requests[args.command]()
        while args.wait and job.state in (kpb.QUEUED, kpb.RUNNING):
            time.sleep(0.5)
            job = stub.GetJob(kpb.GetJobRequest(id=job.id), **call)
        _show(job)
        if job.state == kpb.FAILED:
            raise SystemExit(1)
    elif args.command == "job":
        _show(stub.GetJob(kpb.GetJobRequest(id=args.id), **call))
    elif args.command == "versions":
        for v in stub.ListVersions(kpb.ListVersionsRequest(), **call).versions:
            mark = "active" if v.active else "previous" if v.previous else ""
            print(f"{v.version:>5} {mark:9} {v.report}")
    elif args.command == "audit":
        for entry in stub.ListAudit(kpb.ListAuditRequest(limit=args.limit), **call).entries:
            ids = ", ".join(entry.ids[:5]) + (f" (+{len(entry.ids) - 5})" if len(entry.ids) > 5 else "")
            print(json.dumps({"at": entry.at, "actor": entry.actor, "action": entry.action, "ids": ids}))
    elif args.command in ("propose", "proposals", "approve", "reject"):
        proposals(args, stub, call)
    elif args.command in ("test", "canary", "promote", "abort"):
        release.run(args, stub, call)
    elif args.command in clusters.COMMANDS:
        clusters.run(args, stub, call)
    else:
        insights(args, stub, call)


def _own_format(name: str | None, path: Path) -> bool:
    """twinteller's own CSV/JSON (else another platform's export): named so, or a .csv file,
    or a .json file holding {"faqs": [...]}."""
    if name is not None:
        return name in FORMATS
    if not path.is_file() or path.suffix.lower() not in (".csv", ".json"):
        return False
    if path.suffix.lower() == ".csv":
        return True
    try:
        return "faqs" in json.loads(path.read_bytes().decode("utf-8-sig"))
    except (ValueError, TypeError):
        return True  # twinteller's own import names what is wrong with it


def _deploy_request(args: argparse.Namespace, version: str) -> kpb.DeployRequest:
    thresholds = kpb.CanaryThresholds(min_turns=args.min_turns or 0, margin=args.margin or 0.0, z=args.z or 0.0)
    return kpb.DeployRequest(version=version, canary_percent=args.canary or 0, thresholds=thresholds,
                             override_reason=getattr(args, "override_reason", ""))  # fmt: skip


def _change(args: argparse.Namespace) -> kpb.ProposeChangeRequest:
    what, words = args.what, args.words
    if what == "put" and len(words) == 1:
        faq = json_format.Parse(Path(words[0]).read_text(encoding="utf-8"), kpb.Faq())
        return kpb.ProposeChangeRequest(put_faq=kpb.PutFaqRequest(faq=faq))
    if what == "delete" and len(words) == 1:
        return kpb.ProposeChangeRequest(delete_faq=kpb.DeleteFaqRequest(id=words[0]))
    if what == "import" and len(words) == 1 and not _own_format(args.format, Path(words[0])):
        content, name = archive.pack(Path(words[0]))
        request = kpb.ImportPlatformRequest(
            content=content, filename=name, platform=args.format or "", overwrite=args.overwrite
        )
        return kpb.ProposeChangeRequest(import_platform=request)
    if what == "import" and len(words) == 1:
        path = Path(words[0])
        request = kpb.ImportRequest(format=_format(args.format, path), content=path.read_bytes(), replace=args.replace)
        return kpb.ProposeChangeRequest(import_file=request)
    if what == "lexicon-put" and len(words) == 2:
        entry = kpb.LexiconEntry(term=words[0], canonical=words[1])
        return kpb.ProposeChangeRequest(put_lexicon_entry=kpb.PutLexiconEntryRequest(entry=entry))
    if what == "lexicon-delete" and len(words) == 1:
        return kpb.ProposeChangeRequest(delete_lexicon_entry=kpb.DeleteLexiconEntryRequest(term=words[0]))
    if what == "deploy" and len(words) == 1:
        return kpb.ProposeChangeRequest(deploy=_deploy_request(args, words[0]))
    if what == "tests" and len(words) == 1:
        path = Path(words[0])
        suites = kpb.PutTestSuitesRequest(content=path.read_bytes(), filename=path.name)
        return kpb.ProposeChangeRequest(put_test_suites=suites)
    if what == "delete-tests" and len(words) == 1:
        return kpb.ProposeChangeRequest(delete_test_suite=kpb.DeleteTestSuiteRequest(name=words[0]))
    if what == "adopt" and len(words) == 2:
        return kpb.ProposeChangeRequest(adopt_cluster=kpb.AdoptClusterRequest(cluster_id=words[0], faq_id=words[1]))
    if what == "create-from-cluster" and len(words) == 2:
        faq = json_format.Parse(Path(words[1]).read_text(encoding="utf-8"), kpb.Faq())
        creation = kpb.CreateFaqFromClusterRequest(cluster_id=words[0], faq=faq)
        return kpb.ProposeChangeRequest(create_faq_from_cluster=creation)
    raise SystemExit(
        "propose put FILE | delete ID | import FILE | lexicon-put TERM CANONICAL | lexicon-delete TERM | deploy V"
        " | adopt CLUSTER FAQ | create-from-cluster CLUSTER FILE | tests FILE | delete-tests NAME"
    )


def _show_proposal(p: kpb.Proposal) -> None:
    state = kpb.ProposalState.Name(p.state)
    decided = f", {state.lower()} by {p.decided_by}" if p.decided_by else ""
    print(f"{p.id}  {state:11} {p.summary}  (proposed by {p.proposed_by}{decided})")
    for line in (p.reason and f"reason: {p.reason}", p.comment and f"comment: {p.comment}", p.result):
        if line:
            print(f"    {line}")


def proposals(args: argparse.Namespace, stub: kpb_grpc.KnowledgeStub, call: dict[str, Any]) -> None:
    if args.command == "propose":
        change = _change(args)
        change.reason = args.reason
        _show_proposal(stub.ProposeChange(change, **call))
    elif args.command == "proposals":
        for p in stub.ListProposals(kpb.ListProposalsRequest(pending_only=args.pending), **call).proposals:
            _show_proposal(p)
    else:
        decide = stub.ApproveProposal if args.command == "approve" else stub.RejectProposal
        _show_proposal(decide(kpb.DecideProposalRequest(id=args.id, comment=args.comment), **call))


def insights(args: argparse.Namespace, stub: kpb_grpc.KnowledgeStub, call: dict[str, Any]) -> None:
    if args.command == "adopt":
        request = kpb.AdoptClusterRequest(cluster_id=args.cluster, faq_id=args.faq)
        faq = stub.AdoptCluster(request, **call)
        print(f"{faq.id} now has {len(faq.questions)} questions; train and deploy to use them")
    elif args.command == "create-from-cluster":
        faq = json_format.Parse(Path(args.file).read_text(encoding="utf-8"), kpb.Faq())
        request = kpb.CreateFaqFromClusterRequest(cluster_id=args.cluster, faq=faq)
        _show(stub.CreateFaqFromCluster(request, **call))
    elif args.command == "trends":
        for t in stub.ListTrends(kpb.ListTrendsRequest(), **call).trends:
            print(f"{t.kind:8} {t.label:45} {t.window_count:6} now, {t.expected:8.1f} expected  (score {t.score:.1f})")
    elif args.command == "satisfaction":
        for r in stub.GetSatisfaction(kpb.GetSatisfactionRequest(), **call).ratings:
            print(f"{r.by:14} {r.key or '-':40} {r.count:6} ratings  mean {r.mean:.2f}  satisfied {r.satisfied:.0%}")


def _connected(prog: str, description: str | None) -> argparse.ArgumentParser:
    """A parser with the options that say which routers to reach and as whom."""
    p = argparse.ArgumentParser(
        prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--target", default="127.0.0.1:50051,127.0.0.1:50052", help="router(s), comma-separated")
    p.add_argument("--token", default=os.environ.get("TWINTELLER_ADMIN_TOKEN", ""), help="admin token")
    p.add_argument("--timeout", type=float, default=30.0)
    add_transport_arguments(p)
    return p


def _canary_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--canary", type=int, help="deploy: to this share (1..99) of new conversations; again to change it")
    p.add_argument("--min-turns", type=int, help="canary: turns of each version before the guard judges")
    p.add_argument("--margin", type=float, help="canary: a bad-outcome rate above the active's by more than this")
    p.add_argument("--z", type=float, help="canary: and by a z statistic of at least this")


def parser() -> argparse.ArgumentParser:
    p = _connected("twinteller admin", __doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list").add_argument("--tag")
    sub.add_parser("get").add_argument("id")
    sub.add_parser("put").add_argument("file")
    sub.add_parser("delete").add_argument("id")
    imp = sub.add_parser("import")
    imp.add_argument("file")
    imp.add_argument("--format", choices=[*sorted(FORMATS), *PLATFORMS])
    imp.add_argument("--dry-run", action="store_true")
    imp.add_argument("--replace", action="store_true", help="delete the entries the file does not have")
    imp.add_argument("--overwrite", action="store_true", help="platforms: replace entries whose ids collide")
    imp.add_argument("--report", help="platforms: also write the report as JSON here")
    exp = sub.add_parser("export")
    exp.add_argument("--format", choices=sorted(FORMATS))
    exp.add_argument("-o", "--output")
    sub.add_parser("audit").add_argument("--limit", type=int, default=20)
    lexicon = sub.add_parser("lexicon")
    lexicon.add_argument("action", choices=["list", "put", "delete"], nargs="?", default="list")
    lexicon.add_argument("words", nargs="*", help="TERM CANONICAL for put, TERM for delete")
    for name in ("train", "deploy", "rollback"):
        job = sub.add_parser(name)
        if name == "deploy":
            job.add_argument("version")
            _canary_arguments(job)
        if name == "train":
            job.add_argument("--no-generalisation", action="store_true", help="without generated question variants")
        job.add_argument("--wait", action="store_true", help="until the job has finished")
    sub.add_parser("job").add_argument("id")
    sub.add_parser("versions")
    clusters.add_parsers(sub)
    adopt = sub.add_parser("adopt")
    adopt.add_argument("cluster")
    adopt.add_argument("faq")
    create = sub.add_parser("create-from-cluster")
    create.add_argument("cluster")
    create.add_argument("file", help="the new entry's JSON (id, title, answer); questions: the cluster's")
    sub.add_parser("trends")
    sub.add_parser("satisfaction")
    migration.add_parser(sub)
    release.add_parsers(sub)
    propose = sub.add_parser("propose", help="an editor's change, applied once a different approver accepts it")
    kinds = ["put", "delete", "import", "lexicon-put", "lexicon-delete", "deploy", "adopt", "create-from-cluster",
             "tests", "delete-tests"]  # fmt: skip
    propose.add_argument("what", choices=kinds)
    propose.add_argument(
        "words", nargs="+", help="FILE.json | ID | FILE | TERM CANONICAL | TERM | VERSION | CLUSTER FAQ | CLUSTER FILE"
    )
    propose.add_argument("--replace", action="store_true", help="import: the file becomes the whole base")
    propose.add_argument("--format", choices=[*sorted(FORMATS), *PLATFORMS], help="import: the file's format")
    propose.add_argument("--overwrite", action="store_true", help="import of a platform: replace colliding entries")
    propose.add_argument("--reason", default="", help="for the approver and the audit trail")
    _canary_arguments(propose)
    propose.add_argument("--override-reason", default="", help="deploy: although the conversation tests refuse it")
    sub.add_parser("proposals").add_argument("--pending", action="store_true")
    for name in ("approve", "reject"):
        decide = sub.add_parser(name)
        decide.add_argument("id")
        decide.add_argument("--comment", default="")
    return p


def _call(args: argparse.Namespace) -> None:
    if not args.token:
        raise SystemExit("no admin token: give --token or set TWINTELLER_ADMIN_TOKEN")
    with client.channel(args.target.split(","), transport_from_arguments(args)) as channel:
        metadata = [("authorization", f"Bearer {args.token}")]
        try:
            if args.command == "migration":
                migration.run(args, mpb_grpc.MigrationStub(channel), {"metadata": metadata, "timeout": args.timeout})
            else:
                run(args, kpb_grpc.KnowledgeStub(channel), metadata)
        except grpc.RpcError as e:
            print(f"{e.code().name}: {e.details()}", file=sys.stderr)  # type: ignore[attr-defined]
            raise SystemExit(1) from None


def main(argv: list[str] | None = None) -> None:
    _call(parser().parse_args(argv))


def migration_main(argv: list[str] | None = None) -> None:
    """`twinteller migration ...`: the same as `twinteller admin migration ...`."""
    p = _connected("twinteller migration", migration.__doc__)
    migration.add_actions(p)
    _call(p.parse_args(argv, argparse.Namespace(command="migration")))
