"""The simulator's image host: signed, expiring URLs over a bounded in-memory store.

Why signed and expiring: the real service's image URLs carry `exp=<unix>&sig=<hex>` and stop
working (about a day later). A client that stores URLs instead of images works in a demo and
fails a day later; the simulator makes that failure show up in a test, with a fake clock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs

from ideogram_nb import _config

#: Path of an image, under the prefix the request came in on.
IMAGE_PATH_PREFIX = "/images/ephemeral/"
#: Expired URLs answer 410 Gone (a bad signature answers 403): different, so tests can tell.
EXPIRED_STATUS = 410


@dataclass(frozen=True)
class Fetched:
    """The answer to one image GET."""

    status: int
    body: bytes
    content_type: str


class ImageVault:
    """PNG bytes by id (a content hash), newest kept, signed URLs checked on the way out."""

    def __init__(
        self,
        clock: Callable[[], float],
        ttl_s: float = _config.SIMULATOR_URL_TTL_S,
        max_images: int = _config.SIMULATOR_MAX_STORED_IMAGES,
        max_bytes: int = _config.SIMULATOR_MAX_STORED_BYTES,
    ) -> None:
        self._clock = clock
        self._ttl_s = ttl_s
        self._max_images = max_images
        self._max_bytes = max_bytes
        self._secret = secrets.token_bytes(16)  # signatures from another simulator never verify
        self._images: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._images)

    def put(self, png: bytes) -> str:
        image_id = hashlib.sha256(png).hexdigest()[:32]
        with self._lock:
            if image_id in self._images:
                self._images.move_to_end(image_id)
                return image_id
            self._images[image_id] = png
            self._bytes += len(png)
            while len(self._images) > self._max_images or (self._bytes > self._max_bytes and len(self._images) > 1):
                _, dropped = self._images.popitem(last=False)
                self._bytes -= len(dropped)
        return image_id

    def url(self, base: str, image_id: str, *, expired: bool = False) -> str:
        """`base` is `scheme://host[/prefix]`, taken from the request being answered."""
        now = int(self._clock())
        exp = now - 1 if expired else now + int(self._ttl_s)
        return f"{base}{IMAGE_PATH_PREFIX}{image_id}.png?exp={exp}&sig={self._sign(image_id, exp)}"

    def fetch(self, path: str, query: str) -> Fetched:
        """Serve `path` (after the prefix) if the signature holds and the URL has not expired."""
        name = path.removeprefix(IMAGE_PATH_PREFIX)
        image_id = name.removesuffix(".png")
        params = parse_qs(query)
        exp_text = (params.get("exp") or [""])[0]
        sig = (params.get("sig") or [""])[0]
        if not exp_text.lstrip("-").isdigit() or not hmac.compare_digest(sig, self._sign(image_id, int(exp_text))):
            return _error(403, "Invalid or missing signature")
        if self._clock() > int(exp_text):
            return _error(EXPIRED_STATUS, "URL expired")
        with self._lock:
            png = self._images.get(image_id)
        if png is None or not name.endswith(".png"):
            return _error(404, "Image not found (evicted from the simulator's store)")
        return Fetched(200, png, "image/png")

    def _sign(self, image_id: str, exp: int) -> str:
        return hmac.new(self._secret, f"{image_id}.{exp}".encode(), hashlib.sha256).hexdigest()[:32]


def _error(status: int, message: str) -> Fetched:
    return Fetched(status, json.dumps({"error": message}).encode(), "application/json")
