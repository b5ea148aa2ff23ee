"""The web console for knowledge managers and SREs: live traffic per zone, recognition rate,
trending issues, satisfaction, unrecognised-query clusters (add to an FAQ, or create one;
split, merge, move a question, dismiss, undo),
FAQ entries, model versions with train, deploy and rollback, the proposals waiting for an
approver, release safety (README "Releases"): the canary beside the active version with
each version's figures (promote, abort), and the conversation test suites (view, check a
file, change or delete one), and moving in from another platform (a Rasa, Dialogflow, Lex,
QnA Maker or AIML export: check it for the report of what would be imported, then import).

Maker-checker (README "Security model"): a change the user's role may only propose (an
editor adding a cluster to an FAQ, creating one, or deploying a version) is proposed
instead (a test suite file or its deletion, an import from another platform too), answered
`202 {"proposal": ...}`; an approver accepts or rejects it in the Proposals list, and only
then does it take effect.

A small aiohttp server: the page (console/static/) and a JSON API over the admin
`Knowledge` gRPC API of the routers. It holds no credentials of its own: the page sends the
user's admin token (`Authorization: Bearer ...`) with every call and the console passes it
on, so the routers authenticate and audit every change; without one, every call is 401.

    python -m console --listen 127.0.0.1:8080 --target 127.0.0.1:50051,127.0.0.1:50052
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from aiohttp import web
from google.protobuf import json_format
from google.protobuf.message import Message

from twinteller import client
from twinteller.config import console_config
from twinteller.release.canary import ABORTED, GUARD_ACTOR, RUNNING
from twinteller.tls import Tls
from twinteller.v1 import knowledge_pb2 as kpb
from twinteller.v1 import knowledge_pb2_grpc as kpb_grpc

log = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")
MAX_BODY = 64 * 1024
# A test suite file may have up to 2 MB (twinteller/release/suites.py), escaped in JSON.
MAX_SUITES_BODY = 5 * 1024 * 1024
# An export from another platform (a zip, or one file) may have up to 20 MiB, base64 in JSON.
MAX_EXPORT = 20 * 1024 * 1024
MAX_PLATFORM_BODY = (MAX_EXPORT + 2) // 3 * 4 + 64 * 1024
HTTP_STATUS = {
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 412,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
}
Handler = Callable[[web.Request, kpb_grpc.KnowledgeStub, list[tuple[str, str]]], Awaitable[Any]]


@dataclass(frozen=True)
class Proposed:
    """A change made a proposal: it waits for an approver (HTTP 202)."""

    proposal: kpb.Proposal


async def direct_or_proposed(
    stub: kpb_grpc.KnowledgeStub,
    direct: Callable[..., Awaitable[Message]],
    metadata: list[tuple[str, str]],
    reason: object,
    *,
    timeout: float = 10,
    **change: Message,
) -> Message | Proposed:
    """The change (one ProposeChangeRequest field: its request) made with `direct` where
    the caller's role allows it, else proposed: the router refuses a direct change with
    PERMISSION_DENIED, and a proposal from a role that may not propose either (a viewer)
    the same way."""
    (request,) = change.values()
    try:
        return await direct(request, metadata=metadata, timeout=timeout)
    except grpc.aio.AioRpcError as e:
        if e.code() != grpc.StatusCode.PERMISSION_DENIED:
            raise
    proposal = kpb.ProposeChangeRequest(**change, reason=str(reason or ""))
    return Proposed(await stub.ProposeChange(proposal, metadata=metadata, timeout=timeout))


def as_json(message: Message) -> Any:
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def bad_request(error: str) -> web.HTTPBadRequest:
    """A 400 with the page's `{"error": ...}`."""
    return web.HTTPBadRequest(text=json.dumps({"error": error}), content_type="application/json")


def too_large(error: str, limit: int, size: int) -> web.HTTPRequestEntityTooLarge:
    """A 413 with the page's `{"error": ...}`."""
    return web.HTTPRequestEntityTooLarge(
        max_size=limit, actual_size=size, text=json.dumps({"error": error}), content_type="application/json"
    )


async def body(request: web.Request, limit: int = MAX_BODY) -> dict[str, Any]:
    if limit != MAX_BODY:
        request = request.clone(client_max_size=limit)
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise bad_request(f"body: not JSON ({e})") from None
    except web.HTTPRequestEntityTooLarge:
        raise too_large(f"body: more than {limit} bytes", limit, request.content_length or limit + 1) from None
    if not isinstance(data, dict):
        raise bad_request("body: a JSON object")
    return data


