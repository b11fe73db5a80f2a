"""`SimulatorServer`: the simulated service on a loopback HTTP port.

Why a real server besides the transport: notebooks, Voilà demos, curl and other processes
(and the client's real connection handling: timeouts, dropped sockets, keep-alive) can only be
exercised over a socket. It binds loopback only: it accepts any key, so it must never be
reachable from another machine.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TextIO

from ideogram_nb import _config

from ._faults import TIMEOUT_LIKE
from ._ledger import BilledCall
from ._service import SimRequest, SimulatorStats
from ._transport import SimulatorTransport

#: Idle keep-alive connections are closed after this many seconds.
_IDLE_TIMEOUT_S = 30.0
#: Larger bodies are refused unread: the service's own limits (10 MB per image) are far below.
_MAX_BODY_BYTES = 64 * 1024 * 1024
#: A chunk-size line longer than this is not HTTP.
_MAX_CHUNK_LINE = 1024
#: Hex digits only: `int(x, 16)` alone would take "-5" (a read to EOF) or "0x10".
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")


class _BadBody(Exception):
    """The request body cannot be read: answered with `status`, then the connection closes."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def check_loopback(host: str) -> str:
    """The host to bind, if it is a loopback address; ValueError otherwise."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise ValueError(f"host={host!r}: the simulator binds loopback addresses only (e.g. 127.0.0.1)") from None
    if not address.is_loopback:
        raise ValueError(
            f"host={host!r} is not a loopback address: the simulator accepts any API key, "
            "so it refuses to listen where other machines could reach it. Use 127.0.0.1."
        )
    return str(address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = _IDLE_TIMEOUT_S
    # Headers and body go out in separate writes; with Nagle's algorithm on, a keep-alive
    # client waits ~40 ms (delayed ACK) on every answer. Real servers set TCP_NODELAY too.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except _BadBody as exc:
            self.close_connection = True  # the body's end is unknown: the connection is unusable
            payload = json.dumps({"error": str(exc)}).encode()
            try:
                self._send(exc.status, payload, {"content-type": "application/json"})
            except OSError:
                pass  # the client has gone already: nobody to tell
            return
        path, _, query = self.path.partition("?")
        request = SimRequest(
            method=self.command,
            scheme="http",
            host=self.headers.get("host") or self.server.netloc,
            path=path,
            query=query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        reply = self.server.transport.service.handle(request)
        if reply.no_answer is not None:
            if reply.no_answer in TIMEOUT_LIKE:
                faults = self.server.transport.service.faults
                wait = faults.timeout_s if faults else _config.SIMULATOR_TIMEOUT_FAULT_S
                self.server.stopping.wait(wait)
            self.close_connection = True  # say nothing: the client sees a dropped connection
            return
        self._send(reply.status, reply.body, dict(reply.headers))

    def _read_body(self) -> bytes:
        """The request body: `Content-Length` bytes, or a chunked body (what httpx, requests
        and curl send for a streamed upload) decoded; `_BadBody` when it cannot be read."""
        encoding = self.headers.get("transfer-encoding", "").lower()
        if encoding:
            codings = [c.strip() for c in encoding.split(",")]
            if codings != ["chunked"]:
                raise _BadBody(501, f"Transfer-Encoding {encoding!r} is not supported; send chunked")
            return self._read_chunked()
        length_text = (self.headers.get("content-length") or "0").strip()
        if not length_text.isdigit():
            raise _BadBody(400, "Content-Length is not a number")
        length = int(length_text)
        if length > _MAX_BODY_BYTES:
            raise _BadBody(413, "Request body too large")
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        """RFC 9112 §7.1: hex size lines (extensions ignored), data, CRLF; a 0 chunk, trailers."""
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(_MAX_CHUNK_LINE + 1)
            size_text = line.split(b";", 1)[0].strip()
            if len(line) > _MAX_CHUNK_LINE or not line.endswith(b"\n") or not _CHUNK_SIZE.fullmatch(size_text):
                raise _BadBody(400, "Malformed chunked body: bad chunk-size line")
            size = int(size_text, 16)
            if size == 0:
                break
            total += size
            if total > _MAX_BODY_BYTES:
                raise _BadBody(413, "Request body too large")
            data = self.rfile.read(size)
            if len(data) != size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise _BadBody(400, "Malformed chunked body: truncated chunk")
            parts.append(data)
        while True:  # trailer fields, up to the empty line
            line = self.rfile.readline(_MAX_CHUNK_LINE + 1)
            if line in (b"\r\n", b"\n", b""):
                break
        return b"".join(parts)

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.log:
            super().log_message(format, *args)  # request line only: headers (the key) never


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], transport: SimulatorTransport, log: bool) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.transport = transport
        self.log = log
        self.stopping = threading.Event()
        super().__init__(address, _Handler)

    @property
    def netloc(self) -> str:
        address, port = self.server_address[:2]
        host = address.decode() if isinstance(address, bytes) else str(address)
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class SimulatorServer:
    """The simulator on `http://127.0.0.1:<port>` (port 0 picks a free one).

    `SimulatorServer(port=0, latency=0.1)` takes the `SimulatorTransport` arguments; use it as a
    context manager, or `start()`/`stop()`. `url` is the base URL to give a client.
    """

    def __init__(
        self,
        host: str = _config.SIMULATOR_HOST,
        port: int = 0,
        *,
        log: bool = False,
        **transport_kwargs: Any,
    ) -> None:
        self.host = check_loopback(host)
        self.port = port
        self.log = log
        self.transport = SimulatorTransport(**transport_kwargs)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        state = "running" if self._server else "stopped"
        return f"SimulatorServer({self.url if self._server else self.host!r}, {state})"

    @property
    def url(self) -> str:
        """The base URL, e.g. `http://127.0.0.1:54321` (only once started)."""
        if self._server is None:
            raise RuntimeError("SimulatorServer is not running: call start() first")
        return f"http://{self._server.netloc}"

    @property
    def stats(self) -> SimulatorStats:
        return self.transport.stats

    @property
    def billed(self) -> tuple[BilledCall, ...]:
        """The billed ledger (see `SimulatorTransport.billed`)."""
        return self.transport.billed

    def start(self) -> SimulatorServer:
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), self.transport, self.log)
        self._server = server
        self.port = int(server.server_address[1])
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="ideogram-simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.stopping.set()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def serve_forever(self) -> None:
        """Block until Ctrl-C (what `python -m ideogram_nb.simulator` does)."""
        self.start()
        try:
            assert self._thread is not None
            while self._thread.is_alive():
                self._thread.join(timeout=0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(
    host: str = _config.SIMULATOR_HOST,
    port: int = _config.SIMULATOR_DEFAULT_PORT,
    *,
    log: bool = True,
    out: TextIO | None = None,
    **transport_kwargs: Any,
) -> None:
    """Run the simulator in the foreground until Ctrl-C, after printing its URL."""
    server = SimulatorServer(host, port, log=log, **transport_kwargs).start()
    print(
        f"Ideogram simulator on {server.url} (loopback only, any Api-Key accepted; Ctrl-C stops it)",
        file=out or sys.stdout,
        flush=True,
    )
    server.serve_forever()
