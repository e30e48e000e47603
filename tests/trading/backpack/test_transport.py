"""The session's sender (one httpx client over the lean HTTP/1.1 pool) against a scripted
server on a real socket: framing, reuse, timeouts, cookies and broken connections, as the
session sees them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from tests.waiting import eventually
from trading.backpack import ExchangeSession
from trading.backpack.errors import AuthenticationError, ExchangeUnavailableError
from trading.backpack.transport import HttpxSender

Answer = Callable[[bytes, asyncio.StreamWriter], "asyncio.Future[None] | None"]


class ScriptedServer:
    """Answers each request with ``answer(request_head_and_body, writer)``; counts
    connections (open and closed) and remembers the requests it read."""

    def __init__(self, answer) -> None:
        self.answer = answer
        self.connections = 0
        self.closed = 0
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                await self.answer(request, writer)
                if writer.is_closing():
                    return
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the client went away, or the test ended while this answer was held back
        finally:
            writer.close()
            self.closed += 1

    @property
    def url(self) -> str:
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., ScriptedServer]]:
    servers: list[ScriptedServer] = []

    async def start(answer) -> ScriptedServer:
        scripted = ScriptedServer(answer)
        scripted.server = await asyncio.start_server(scripted.handle, "127.0.0.1", 0)
        servers.append(scripted)
        return scripted

    yield start
    for scripted in servers:
        scripted.server.close()


def sender(url: str, *, timeout_s: float = 2.0, max_connections: int = 8) -> HttpxSender:
    return HttpxSender(
        url, timeout_s=timeout_s, connect_timeout_s=1.0, max_connections=max_connections
    )


async def get(http: HttpxSender, path: str = "/api/v1/time") -> tuple[int, dict, bytes]:
    return await http.send("GET", path, None, None, {}, None, f"GET {path}")


async def test_a_chunked_answer_in_pieces_is_joined_and_the_connection_reused(serve) -> None:
    async def answer(request: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n[1,2,")
        await writer.drain()
        await asyncio.sleep(0.01)
        writer.write(b"\r\n2;ext=1\r\n3]\r\n0\r\nX-Trailer: t\r\n\r\n")
        await writer.drain()

    server = await serve(answer)
    http = sender(server.url)
    first = await get(http)
    second = await get(http)
    await http.aclose()
    assert first[0] == 200 and first[2] == b"[1,2,3]" and second[2] == b"[1,2,3]"
    assert server.connections == 1


async def test_connection_close_and_close_delimited_bodies_are_read_whole(serve) -> None:
    async def answer(request: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n1234")
        await writer.drain()
        writer.close()

    server = await serve(answer)
    http = sender(server.url)
    assert (await get(http))[2] == b"1234"
    assert (await get(http))[2] == b"1234"
    await http.aclose()
    assert server.connections == 2


async def test_the_request_carries_host_length_query_and_signed_headers(serve) -> None:
    async def answer(request: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nRetry-After: 3\r\n\r\n{}")

    server = await serve(answer)
    http = sender(server.url)
    status, headers, body = await http.send(
        "POST", "/api/v1/order", None, b'{"a":1}', {"Content-Type": "application/json"}, None, "x"
    )
    await http.send("GET", "/api/v1/depth", {"symbol": "SOL_USDC", "x": True}, None, {}, None, "x")
    await http.aclose()
    post, query = server.requests
    assert post.startswith(b"POST /api/v1/order HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"\r\nContent-Length: 7\r\n" in post and post.endswith(b'\r\n\r\n{"a":1}')
    assert query.startswith(b"GET /api/v1/depth?symbol=SOL_USDC&x=true HTTP/1.1\r\n")
    assert headers["retry-after"] == "3" and body == b"{}"


async def test_a_silent_server_times_out_and_a_refused_port_was_never_sent(serve) -> None:
    async def answer(request: bytes, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)

    server = await serve(answer)
    http = sender(server.url, timeout_s=0.3)
    with pytest.raises(ExchangeUnavailableError, match="No answer from the exchange") as lost:
        await get(http)
    assert lost.value.maybe_sent is True
    await http.aclose()
    url = server.url
    server.server.close()
    await server.server.wait_closed()
    refused = sender(url)
    with pytest.raises(ExchangeUnavailableError, match="Cannot connect") as never:
        await get(refused)
    assert never.value.maybe_sent is False
    await refused.aclose()


async def test_a_connection_cut_mid_answer_is_reported_as_lost(serve) -> None:
    async def answer(request: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        await writer.drain()
        writer.close()

    server = await serve(answer)
    http = sender(server.url)
    with pytest.raises(ExchangeUnavailableError, match="Lost the connection") as lost:
        await get(http)
    await http.aclose()
    assert lost.value.maybe_sent is True


async def test_garbage_instead_of_http_is_a_lost_answer_not_a_crash(serve) -> None:
    async def answer(request: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")

    server = await serve(answer)
    http = sender(server.url)
    with pytest.raises(ExchangeUnavailableError, match="not an HTTP/1 answer"):
        await get(http)
    await http.aclose()


async def test_many_in_flight_share_at_most_max_connections(serve) -> None:
    async def answer(request: bytes, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(0.01)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n7")

    server = await serve(answer)
    http = sender(server.url, max_connections=4)
    results = await asyncio.gather(*(get(http) for _ in range(32)))
    await http.aclose()
    assert [body for _, _, body in results] == [b"7"] * 32
    assert server.connections == 4


async def test_an_idle_connection_the_server_closed_is_not_reused(serve) -> None:
    async def answer(request: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1")
        await writer.drain()
        asyncio.get_running_loop().call_later(0.02, writer.close)

    server = await serve(answer)
    http = sender(server.url)
    await get(http)
    await eventually(lambda: server.closed == 1, what="the server closed the idle connection")
    assert (await get(http))[2] == b"1"
    await http.aclose()
    assert server.connections == 2


async def test_a_line_break_in_the_api_key_is_refused_before_sending(serve) -> None:
    from trading.backpack import Credentials

    async def answer(request: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")

    server = await serve(answer)
    seed = "A" * 43 + "="
    async with ExchangeSession(api_url=server.url) as session:
        session.clock.measured_at = session.clock.monotonic()  # no time sync needed here
        client = session.client(Credentials("key\r\nX-Evil: 1", seed), label="A")
        with pytest.raises(AuthenticationError, match="X-API-Key contains a line break"):
            await client.balances()
    assert server.requests == []


async def test_an_interim_100_answer_is_skipped(serve) -> None:
    async def answer(request: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"
        )

    server = await serve(answer)
    http = sender(server.url)
    status, _, body = await get(http)
    await http.aclose()
    assert (status, body) == (201, b"ok")


def _self_signed(tmp_path) -> tuple[str, str]:
    """A throwaway certificate for ``localhost``: (cert file, key file)."""
    import datetime
    import ipaddress

    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


async def test_https_verifies_the_certificate_and_keeps_the_connection(tmp_path) -> None:
    import ssl

    from trading.backpack.http1 import Http1Pool

    cert_file, key_file = _self_signed(tmp_path)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_file, key_file)
    scripted = ScriptedServer(
        lambda request, writer: _write(writer, b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n1234")
    )
    scripted.server = await asyncio.start_server(
        scripted.handle, "127.0.0.1", 0, ssl=server_context
    )
    port = scripted.server.sockets[0].getsockname()[1]
    trusting = ssl.create_default_context(cafile=cert_file)
    pool = Http1Pool(
        f"https://localhost:{port}",
        timeout_s=2.0,
        connect_timeout_s=1.0,
        max_connections=2,
        ssl_context=trusting,
    )
    answers = [await pool.request("GET", "/api/v1/time", [], None) for _ in range(3)]
    await pool.aclose()
    untrusting = HttpxSender(
        f"https://localhost:{port}", timeout_s=2.0, connect_timeout_s=1.0, max_connections=2
    )
    with pytest.raises(ExchangeUnavailableError, match="Cannot connect.*CERTIFICATE") as refused:
        await get(untrusting)
    await untrusting.aclose()
    scripted.server.close()
    assert [body for _, _, body in answers] == [b"1234"] * 3
    assert scripted.connections == 1  # three requests on one TLS connection
    assert refused.value.maybe_sent is False


async def _write(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(data)


async def test_a_closed_sender_drops_its_connections_and_opens_again_on_use(serve) -> None:
    async def answer(request: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1")

    server = await serve(answer)
    http = sender(server.url)
    await get(http)
    await http.aclose()
    assert (await get(http))[2] == b"1"
    await http.aclose()
    assert server.connections == 2


async def test_a_cookie_one_answer_sets_is_never_sent_back(serve) -> None:
    async def answer(request: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\nSet-Cookie: session=abc; Path=/\r\nContent-Length: 2\r\n\r\n{}"
        )

    server = await serve(answer)
    http = sender(server.url)
    await get(http)
    await get(http, "/api/v1/capital")
    kept = dict(http.http.cookies)
    await http.aclose()
    assert len(server.requests) == 2
    assert b"cookie:" not in server.requests[1].lower()
    assert kept == {}


async def test_a_read_the_server_dropped_on_a_kept_connection_is_sent_again_once(serve) -> None:
    # A server that drops idle connections (uvicorn after 5 s) may close one just as the next
    # request goes out on it: nothing of that request was answered. A read is sent again on a
    # new connection; an order is not (the exchange may have taken it), and says so.
    async def answer(request: bytes, writer: asyncio.StreamWriter) -> None:
        if len(server.requests) % 2 == 0:  # every second request on a connection: dropped
            writer.close()
            return
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1")
        await writer.drain()

    server = await serve(answer)
    http = sender(server.url)
    assert (await get(http))[2] == b"1"
    assert (await get(http))[2] == b"1"  # dropped on the kept connection, sent again
    assert server.connections == 2
    with pytest.raises(ExchangeUnavailableError, match="Lost the connection") as lost:
        await http.send("POST", "/api/v1/order", None, b"{}", {}, None, "order")
    assert lost.value.maybe_sent is True
    await http.aclose()
    assert len(server.requests) == 4
    assert server.connections == 2  # the order went out on the kept connection, once