class Console:
    def __init__(self, targets: list[str], tls: Tls | None) -> None:
        self._channel = client.aio_channel(targets, tls)
        self._stub = kpb_grpc.KnowledgeStub(self._channel)

    def api(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        """Token from the request, gRPC errors as HTTP statuses with the router's message."""

        async def wrapped(request: web.Request) -> web.Response:
            token = request.headers.get("Authorization", "")
            # gRPC metadata is printable ASCII: anything else cannot be a token anyway.
            printable = token.isascii() and token.isprintable()
            if not printable or not token.startswith("Bearer ") or len(token) <= len("Bearer "):
                return web.json_response({"error": "sign in: an admin token is needed"}, status=401)
            try:
                result = await handler(request, self._stub, [("authorization", token)])
            except grpc.aio.AioRpcError as e:
                status = HTTP_STATUS.get(e.code(), 503)
                return web.json_response({"error": e.details(), "code": e.code().name}, status=status)
            if isinstance(result, Proposed):
                return web.json_response({"proposal": as_json(result.proposal)}, status=202)
            return web.json_response(as_json(result) if isinstance(result, Message) else result)

        return wrapped

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        get, post = web.get, web.post
        app.add_routes(
            [
                get("/", page),
                web.static("/static", STATIC),
                get("/api/overview", self.api(overview)),
                get("/api/faqs", self.api(lambda r, s, m: s.ListFaqs(kpb.ListFaqsRequest(), metadata=m, timeout=10))),
                get(
                    "/api/faqs/{id}",
                    self.api(
                        lambda r, s, m: s.GetFaq(kpb.GetFaqRequest(id=r.match_info["id"]), metadata=m, timeout=10)
                    ),
                ),
                post("/api/faqs/{id}", self.api(save_faq)),
                get(
                    "/api/clusters",
                    self.api(lambda r, s, m: s.ListClusters(kpb.ListClustersRequest(), metadata=m, timeout=10)),
                ),
                post("/api/clusters/{id}/adopt", self.api(adopt)),
                post("/api/clusters/{id}/create", self.api(create)),
                post("/api/clusters/{id}/split", self.api(split)),
                post("/api/clusters/{id}/merge", self.api(merge)),
                post("/api/clusters/{id}/dismiss", self.api(dismiss)),
                post("/api/clusters/{id}/move", self.api(move)),
                get(
                    "/api/cluster-rules",
                    self.api(lambda r, s, m: s.ListClusterRules(kpb.ListClusterRulesRequest(), metadata=m, timeout=10)),
                ),
                post("/api/cluster-rules/{id}/delete", self.api(delete_rule)),
                post("/api/train", self.api(lambda r, s, m: s.Train(kpb.TrainRequest(), metadata=m, timeout=10))),
                post("/api/deploy", self.api(deploy)),
                post(
                    "/api/rollback", self.api(lambda r, s, m: s.Rollback(kpb.RollbackRequest(), metadata=m, timeout=10))
                ),
                get("/api/proposals", self.api(proposals)),
                post("/api/proposals/{id}/approve", self.api(decide)),
                post("/api/proposals/{id}/reject", self.api(decide)),
                get("/api/release", self.api(release)),
                post("/api/release/promote", self.api(promote)),
                post("/api/release/abort", self.api(abort)),
                get("/api/tests", self.api(test_suites)),
                get("/api/tests/{name}", self.api(test_suite)),
                post("/api/tests/check", self.api(check_test_suites)),
                post("/api/tests", self.api(put_test_suites)),
                post("/api/tests/{name}/delete", self.api(delete_test_suite)),
                post("/api/import-platform", self.api(import_platform)),
                get(
                    "/api/jobs/{id}",
                    self.api(
                        lambda r, s, m: s.GetJob(kpb.GetJobRequest(id=r.match_info["id"]), metadata=m, timeout=10)
                    ),
                ),
            ]
        )
        app.on_cleanup.append(self._close)
        return app

    async def _close(self, _: web.Application) -> None:
        await self._channel.close()


async def page(_: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def overview(request: web.Request, stub: kpb_grpc.KnowledgeStub, metadata: list[tuple[str, str]]) -> Any:
    call = {"metadata": metadata, "timeout": 10}
    traffic = await stub.GetTraffic(kpb.GetTrafficRequest(), **call)
    return {
        "traffic": as_json(traffic),
        "trends": as_json(await stub.ListTrends(kpb.ListTrendsRequest(), **call)),
        "satisfaction": as_json(await stub.GetSatisfaction(kpb.GetSatisfactionRequest(), **call)),
        "versions": as_json(await stub.ListVersions(kpb.ListVersionsRequest(), **call)),
    }


async def adopt(request: web.Request, stub: kpb_grpc.KnowledgeStub, metadata: list[tuple[str, str]]) -> Any:
    data = await body(request)
    adoption = kpb.AdoptClusterRequest(cluster_id=request.match_info["id"], faq_id=str(data.get("faq_id", "")))
    return await direct_or_proposed(stub, stub.AdoptCluster, metadata, data.get("reason"), adopt_cluster=adoption)


async def create(request: web.Request, stub: kpb_grpc.KnowledgeStub, metadata: list[tuple[str, str]]) -> Any:
    data = await body(request)
    faq = kpb.Faq(id=str(data.get("id", "")), title=str(data.get("title", "")), answer=str(data.get("answer", "")))
    faq.enabled = True
    creation = kpb.CreateFaqFromClusterRequest(cluster_id=request.match_info["id"], faq=faq)
    return await direct_or_proposed(
        stub, stub.CreateFaqFromCluster, metadata, data.get("reason"), create_faq_from_cluster=creation
    )


def _strings(data: dict[str, Any], name: str) -> list[str]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request(f"{name}: a list of strings")
    return value


# A knowledge manager's corrections to the clusters (router/admin/cluster_service.py): made
# at once by an editor, audited; they do not change the knowledge base.
async def split(request: web.Request, stub: kpb_grpc.KnowledgeStub, metadata: list[tuple[str, str]]) -> Any:
    data = await body(request)
    keys = _strings(data, "member_keys")  # empty: the suggested split
    reason = str(data.get("reason", ""))
    splitting = kpb.SplitClusterRequest(cluster_id=request.match_info["id"], member_keys=keys, reason=reason)
    return await stub.SplitCluster(splitting, metadata=metadata, timeout=10)


async def merge(request: web.Request, stub: kpb_grpc.KnowledgeStub, metadata: list[tuple[str, str]]) -> Any:
    data = await body(request)
    merging = kpb.MergeClustersRequest(
        cluster_id=request.match_info["id"], other_cluster_id=str(data.get("other_cluster_id", "")),
        reason=str(data.get("reason", "")),
    )  # fmt: skip
    return await stub.MergeClusters(merging, metadata=metadata, timeout=10)


async def move(request: web.Request, stub: kpb_grpc.KnowledgeStub, metadata: list[tuple[str, str]]) -> Any:
    """Each of `member_keys` into this cluster, one rule each."""
    data = await body(request)
    keys = _strings(data, "member_keys")
    if not keys:
        raise bad_request("member_keys: at least one")
    rules = []
    for key in keys:
        moving = kpb.MoveClusterMemberRequest(member_key=key, cluster_id=request.match_info["id"])
        rules.append(as_json(await stub.MoveClusterMember(moving, metadata=metadata, timeout=10)))
    return {"rules": rules}


async def dismiss(request: web.Request, stub: kpb_grpc.KnowledgeStub, metadata: list[tuple[str, str]]) -> Any:
    data = await body(request)
    dismissal = kpb.DismissClusterRequest(cluster_id=request.match_info["id"], reason=str(data.get("reason", "")))
    return await stub.DismissCluster(dismissal, metadata=metadata, timeout=10)


async def delete_rule(request: web.Request, stub: kpb_grpc.KnowledgeStub, metadata: list[tuple[str, str]]) -> Any:
    deletion = kpb.DeleteClusterRuleRequest(id=request.match_info["id"])
    return await stub.DeleteClusterRule(deletion, metadata=metadata, timeout=10)


async def save_faq(request: web.Request, stub: kpb_grpc.KnowledgeStub, metadata: list[tuple[str, str]]) -> Any:
    """The editor's entry (the whole of it, as GET gave it, with its revision: a change made
    meanwhile by someone else is refused, 409), written at once or proposed."""
    data = await body(request)
    faq = kpb.Faq()
    try:
        json_format.ParseDict(data.get("faq"), faq)
    except (json_format.ParseError, TypeError, AttributeError) as e:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"faq: not an FAQ entry ({e})"}), content_type="application/json"
        ) from None
    if faq.id != request.match_info["id"]:
        raise web.HTTPBadRequest(text=json.dumps({"error": "faq.id: not the entry of this path"}),
                                 content_type="application/json")  # fmt: skip
    return await direct_or_proposed(stub, stub.PutFaq, metadata, data.get("reason"), put_faq=kpb.PutFaqRequest(faq=faq))


