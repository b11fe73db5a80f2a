"""The simulator reads the body shapes real clients send: a colour palette as a typed
`application/json` part (the schema's `encoding` block) or a plain text part, style codes as
repeated parts, the client's own requests, and chunked request bodies on the loopback server."""

from __future__ import annotations

import io
import json
import socket

import httpx
import numpy as np
import pytest
from _schema_cases import png
from PIL import Image

import ideogram_nb as ig
from ideogram_nb.simulator import SimulatorServer, SimulatorTransport

GENERATE = "/v1/ideogram-v3/generate"
PALETTE = {"members": [{"color_hex": "#ff0000", "color_weight": 0.8}, {"color_hex": "#00f"}]}


def _pixels(client: httpx.Client, response: httpx.Response) -> np.ndarray:
    assert response.status_code == 200, response.text
    with Image.open(io.BytesIO(client.get(response.json()["data"][0]["url"]).content)) as image:
        return np.asarray(image.convert("RGB"))


@pytest.mark.parametrize(
    "palette_part",
    [
        pytest.param((None, json.dumps(PALETTE)), id="plain text part"),
        pytest.param((None, json.dumps(PALETTE), "application/json"), id="typed application/json part"),
        pytest.param(
            ("palette.json", json.dumps(PALETTE).encode(), "application/json"), id="typed part with a filename"
        ),
    ],
)
def test_a_colour_palette_is_read_from_any_part_shape_and_means_the_same(client, palette_part):
    base = [("prompt", (None, "a field")), ("seed", (None, "4"))]
    plain = client.post(GENERATE, files=[*base, ("color_palette", (None, json.dumps(PALETTE)))])
    shaped = client.post(GENERATE, files=[*base, ("color_palette", palette_part)])
    without = client.post(GENERATE, files=base)

    assert np.array_equal(_pixels(client, shaped), _pixels(client, plain))
    assert not np.array_equal(_pixels(client, shaped), _pixels(client, without))


def test_a_typed_palette_part_that_is_not_json_is_a_400(client):
    response = client.post(
        GENERATE, files=[("prompt", (None, "x")), ("color_palette", (None, "{red}", "application/json"))]
    )

    assert response.status_code == 400
    assert "'color_palette'" in response.json()["detail"]


def test_a_binary_file_where_a_value_belongs_is_a_400(client):
    response = client.post(GENERATE, files=[("prompt", (None, "x")), ("seed", ("seed.png", png(), "image/png"))])

    assert response.status_code == 400
    assert "'seed'" in response.json()["detail"] and "file part" in response.json()["detail"]


def test_style_codes_as_repeated_parts_are_all_read_and_checked(client):
    codes = ["AAFF5733", "0133FF57", "DE3357FF"]
    repeated = client.post(GENERATE, files=[("prompt", (None, "x")), ("seed", (None, "1"))]
                           + [("style_codes", (None, code)) for code in codes])  # fmt: skip
    first_only = client.post(
        GENERATE, files=[("prompt", (None, "x")), ("seed", (None, "1")), ("style_codes", (None, codes[0]))]
    )
    one_bad = client.post(GENERATE, files=[("prompt", (None, "x")), ("style_codes", (None, codes[0])),
                                           ("style_codes", (None, "NOTACODE"))])  # fmt: skip

    assert not np.array_equal(_pixels(client, repeated), _pixels(client, first_only))  # every code counts
    assert one_bad.status_code == 400 and "'NOTACODE'" in one_bad.json()["detail"]


def test_style_codes_as_one_json_array_part_mean_the_same_as_repeated_parts(client):
    codes = ["AAFF5733", "0133FF57"]
    base = [("prompt", (None, "x")), ("seed", (None, "1"))]
    repeated = client.post(GENERATE, files=base + [("style_codes", (None, c)) for c in codes])
    array = client.post(GENERATE, files=[*base, ("style_codes", (None, json.dumps(codes)))])

    assert np.array_equal(_pixels(client, array), _pixels(client, repeated))


def test_the_clients_own_requests_are_accepted():
    """What `ideogram_nb.Client` puts on the wire today, byte for byte, answered 200."""
    from openapi_support import capture_client_request

    specs = [
        ig.Generate(prompt="a field", color_palette="EMBER", style_codes=("AAFF5733", "0133FF57"), num_images=2),
        ig.Generate(prompt="a field", color_palette=("#ff0000", "#00ff00"), style_preset="BAUHAUS"),
        ig.LegacyGenerate(prompt="a field", color_palette="JUNGLE", model="V_2"),
        ig.Upscale(image=png(40, 30), prompt="sharper", resemblance=70),
        ig.Describe(image=png(40, 30)),
    ]
    sim = SimulatorTransport()
    for spec in specs:
        request = capture_client_request(spec)
        response = sim.handle_request(request)
        assert response.status_code == 200, (type(spec).__name__, response.read())


# --- chunked request bodies on the loopback server ------------------------------------------------
def _in_chunks(body: bytes, size: int = 1000):
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_the_server_reads_chunked_bodies_and_keeps_the_connection(kit):
    form = httpx.Request("POST", "http://x/", files=[("prompt", (None, "a kite")), ("seed", (None, "2")),
                                                     ("style_reference_images", ("s.png", png(90, 90), "image/png"))])  # fmt: skip
    multipart = form.read()
    with SimulatorServer(port=0) as server, httpx.Client(base_url=server.url, headers=kit.key_headers) as c:
        chunked = c.post(GENERATE, content=_in_chunks(multipart),
                         headers={"content-type": form.headers["content-type"]})  # fmt: skip
        as_json = c.post("/generate", content=_in_chunks(b'{"image_request": {"prompt": "a kite"}}', 7),
                         headers={"content-type": "application/json"})  # fmt: skip
        sized = c.post(GENERATE, content=multipart, headers={"content-type": form.headers["content-type"]})

        assert chunked.request.headers["transfer-encoding"] == "chunked"
        assert (chunked.status_code, as_json.status_code) == (200, 200), (chunked.text, as_json.text)
        assert chunked.json()["data"][0]["seed"] == 2
        assert np.array_equal(kit.decode(c.get(chunked.json()["data"][0]["url"]).content),
                              kit.decode(c.get(sized.json()["data"][0]["url"]).content))  # fmt: skip
        assert server.stats.posts == 3


def _raw(server: SimulatorServer, payload: bytes) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)  # the client is done sending: a short body ends here
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def test_a_malformed_chunked_body_is_a_400_and_the_connection_closes():
    head = b"POST /generate HTTP/1.1\r\nHost: x\r\nApi-Key: k\r\nTransfer-Encoding: chunked\r\n\r\n"
    with SimulatorServer(port=0) as server:
        bad_size = _raw(server, head + b"zz\r\nhello\r\n0\r\n\r\n")
        negative = _raw(server, head + b"-5\r\nhello\r\n0\r\n\r\n")
        truncated = _raw(server, head + b"10\r\nshort")
        other_coding = _raw(server, head.replace(b"chunked", b"gzip, chunked") + b"0\r\n\r\n")

    assert bad_size.startswith(b"HTTP/1.1 400") and b"chunk" in bad_size
    assert negative.startswith(b"HTTP/1.1 400")
    assert truncated.startswith(b"HTTP/1.1 400")
    assert other_coding.startswith(b"HTTP/1.1 501")
