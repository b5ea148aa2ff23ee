"""The console's release safety: the Release as the page gets it, the test suites list, and
the JSON endpoints over a stand-in for the routers' admin API (auth, the router's message on
a refusal, a suite change proposed when the role may only propose it); the dashboard's
Releases row."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from aiohttp.test_utils import TestClient, TestServer

from console.webapp import Console, release_view, suites_view
from router.observability.metrics import Metrics
from twinteller.v1 import knowledge_pb2 as kpb

DASHBOARD = Path(__file__).parents[2] / "helm" / "twinteller" / "dashboards" / "twinteller.json"
AUTH = {"Authorization": "Bearer s3cret-token"}


def a_release(state: str = "RUNNING", updated_by: str = "carol", reason: str = "") -> kpb.Release:
    canary = kpb.CanaryState(
        version="v8", baseline="v7", percent=10, state=state, started_at=1000.0, updated_at=1100.0,
        updated_by=updated_by, reason=reason, thresholds=kpb.CanaryThresholds(min_turns=100, margin=0.05),
    )  # fmt: skip
    active = "v8" if state == "PROMOTED" else "v7"
    return kpb.Release(
        active_version=active,
        canary=canary,
        versions=[
            kpb.VersionFigures(version="v7", turns=12345678901, fallback_rate=0.1, ratings=40, p99_ms=80.0),
            kpb.VersionFigures(version="v8", turns=1200, rephrase_rate=0.3, error_rate=0.01, p50_ms=20.0),
        ],
        since=1000.0,
    )


def test_release_view_counts_are_numbers_and_each_version_has_its_part() -> None:
    view = release_view(a_release())
    assert json.loads(json.dumps(view)) == view  # plain JSON
    assert view["active_version"] == "v7" and view["since"] == 1000.0
    v7, v8 = view["versions"]
    assert v7["turns"] == 12345678901 and v7["ratings"] == 40  # int64: numbers, not strings
    assert (v7["part"], v8["part"]) == ("active", "canary")
    assert v8["rephrase_rate"] == pytest.approx(0.3) and v8["p50_ms"] == 20.0 and v8["clarify_rate"] == 0.0
    canary = view["canary"]
    assert canary["state"] == "RUNNING" and canary["percent"] == 10 and canary["baseline"] == "v7"
    assert canary["by_guard"] is False and canary["thresholds"]["min_turns"] == 100


def test_release_view_marks_an_abort_by_the_guard_with_its_reason() -> None:
    guard = release_view(a_release("ABORTED", "canary-guard", "rephrase: 30.0% vs 5.0% (z 6.1)"))
    assert guard["canary"]["by_guard"] is True and guard["canary"]["reason"].startswith("rephrase")
    assert [v["part"] for v in guard["versions"]] == ["active", ""]  # no canary runs now
    by_hand = release_view(a_release("ABORTED", "carol", "aborted by hand"))
    assert by_hand["canary"]["by_guard"] is False
    promoted = release_view(a_release("PROMOTED"))
    assert [v["part"] for v in promoted["versions"]] == ["", "active"]


def test_release_view_without_a_canary() -> None:
    view = release_view(kpb.Release(active_version="v3", versions=[kpb.VersionFigures(version="v3")]))
    assert view["canary"] is None
    assert view["versions"][0]["part"] == "active" and view["versions"][0]["turns"] == 0


def test_suites_view_leaves_the_content_out() -> None:
    suite = kpb.TestSuite(name="cards", description="d", cases=3, revision=2**40, updated_by="ed", content="suite: x")
    assert suites_view([suite]) == {
        "suites": [
            {"name": "cards", "description": "d", "cases": 3, "revision": 2**40, "updated_by": "ed", "updated_at": 0.0}
        ]
    }


class Refusal(grpc.aio.AioRpcError):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)


class Routers:
    """The admin API as one role sees it: `may` names what it may do at once."""

    def __init__(self, may: set[str]) -> None:
        self.may = may
        self.calls: list[tuple[str, Any]] = []

    def _check(self, action: str) -> None:
        if action not in self.may:
            raise Refusal(grpc.StatusCode.PERMISSION_DENIED, f"{action}: not a permission of this token's roles")

    async def GetRelease(self, request: kpb.GetReleaseRequest, **_: Any) -> kpb.Release:
        return a_release()

    async def PromoteCanary(self, request: kpb.PromoteCanaryRequest, **_: Any) -> kpb.Release:
        self._check("deploy")
        return a_release("PROMOTED", "olga")

    async def AbortCanary(self, request: kpb.AbortCanaryRequest, **_: Any) -> kpb.Release:
        self._check("deploy")
        self.calls.append(("abort", request.reason))
        return a_release("ABORTED", "olga", request.reason)

    async def ListTestSuites(self, request: kpb.ListTestSuitesRequest, **_: Any) -> kpb.ListTestSuitesResponse:
        return kpb.ListTestSuitesResponse(suites=[kpb.TestSuite(name="cards", cases=2, revision=7, content="...")])

    async def ExportTestSuites(self, request: kpb.ExportTestSuitesRequest, **_: Any) -> kpb.ExportTestSuitesResponse:
        if list(request.names) != ["cards"]:
            raise Refusal(grpc.StatusCode.NOT_FOUND, f"suites: no test suite {request.names[0]!r}")
        return kpb.ExportTestSuitesResponse(content=b"suite: cards\n")

    async def PutTestSuites(self, request: kpb.PutTestSuitesRequest, **_: Any) -> kpb.PutTestSuitesResponse:
        if b"expcet" in request.content:
            raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, "cases[0].turns[0].expcet: unknown key")
        if not request.dry_run:
            self._check("change knowledge")
        self.calls.append(("put", request))
        return kpb.PutTestSuitesResponse(suites=[kpb.TestSuite(name="cards", cases=1, revision=9)])

    async def DeleteTestSuite(self, request: kpb.DeleteTestSuiteRequest, **_: Any) -> kpb.DeleteTestSuiteResponse:
        self._check("change knowledge")
        return kpb.DeleteTestSuiteResponse()

    async def ProposeChange(self, request: kpb.ProposeChangeRequest, **_: Any) -> kpb.Proposal:
        self._check("propose")
        self.calls.append(("propose", request))
        kind = request.WhichOneof("change") or ""
        return kpb.Proposal(id="p1", kind=kind, summary=kind, proposed_by="ed", state=kpb.PENDING)


async def a_console(routers: Routers) -> AsyncIterator[TestClient[Any, Any]]:
    console = Console(["127.0.0.1:1"], None)
    console._stub = routers  # type: ignore[assignment]
    async with TestClient(TestServer(console.app())) as http:
        yield http


@pytest.fixture
async def editor() -> AsyncIterator[tuple[TestClient[Any, Any], Routers]]:
    routers = Routers({"propose"})
    async for http in a_console(routers):
        yield http, routers


@pytest.fixture
async def admin() -> AsyncIterator[tuple[TestClient[Any, Any], Routers]]:
    routers = Routers({"propose", "change knowledge", "deploy"})
    async for http in a_console(routers):
        yield http, routers


async def test_the_release_endpoints_need_a_token_and_give_the_page_its_json(
    editor: tuple[TestClient[Any, Any], Routers],
) -> None:
    http, _ = editor
    assert (await http.get("/api/release")).status == 401
    reply = await http.get("/api/release", headers=AUTH)
    assert reply.status == 200
    assert (await reply.json()) == json.loads(json.dumps(release_view(a_release())))


async def test_promote_and_abort_by_a_role_that_may_not_deploy_show_the_routers_message(
    editor: tuple[TestClient[Any, Any], Routers],
) -> None:
    http, _ = editor
    for path in ("/api/release/promote", "/api/release/abort"):
        reply = await http.post(path, json={"reason": "x"}, headers=AUTH)
        assert reply.status == 403
        assert (await reply.json())["error"] == "deploy: not a permission of this token's roles"


async def test_abort_passes_the_reason_on(admin: tuple[TestClient[Any, Any], Routers]) -> None:
    http, routers = admin
    reply = await http.post("/api/release/abort", json={"reason": "rephrases up"}, headers=AUTH)
    assert reply.status == 200 and ("abort", "rephrases up") in routers.calls
    assert (await reply.json())["canary"]["reason"] == "rephrases up"
    promoted = await (await http.post("/api/release/promote", json={}, headers=AUTH)).json()
    assert promoted["active_version"] == "v8" and promoted["canary"]["state"] == "PROMOTED"


async def test_suites_listed_and_one_viewed(editor: tuple[TestClient[Any, Any], Routers]) -> None:
    http, _ = editor
    listed = await (await http.get("/api/tests", headers=AUTH)).json()
    assert listed["suites"][0]["name"] == "cards" and listed["suites"][0]["revision"] == 7
    assert "content" not in listed["suites"][0]
    viewed = await http.get("/api/tests/cards", headers=AUTH)
    assert (await viewed.json()) == {"name": "cards", "content": "suite: cards\n"}
    missing = await http.get("/api/tests/nope", headers=AUTH)
    assert missing.status == 404 and "nope" in (await missing.json())["error"]


async def test_check_is_a_dry_run_and_a_bad_file_gets_the_routers_message(
    editor: tuple[TestClient[Any, Any], Routers],
) -> None:
    http, routers = editor
    good = await http.post("/api/tests/check", json={"content": "suite: cards"}, headers=AUTH)
    assert good.status == 200 and (await good.json())["suites"][0]["cases"] == 1
    (_, checked), *_ = routers.calls
    assert checked.dry_run and checked.content == b"suite: cards"
    bad = await http.post("/api/tests/check", json={"content": "expcet: x"}, headers=AUTH)
    assert bad.status == 400
    assert await bad.json() == {"error": "cases[0].turns[0].expcet: unknown key", "code": "INVALID_ARGUMENT"}
    not_text = await http.post("/api/tests/check", json={"content": 3}, headers=AUTH)
    assert not_text.status == 400


async def test_an_editors_suite_file_and_deletion_are_proposed(editor: tuple[TestClient[Any, Any], Routers]) -> None:
    http, routers = editor
    content = "suite: cards\n" + "# a long file\n" * 10_000  # over the console's usual 64 KiB
    reply = await http.post("/api/tests", json={"content": content, "reason": "new cases"}, headers=AUTH)
    assert reply.status == 202 and (await reply.json())["proposal"]["kind"] == "put_test_suites"
    _, proposed = routers.calls[-1]
    assert proposed.put_test_suites.content == content.encode() and not proposed.put_test_suites.dry_run
    assert proposed.reason == "new cases"
    deleted = await http.post("/api/tests/cards/delete", json={"reason": "obsolete"}, headers=AUTH)
    assert deleted.status == 202
    _, proposed = routers.calls[-1]
    assert proposed.delete_test_suite.name == "cards" and proposed.reason == "obsolete"


async def test_an_admins_suite_file_is_written_at_once(admin: tuple[TestClient[Any, Any], Routers]) -> None:
    http, routers = admin
    reply = await http.post("/api/tests", json={"content": "suite: cards"}, headers=AUTH)
    assert reply.status == 200 and (await reply.json())["suites"][0]["revision"] == 9
    assert [kind for kind, _ in routers.calls] == ["put"]
    assert (await http.post("/api/tests/cards/delete", json={}, headers=AUTH)).status == 200


def test_the_releases_row_charts_the_per_version_series_the_router_exports() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    (row,) = [p for p in panels if p["type"] == "row" and p["title"] == "Releases"]
    below = [p for p in panels if p["gridPos"]["y"] > row["gridPos"]["y"]]
    expressions = [t["expr"] for p in below for t in p["targets"]]
    used = {name for e in expressions for name in re.findall(r"\btwinteller_[a-z_]+", e)}
    assert {"twinteller_version_turns_total", "twinteller_version_rephrases_total", "twinteller_version_errors_total",
            "twinteller_version_turn_seconds_bucket"} <= used  # fmt: skip
    assert all("by (version" in e for e in expressions)
    metrics = Metrics()
    metrics.observe_version_turn("v2", "ANSWER", True, 0.01)
    metrics.version_errors.labels("v2").inc()
    metrics.version_ratings.labels("v2", "1").inc()
    exported = {s.name for family in metrics.registry.collect() for s in family.samples}
    assert used <= exported, used - exported
    cells = {(x, y) for p in panels for x in range(p["gridPos"]["x"], p["gridPos"]["x"] + p["gridPos"]["w"])
             for y in range(p["gridPos"]["y"], p["gridPos"]["y"] + p["gridPos"]["h"])}  # fmt: skip
    assert len(cells) == sum(p["gridPos"]["w"] * p["gridPos"]["h"] for p in panels)  # no two panels overlap