async def deploy(request: web.Request, stub: kpb_grpc.KnowledgeStub, metadata: list[tuple[str, str]]) -> Any:
    data = await body(request)
    deployment = kpb.DeployRequest(version=str(data.get("version", "")))
    return await direct_or_proposed(stub, stub.Deploy, metadata, data.get("reason"), deploy=deployment)


async def proposals(request: web.Request, stub: kpb_grpc.KnowledgeStub, metadata: list[tuple[str, str]]) -> Any:
    pending = request.query.get("pending", "") in ("1", "true")
    return await stub.ListProposals(kpb.ListProposalsRequest(pending_only=pending), metadata=metadata, timeout=10)


async def decide(request: web.Request, stub: kpb_grpc.KnowledgeStub, metadata: list[tuple[str, str]]) -> Any:
    """Approve (which applies the change) or reject, by the last part of the path."""
    data = await body(request)
    decision = kpb.DecideProposalRequest(id=request.match_info["id"], comment=str(data.get("comment", "")))
    method = stub.ApproveProposal if request.path.endswith("/approve") else stub.RejectProposal
    return await method(decision, metadata=metadata, timeout=30)


# -- release safety ---------------------------------------------------------------------------
def scalars(message: Message, *leave_out: str) -> dict[str, Any]:
    """A message's scalar fields as they are: JSON from protobuf gives int64 as strings."""
    fields = message.DESCRIPTOR.fields
    return {f.name: getattr(message, f.name) for f in fields if f.message_type is None and f.name not in leave_out}


