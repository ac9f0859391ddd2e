"""One log line per request: the route template and the caller, never the path with a child in it."""

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from structlog.testing import capture_logs

from shared.http import add_operational_routes


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/v1/children/{authority}/{child_ref}")
    async def child(request: Request, authority: str, child_ref: str) -> JSONResponse:
        request.state.org = "cardiff"
        return JSONResponse({"found": False}, status_code=404)

    @app.get("/boom")
    async def boom() -> JSONResponse:
        raise RuntimeError("a bug")

    add_operational_routes(app, {})
    return app


async def _get(app: FastAPI, path: str) -> int:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        return (await client.get(path)).status_code


async def test_a_request_is_logged_by_its_route_template_and_caller() -> None:
    with capture_logs() as logs:
        status = await _get(_app(), "/v1/children/W06000015/C-SECRET-1")
    assert status == 404
    [line] = [entry for entry in logs if entry["event"] == "http_request"]
    assert line["route"] == "/v1/children/{authority}/{child_ref}"
    assert line["status"] == 404
    assert line["org"] == "cardiff"
    assert "C-SECRET-1" not in repr(logs)


async def test_a_failing_handler_is_logged_as_a_server_error() -> None:
    with capture_logs() as logs:
        status = await _get(_app(), "/boom")
    assert status == 500
    [line] = [entry for entry in logs if entry["event"] == "http_request"]
    assert (line["route"], line["status"], line["org"]) == ("/boom", 500, None)


async def test_health_checks_are_not_logged() -> None:
    with capture_logs() as logs:
        assert await _get(_app(), "/healthz") == 200
    assert [entry for entry in logs if entry["event"] == "http_request"] == []
