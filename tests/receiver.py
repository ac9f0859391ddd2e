"""A webhook receiver on 127.0.0.1 for tests: records every request; can be told to fail or hang."""

import asyncio
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tools.embedded import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def org(self) -> str:
        return self.path.strip("/")


@dataclass
class Receiver:
    """Answers 204 unless told otherwise per organisation path."""

    port: int = field(default_factory=free_port)
    requests: list[Received] = field(default_factory=list)
    fail_first: dict[str, int] = field(default_factory=dict)  # org -> failures (500) before success
    status_for: dict[str, int] = field(default_factory=dict)  # org -> fixed status
    hang: set[str] = field(default_factory=set)  # orgs whose requests never get an answer in time
    _server: Any = None
    _task: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def delivered(self, org: str | None = None, type_: str | None = None) -> list[Received]:
        """Requests answered 2xx, optionally for one organisation and event type."""
        import json

        return [
            r
            for r in self.requests
            if 200 <= r.status < 300
            and (org is None or r.org == org)
            and (type_ is None or json.loads(r.body)["type"] == type_)
        ]

    async def _handle(self, request: Request) -> Response:
        org = request.path_params["org"]
        body = await request.body()
        if org in self.hang:
            await asyncio.Event().wait()  # never answers; the client's timeout ends it
        status = self.status_for.get(org, 204)
        if self.fail_first.get(org, 0) > 0:
            self.fail_first[org] -= 1
            status = 500
        self.requests.append(Received(request.url.path, dict(request.headers), body, status))
        return Response(status_code=status)

    async def __aenter__(self) -> "Receiver":
        app = Starlette(routes=[Route("/{org}", self._handle, methods=["POST"])])
        self._server, self._task = await serve_in_background(app, self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._server.force_exit = True
        await asyncio.wait([self._task], timeout=5)


async def serve_in_background(app: Any, port: int) -> tuple[uvicorn.Server, "asyncio.Task[None]"]:
    """Serve an ASGI app on 127.0.0.1:port in this event loop; return once it listens."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # it failed to start: say why
        await asyncio.sleep(0.01)  # poll until the server listens
    return server, task