def release_view(release: kpb.Release) -> dict[str, Any]:
    """A Release as the page shows it: counts as numbers, the canary null when there is none
    and `by_guard` when the guard aborted it, each version's `part` in it ("active",
    "canary", "baseline" while the canary runs, else "")."""
    canary: dict[str, Any] | None = None
    if release.HasField("canary"):
        c = release.canary
        by_guard = c.state == ABORTED and c.updated_by == GUARD_ACTOR
        canary = {**scalars(c), "by_guard": by_guard, "thresholds": scalars(c.thresholds)}
    parts = {release.active_version: "active"}
    if canary is not None and canary["state"] == RUNNING:
        parts = {canary["baseline"]: "baseline", canary["version"]: "canary", **parts}
    versions = [{**scalars(v), "part": parts.get(v.version, "")} for v in release.versions]
    return {"active_version": release.active_version, "canary": canary, "versions": versions, "since": release.since}


def suites_view(suites: Iterable[kpb.TestSuite]) -> dict[str, Any]:
    """Test suites for the list: without their content (GET /api/tests/{name} has it)."""
    return {"suites": [scalars(s, "content") for s in suites]}


def suite_file(data: dict[str, Any]) -> kpb.PutTestSuitesRequest:
    """The editor's text as a PutTestSuitesRequest; `filename` (optional) names the format,
    else the router tells JSON from YAML."""
    content, filename = data.get("content", ""), data.get("filename", "")
    if not isinstance(content, str) or not isinstance(filename, str):
        raise web.HTTPBadRequest(text=json.dumps({"error": "content, filename: text"}), content_type="application/json")
    return kpb.PutTestSuitesRequest(content=content.encode(), filename=filename)


async def release(request: web.Request, stub: kpb_grpc.KnowledgeStub, metadata: list[tuple[str, str]]) -> Any:
    return release_view(await stub.GetRelease(kpb.GetReleaseRequest(), metadata=metadata, timeout=10))


async def promote(request: web.Request, stub: kpb_grpc.KnowledgeStub, metadata: list[tuple[str, str]]) -> Any:
    """Only a role that may deploy: the router refuses anyone else (403, its message)."""
    return release_view(await stub.PromoteCanary(kpb.PromoteCanaryRequest(), metadata=metadata, timeout=30))


async def abort(request: web.Request, stub: kpb_grpc.KnowledgeStub, metadata: list[tuple[str, str]]) -> Any:
    data = await body(request)
    reason = kpb.AbortCanaryRequest(reason=str(data.get("reason", "")))
    return release_view(await stub.AbortCanary(reason, metadata=metadata, timeout=30))


async def test_suites(request: web.Request, stub: kpb_grpc.KnowledgeStub, metadata: list[tuple[str, str]]) -> Any:
    listed = await stub.ListTestSuites(kpb.ListTestSuitesRequest(), metadata=metadata, timeout=10)
    return suites_view(listed.suites)


async def test_suite(request: web.Request, stub: kpb_grpc.KnowledgeStub, metadata: list[tuple[str, str]]) -> Any:
    """One suite's file, as YAML (as ExportTestSuites writes it)."""
    name = request.match_info["name"]
    exported = await stub.ExportTestSuites(
        kpb.ExportTestSuitesRequest(names=[name], format="yaml"), metadata=metadata, timeout=10
    )
    return {"name": name, "content": exported.content.decode("utf-8", errors="replace")}


