"""HTTP clients for webhook deliveries: one small client per delivery slot.

httpx's connection pool looks at every connection it holds on each request, so one client with a
connection per slot spent more time scanning its pool than sending. A small client per slot keeps
that scan to a couple of connections; keep-alive still works, and one SSL context is shared.
"""

from contextlib import AsyncExitStack
from types import TracebackType

import httpx


class Lanes:
    """As many HTTP clients as deliveries may be in flight; a delivery takes one and gives it back."""

    def __init__(self, count: int, *, timeout_seconds: float) -> None:
        self._count = count
        self._timeout = httpx.Timeout(timeout_seconds)
        self._free: list[httpx.AsyncClient] = []
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> "Lanes":
        tls = httpx.create_ssl_context()
        for _ in range(self._count):
            # No retries and no redirects: a retry is a new recorded attempt, a redirect is refused.
            transport = httpx.AsyncHTTPTransport(
                retries=0,
                verify=tls,
                limits=httpx.Limits(max_connections=2, max_keepalive_connections=2),
            )
            client = httpx.AsyncClient(transport=transport, timeout=self._timeout, follow_redirects=False)
            self._free.append(await self._stack.enter_async_context(client))
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self._stack.aclose()

    def take(self) -> httpx.AsyncClient:
        """A free client; the caller holds a delivery slot, so one is always free."""
        return self._free.pop()

    def give(self, client: httpx.AsyncClient) -> None:
        """Return a client after its delivery."""
        self._free.append(client)
