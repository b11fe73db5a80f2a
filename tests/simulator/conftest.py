"""Fixtures for the simulator's tests: a client on the in-process transport, and builders
for real-shaped request bodies (multipart parts as any HTTP client would send them)."""

from __future__ import annotations

import io
from collections.abc import Callable

import httpx
import numpy as np
import pytest
from PIL import Image

from ideogram_nb.simulator import SimulatorTransport

BASE_URL = "http://simulator.invalid"
KEY_HEADERS = {"Api-Key": "test-key-not-secret"}

FormParts = list[tuple[str, tuple[str | None, bytes | str] | tuple[str, bytes, str]]]


def encode(pixels: np.ndarray, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(buffer, format=fmt)
    return buffer.getvalue()


def solid(width: int, height: int, colour: tuple[int, int, int] = (40, 120, 200)) -> np.ndarray:
    return np.broadcast_to(np.array(colour, dtype=np.uint8), (height, width, 3)).copy()


def decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def form(**fields: object) -> FormParts:
    """Multipart parts: text values as plain parts, bytes as file parts, lists repeated."""
    parts: FormParts = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, bytes):
                parts.append((name, (f"{name}.png", item, "image/png")))
            else:
                parts.append((name, (None, str(item))))
    return parts


class Kit:
    """The helpers above, as one fixture (test modules cannot import a conftest reliably)."""

    base_url = BASE_URL
    key_headers = KEY_HEADERS
    encode = staticmethod(encode)
    solid = staticmethod(solid)
    decode = staticmethod(decode)
    form = staticmethod(form)


@pytest.fixture
def kit() -> type[Kit]:
    return Kit


@pytest.fixture
def sim() -> SimulatorTransport:
    return SimulatorTransport()


@pytest.fixture
def client(sim: SimulatorTransport) -> httpx.Client:
    with httpx.Client(transport=sim, base_url=BASE_URL, headers=KEY_HEADERS) as c:
        yield c


@pytest.fixture
def fetch(client: httpx.Client) -> Callable[[httpx.Response, int], np.ndarray]:
    """The pixels of image `index` of a successful answer, downloaded from its URL."""

    def download(response: httpx.Response, index: int = 0) -> np.ndarray:
        assert response.status_code == 200, response.text
        got = client.get(response.json()["data"][index]["url"])
        assert got.status_code == 200
        assert got.headers["content-type"] == "image/png"
        return decode(got.content)

    return download
