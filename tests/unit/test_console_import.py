"""The console's move from another platform: the page's JSON body as an ImportPlatformRequest
(a bad one refused with a message naming the field), the response as the page gets it, and
POST /api/import-platform over a stand-in for the routers' admin API (a check is a dry run
with read access, an editor's import is proposed, an admin's made at once, the router's
refusal passed on verbatim); the page's elements."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from console.webapp import MAX_BODY, MAX_EXPORT, Console, platform_import, platform_view
from twinteller.v1 import knowledge_pb2 as kpb

STATIC = Path(__file__).parents[2] / "console" / "static"
AUTH = {"Authorization": "Bearer s3cret-token"}
REPORT = {
    "platform": "dialogflow-es",
    "detected": True,
    "counts": {"intents": {"present": 3, "imported": 2}, "entities": {"present": 1, "imported": 1}},
    "omitted": [{"where": "intents/Book.json", "what": "webhook fulfilment", "reason": "no static text answer"}],
}
MISSING = "intents/Fees/Intent.json: missing from the export"


def encoded(content: bytes) -> str:
    return base64.b64encode(content).decode()


def a_response(**changes: Any) -> kpb.ImportPlatformResponse:
    fields: dict[str, Any] = {
        "platform": "dialogflow-es", "detected": True, "report": json.dumps(REPORT), "faq_ids": ["fees", "hours"],
        "lexicon_entries": 4, "collisions": ["hours"], "updated": ["fees"],
    }  # fmt: skip
    return kpb.ImportPlatformResponse(**{**fields, **changes})


def error_of(e: web.HTTPException) -> str:
    assert e.text is not None
    error: str = json.loads(e.text)["error"]
    return error


# -- the body as a request --------------------------------------------------------------------
def test_platform_import_decodes_the_content_and_keeps_the_rest() -> None:
    zipped = b"PK\x03\x04" + bytes(range(256))
    request = platform_import(
        {"content_base64": encoded(zipped), "filename": "bank.zip", "platform": "rasa", "dry_run": True,
         "overwrite": True, "reason": "moving in"}
    )  # fmt: skip
    assert request == kpb.ImportPlatformRequest(
        content=zipped, filename="bank.zip", platform="rasa", dry_run=True, overwrite=True
    )
    detect = platform_import({"content_base64": encoded(b"<aiml/>")})
    assert detect.platform == "" and detect.filename == "" and not detect.dry_run and not detect.overwrite


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"content_base64": "not base64!"}, "content_base64: not base64"),
        ({"content_base64": "abc"}, "content_base64: not base64"),  # padding
        ({"content_base64": "aGVsbG8=\n"}, "content_base64: not base64"),
        ({"content_base64": "ünïcode"}, "content_base64: not base64"),
        ({}, "content_base64: no export; choose a file (a folder: zip it first)"),
        ({"content_base64": ""}, "content_base64: no export"),
        ({"content_base64": 3}, "content_base64, filename, platform: text"),
        ({"content_base64": "aGk=", "filename": None}, "content_base64, filename, platform: text"),
        ({"content_base64": "aGk=", "platform": ["rasa"]}, "content_base64, filename, platform: text"),
        ({"content_base64": "aGk=", "dry_run": "yes"}, "dry_run, overwrite: true or false"),
        ({"content_base64": "aGk=", "overwrite": 1}, "dry_run, overwrite: true or false"),
    ],
)
def test_a_malformed_body_is_a_400_naming_the_field(data: dict[str, Any], error: str) -> None:
    with pytest.raises(web.HTTPBadRequest) as refused:
        platform_import(data)
    assert refused.value.status == 400 and error_of(refused.value).startswith(error)


def test_an_export_over_20_mib_is_a_413() -> None:
    with pytest.raises(web.HTTPRequestEntityTooLarge) as refused:
        platform_import({"content_base64": encoded(bytes(MAX_EXPORT + 1))})
    assert error_of(refused.value) == f"content: {MAX_EXPORT + 1} bytes, at most {MAX_EXPORT} (20 MiB)"
    assert platform_import({"content_base64": encoded(bytes(MAX_EXPORT))}).content == bytes(MAX_EXPORT)


# -- the response as the page gets it ---------------------------------------------------------
def test_platform_view_parses_the_report_and_lists_the_ids() -> None:
    view = platform_view(a_response())
    assert json.loads(json.dumps(view)) == view  # plain JSON
    assert view == {
        "platform": "dialogflow-es", "detected": True, "report": REPORT, "faq_ids": ["fees", "hours"],
        "lexicon_entries": 4, "collisions": ["hours"], "updated": ["fees"],
    }  # fmt: skip


def test_platform_view_of_an_empty_or_unreadable_report() -> None:
    empty = platform_view(kpb.ImportPlatformResponse(platform="aiml"))
    assert empty["report"] == {} and empty["faq_ids"] == [] and empty["detected"] is False
    assert platform_view(a_response(report="not json"))["report"] == {"text": "not json"}
    assert platform_view(a_response(report="[1]"))["report"] == {"text": "[1]"}


# -- the endpoint -----------------------------------------------------------------------------
class Refusal(grpc.aio.AioRpcError):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)


class Routers:
    """The admin API as one role sees it: `may` names what it may do at once."""

    def __init__(self, may: set[str]) -> None:
        self.may = may
        self.calls: list[tuple[str, Any, float]] = []

    async def ImportPlatform(self, request: kpb.ImportPlatformRequest, **call: Any) -> kpb.ImportPlatformResponse:
        if b"Fees" in request.content:
            raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, MISSING)
        if not request.dry_run and "change knowledge" not in self.may:
            raise Refusal(grpc.StatusCode.PERMISSION_DENIED, "change knowledge: not a permission of this token's roles")
        self.calls.append(("import", request, call["timeout"]))
        return a_response(updated=[] if request.dry_run else ["fees"])

    async def ProposeChange(self, request: kpb.ProposeChangeRequest, **call: Any) -> kpb.Proposal:
        if "propose" not in self.may:
            raise Refusal(grpc.StatusCode.PERMISSION_DENIED, "propose: not a permission of this token's roles")
        self.calls.append(("propose", request, call["timeout"]))
        kind = request.WhichOneof("change") or ""
        return kpb.Proposal(id="p1", kind=kind, summary="import a rasa export", proposed_by="ed", state=kpb.PENDING)


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
    routers = Routers({"propose", "change knowledge"})
    async for http in a_console(routers):
        yield http, routers


def a_body(content: bytes = b"version: '3.1'\nnlu: []\n", **changes: Any) -> dict[str, Any]:
    fields = {"content_base64": encoded(content), "filename": "nlu.yml", "platform": "", "dry_run": False,
              "overwrite": False, "reason": "moving in from Rasa"}  # fmt: skip
    return {**fields, **changes}


async def test_the_endpoint_needs_a_token(editor: tuple[TestClient[Any, Any], Routers]) -> None:
    http, routers = editor
    reply = await http.post("/api/import-platform", json=a_body(dry_run=True))
    assert reply.status == 401 and routers.calls == []


async def test_check_is_a_dry_run_with_the_report_parsed(editor: tuple[TestClient[Any, Any], Routers]) -> None:
    http, routers = editor
    reply = await http.post("/api/import-platform", json=a_body(dry_run=True, overwrite=True), headers=AUTH)
    assert reply.status == 200
    assert await reply.json() == platform_view(a_response(updated=[]))
    [(kind, checked, _)] = routers.calls
    assert kind == "import" and checked.dry_run and checked.overwrite and checked.filename == "nlu.yml"


async def test_an_editors_import_is_proposed_with_its_reason(editor: tuple[TestClient[Any, Any], Routers]) -> None:
    http, routers = editor
    content = bytes(range(256)) * 24 * 1024  # 6 MiB: over the 64 KiB body, and the 5 MB of suite files
    reply = await http.post("/api/import-platform", json=a_body(content, platform="rasa"), headers=AUTH)
    assert reply.status == 202
    assert (await reply.json())["proposal"]["kind"] == "import_platform"
    [(kind, proposed, timeout)] = routers.calls
    assert kind == "propose" and proposed.reason == "moving in from Rasa" and timeout >= 30
    assert proposed.import_platform == kpb.ImportPlatformRequest(content=content, filename="nlu.yml", platform="rasa")


async def test_an_admins_import_is_made_at_once(admin: tuple[TestClient[Any, Any], Routers]) -> None:
    http, routers = admin
    reply = await http.post("/api/import-platform", json=a_body(overwrite=True), headers=AUTH)
    assert reply.status == 200
    view = await reply.json()
    assert view["report"] == REPORT and view["faq_ids"] == ["fees", "hours"] and view["updated"] == ["fees"]
    [(kind, imported, _)] = routers.calls
    assert kind == "import" and not imported.dry_run and imported.overwrite


async def test_the_routers_refusal_is_shown_verbatim(editor: tuple[TestClient[Any, Any], Routers]) -> None:
    http, _ = editor
    for dry_run in (True, False):
        reply = await http.post("/api/import-platform", json=a_body(b"intents/Fees", dry_run=dry_run), headers=AUTH)
        assert reply.status == 400
        assert await reply.json() == {"error": MISSING, "code": "INVALID_ARGUMENT"}


async def test_a_viewer_may_check_but_neither_import_nor_propose(editor: tuple[TestClient[Any, Any], Routers]) -> None:
    http, routers = editor
    routers.may = set()
    assert (await http.post("/api/import-platform", json=a_body(dry_run=True), headers=AUTH)).status == 200
    refused = await http.post("/api/import-platform", json=a_body(), headers=AUTH)
    assert refused.status == 403 and "propose" in (await refused.json())["error"]


async def test_a_bad_body_is_a_400_with_a_clear_message(editor: tuple[TestClient[Any, Any], Routers]) -> None:
    http, routers = editor
    bad = await http.post("/api/import-platform", json=a_body(content_base64="%%%"), headers=AUTH)
    assert bad.status == 400 and (await bad.json())["error"].startswith("content_base64: not base64")
    not_json = await http.post("/api/import-platform", data=b"{", headers=AUTH)
    assert not_json.status == 400 and (await not_json.json())["error"].startswith("body: not JSON")
    assert routers.calls == []


async def test_a_body_over_the_limit_is_a_413_with_a_message(editor: tuple[TestClient[Any, Any], Routers]) -> None:
    http, _ = editor
    reply = await http.post("/api/faqs/x", data=b" " * (MAX_BODY + 1), headers=AUTH)
    assert reply.status == 413 and (await reply.json())["error"] == f"body: more than {MAX_BODY} bytes"


# -- the page ---------------------------------------------------------------------------------
IDS = ["platform-file", "platform-format", "platform-overwrite", "platform-reason", "platform-check",
       "platform-import", "platform-result", "platform-report", "platform-omitted"]  # fmt: skip


def test_the_page_has_the_form_and_the_script_uses_it() -> None:
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    script = (STATIC / "app.js").read_text(encoding="utf-8")
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    for name in IDS:
        assert name in ids and f'$("{name}")' in script, name
    accept = re.search(r'id="platform-file"[^>]*accept="([^"]+)"', page)
    assert accept and set(accept.group(1).split(",")) == {
        ".zip", ".yml", ".yaml", ".json", ".tsv", ".xlsx", ".aiml", ".xml"
    }  # fmt: skip
    options = re.findall(r'<option value="([^"]*)"', page[page.index('id="platform-format"') :])
    assert options[:7] == ["", "rasa", "dialogflow-es", "dialogflow-cx", "lex-v2", "qna", "aiml"]
    assert "zipped first" in page and '"/api/import-platform"' in script
