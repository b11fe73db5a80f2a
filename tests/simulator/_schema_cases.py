"""Real-shaped requests for every route, for the tests that hold the simulator to Ideogram's
official schema (`test_sim_schema.py`, `test_sim_schema_requests.py`).

Why a module and not the conftest: these builders are plain functions the test modules call
at collection time (to parametrize), which a fixture cannot do.
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from ideogram_nb import _api

V3 = "/v1/ideogram-v3/"
#: Endpoints whose fields live in the `image_request` JSON (a JSON body or a JSON string part).
NESTED = frozenset({"legacy-generate", "legacy-remix", "upscale"})
#: Where the output is as small as the input image, so a request costs little to answer.
SMALL_OUTPUT = ("edit", "replace-background", "legacy-edit", "upscale", "describe")


def png(width: int = 64, height: int = 64, colour: tuple[int, int, int] = (40, 120, 200), *, text: str = "") -> bytes:
    """A solid PNG; `text` goes into a tEXt chunk (where the simulator's safety marker hides)."""
    info = PngInfo()
    if text:
        info.add_text("comment", text)
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def mask_png(width: int = 64, height: int = 64) -> bytes:
    """White (keep) with a black (edit) square over a quarter of the image."""
    pixels = np.full((height, width), 255, np.uint8)
    pixels[height // 4 : 3 * height // 4, width // 4 : 3 * width // 4] = 0
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def parts(fields: dict[str, Any], files: dict[str, bytes | list[bytes]] | None = None) -> list[tuple[str, Any]]:
    """httpx `files=` parts: values as plain text parts (lists repeated), images as file parts."""
    out: list[tuple[str, Any]] = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            text = json.dumps(item) if isinstance(item, dict) else str(item)
            out.append((name, (None, text)))
    for name, blob in (files or {}).items():
        for index, data in enumerate(blob if isinstance(blob, list) else [blob]):
            out.append((name, (f"{name}-{index}.png", data, "image/png")))
    return out


def request(endpoint: str, fields: dict[str, Any] | None = None, *, image: bytes | None = None) -> dict[str, Any]:
    """httpx keyword arguments for a valid `endpoint` request with `fields` added (or replacing
    the defaults): the smallest body the schema and the service accept, as real clients send it."""
    fields = dict(fields or {})
    image = image if image is not None else png()
    if endpoint in NESTED:
        body = {"prompt": "a lighthouse"} if endpoint != "upscale" else {}
        body.update(fields)
        if endpoint == "legacy-generate":
            return {"json": {"image_request": body}}
        return {"files": parts({"image_request": json.dumps(body)}, {"image_file": image})}
    if endpoint == "describe":
        return {"files": parts(fields, {"image_file": image})}
    if endpoint == "legacy-edit":
        base = {"prompt": "a lighthouse", "model": "V_2"}
        return {"files": parts({**base, **fields}, {"image_file": image, "mask": mask_png()})}
    base = {} if endpoint == "reframe" else {"prompt": "a lighthouse"}
    if endpoint == "reframe":
        base["resolution"] = "1024x1024"
    files: dict[str, bytes | list[bytes]] = {}
    if endpoint != "generate":
        files["image"] = image
    if endpoint == "edit":
        files["mask"] = mask_png()
    return {"files": parts({**base, **fields}, files)}


def path_of(endpoint: str) -> str:
    return _api.ROUTES[endpoint]