async def check_test_suites(request: web.Request, stub: kpb_grpc.KnowledgeStub, metadata: list[tuple[str, str]]) -> Any:
    """The file checked, not written: the router's refusal names the line or the field."""
    checking = suite_file(await body(request, MAX_SUITES_BODY))
    checking.dry_run = True
    checked = await stub.PutTestSuites(checking, metadata=metadata, timeout=30)
    return suites_view(checked.suites)


async def put_test_suites(request: web.Request, stub: kpb_grpc.KnowledgeStub, metadata: list[tuple[str, str]]) -> Any:
    data = await body(request, MAX_SUITES_BODY)
    written = await direct_or_proposed(
        stub, stub.PutTestSuites, metadata, data.get("reason"), put_test_suites=suite_file(data)
    )
    return suites_view(written.suites) if isinstance(written, kpb.PutTestSuitesResponse) else written


async def delete_test_suite(request: web.Request, stub: kpb_grpc.KnowledgeStub, metadata: list[tuple[str, str]]) -> Any:
    data = await body(request)
    deletion = kpb.DeleteTestSuiteRequest(name=request.match_info["name"])
    return await direct_or_proposed(
        stub, stub.DeleteTestSuite, metadata, data.get("reason"), delete_test_suite=deletion
    )


# -- moving in from another platform -----------------------------------------------------------
def platform_import(data: dict[str, Any]) -> kpb.ImportPlatformRequest:
    """The page's body (`content_base64`, `filename`, `platform`: "" to detect it,
    `dry_run`, `overwrite`) as an ImportPlatformRequest; anything malformed a 400 that
    names the field, an export over MAX_EXPORT a 413. The platform's name is the router's
    to check (its refusal names the ones it knows)."""
    texts = {name: data.get(name, "") for name in ("content_base64", "filename", "platform")}
    flags = {name: data.get(name, False) for name in ("dry_run", "overwrite")}
    if not all(isinstance(v, str) for v in texts.values()):
        raise bad_request("content_base64, filename, platform: text")
    if not all(isinstance(v, bool) for v in flags.values()):
        raise bad_request("dry_run, overwrite: true or false")
    encoded = texts["content_base64"]
    if not encoded:
        raise bad_request("content_base64: no export; choose a file (a folder: zip it first)")
    try:
        content = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as e:
        raise bad_request(f"content_base64: not base64 ({e})") from None
    if len(content) > MAX_EXPORT:
        raise too_large(f"content: {len(content)} bytes, at most {MAX_EXPORT} (20 MiB)", MAX_EXPORT, len(content))
    return kpb.ImportPlatformRequest(
        content=content, filename=texts["filename"], platform=texts["platform"].strip(), **flags
    )


def platform_view(response: kpb.ImportPlatformResponse) -> dict[str, Any]:
    """An ImportPlatformResponse as the page shows it: the report parsed ({"platform",
    "detected", "counts": {kind: {"present", "imported"}}, "omitted": [{"where", "what",
    "reason"}]}; one that is not JSON kept as `{"text": ...}`), the lists as lists."""
    try:
        report = json.loads(response.report) if response.report else {}
    except json.JSONDecodeError:
        report = {"text": response.report}
    if not isinstance(report, dict):
        report = {"text": response.report}
    return {
        "platform": response.platform,
        "detected": response.detected,
        "report": report,
        "faq_ids": list(response.faq_ids),
        "lexicon_entries": response.lexicon_entries,
        "collisions": list(response.collisions),
        "updated": list(response.updated),
    }


async def import_platform(request: web.Request, stub: kpb_grpc.KnowledgeStub, metadata: list[tuple[str, str]]) -> Any:
    """A dry run (read access: the report, nothing written), else the import made at once
    where the role allows it, or proposed (202)."""
    data = await body(request, MAX_PLATFORM_BODY)
    importing = platform_import(data)
    if importing.dry_run:
        return platform_view(await stub.ImportPlatform(importing, metadata=metadata, timeout=60))
    done = await direct_or_proposed(
        stub, stub.ImportPlatform, metadata, data.get("reason"), timeout=60, import_platform=importing
    )
    return platform_view(done) if isinstance(done, kpb.ImportPlatformResponse) else done


def main() -> None:
    config = console_config()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s console %(levelname)s %(message)s")
    host, _, port = config.listen.rpartition(":")

    async def start() -> web.Application:
        return Console(config.target.split(","), config.tls).app()

    web.run_app(start(), host=host.strip("[]"), port=int(port), print=None, access_log=None)
