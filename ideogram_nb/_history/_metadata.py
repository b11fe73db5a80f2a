"""The reproducible record inside saved images: PNG text chunks, JPEG/WebP comments.

Why in the file itself: an image travels without its history (mailed, dropped in a chat,
copied to another project). Like A1111's `parameters` chunk and ComfyUI's embedded workflow,
the record inside the PNG is enough to rebuild the request. It holds only what reproduces the
image (endpoint, spec, seed, resolution, returned prompt, provider, toolkit version): no run
ids, no timestamps, so the same request gives the same stored bytes and the same sha256.
It never holds a key: the spec's `to_dict()` has none to give.
"""

from __future__ import annotations

import io
import json
import os
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._api import LEGACY_DEFAULT_MODEL
from .._errors import MetadataError
from .._thumbnails import flatten_on_white
from .._version import __version__
from ._files import write_atomic

if TYPE_CHECKING:
    from .._specs._base import Spec

#: PNG text chunk holding the JSON record (also the key looked up in JPEG/WebP).
META_KEY = "ideogram_nb"
#: A1111-style human-readable chunk, understood by many image tools.
PARAMETERS_KEY = "parameters"
#: Fixed so the same pixels and record always give the same bytes.
PNG_COMPRESS_LEVEL = 6
#: EXIF ImageDescription: where WebP (and JPEG, besides its COM segment) keep the JSON.
_EXIF_IMAGE_DESCRIPTION = 0x010E
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}


def toolkit_version() -> str:
    """The ideogram_nb version written into every image's record."""
    return __version__


# --- writing ------------------------------------------------------------------------------
def _record_json(meta: dict[str, Any], *, ascii_only: bool = False) -> str:
    """Canonical JSON: sorted keys, no spaces, so equal records are equal bytes."""
    return json.dumps(meta, sort_keys=True, separators=(",", ":"), ensure_ascii=ascii_only, default=str)


def _with_version(meta: dict[str, Any]) -> dict[str, Any]:
    out = dict(meta)
    out.setdefault("version", toolkit_version())
    return out


def _spec_default(endpoint: str, name: str) -> object:
    """A field's default for this endpoint: `to_dict()` leaves defaults out."""
    try:
        from .._specs._registry import SPEC_CLASSES
    except ImportError:
        return None
    cls = SPEC_CLASSES.get(endpoint)
    if cls is None or name not in cls.param:
        return None
    return cls.param[name].default


def _model_label(endpoint: str, spec: dict[str, Any]) -> str | None:
    """V3 endpoints are one model at several speeds; legacy ones name a model."""
    if spec.get("model"):
        return str(spec["model"])
    if endpoint.startswith("legacy-"):
        return str(_spec_default(endpoint, "model") or LEGACY_DEFAULT_MODEL)
    if endpoint in ("upscale", "describe"):
        return None
    speed = spec.get("rendering_speed") or _spec_default(endpoint, "rendering_speed")
    return f"V3 {speed}" if speed else "V3"


def parameters_text(meta: dict[str, Any], size: tuple[int, int] | None = None) -> str:
    """The A1111-style `parameters` text: prompt, `Negative prompt:` line, then `Key: value`s.

    Absent parts are left out. `size` is the image's own size, used when the record has
    no resolution.
    """
    raw_spec = meta.get("spec")
    spec: dict[str, Any] = raw_spec if isinstance(raw_spec, dict) else {}
    endpoint = str(meta.get("endpoint") or spec.get("endpoint") or "")
    prompt = spec.get("prompt") or meta.get("prompt") or ""
    lines = [str(prompt)] if prompt else []
    if spec.get("negative_prompt"):
        lines.append(f"Negative prompt: {spec['negative_prompt']}")
    fields: list[tuple[str, object]] = []
    if meta.get("seed") is not None:
        fields.append(("Seed", meta["seed"]))
    resolution = meta.get("resolution")
    if resolution:
        fields.append(("Size", str(resolution).removeprefix("RESOLUTION_").replace("_", "x")))
    elif size is not None:
        fields.append(("Size", f"{size[0]}x{size[1]}"))
    model = _model_label(endpoint, spec)
    if model:
        fields.append(("Model", model))
    if endpoint:
        fields.append(("Endpoint", endpoint))
    style = spec.get("style_type") or meta.get("style_type")
    if style:
        fields.append(("Style", style))
    magic = spec.get("magic_prompt") or spec.get("magic_prompt_option")
    if magic:
        fields.append(("Magic prompt", magic))
    fields.append(("Version", f"ideogram_nb {meta.get('version') or toolkit_version()}"))
    lines.append(", ".join(f"{k}: {_quote(v)}" for k, v in fields))
    return "\n".join(lines)


def _quote(value: object) -> str:
    text = str(value)
    if any(c in text for c in ',"\n'):
        return json.dumps(text, ensure_ascii=False)
    return text


def embed_metadata(png_bytes: bytes | bytearray | memoryview, meta: dict[str, Any]) -> bytes:
    """Add the `ideogram_nb` JSON and `parameters` chunks to a PNG, without re-encoding it.

    Why splice chunks instead of re-saving with Pillow: every downloaded image passes through
    here, and re-encoding a 1024² PNG costs ~0.1 s of CPU per image (most of a call's local
    work). Splicing is lossless by construction and deterministic: earlier chunks of ours are
    replaced, so embedding into an already-embedded image gives the same bytes again.
    """
    return b"".join(embed_metadata_parts(png_bytes, meta))


def embed_metadata_parts(png_bytes: bytes | bytearray | memoryview, meta: dict[str, Any]) -> list[bytes | memoryview]:
    """`embed_metadata` as pieces to write one after another (their join is its result):
    views of the image's own runs of chunks around the new text chunks, so a caller that
    hashes and writes the pieces never makes a second copy of the image in memory."""
    view = memoryview(png_bytes).cast("B")
    if bytes(view[: len(_PNG_MAGIC)]) != _PNG_MAGIC:
        raise ValueError("embed_metadata expects PNG bytes; use save_with_metadata for JPEG/WebP")
    record = _with_version(meta)
    chunks = list(_png_chunks(view))
    if not chunks or chunks[0][0] != b"IHDR":
        raise ValueError("not a valid PNG: the first chunk is not IHDR")
    ihdr = bytes(view[chunks[0][1] + 8 : chunks[0][1] + 16])
    size = (int.from_bytes(ihdr[0:4], "big"), int.from_bytes(ihdr[4:8], "big"))
    ours = {META_KEY.encode("latin-1"), PARAMETERS_KEY.encode("latin-1")}
    # Existing chunks are kept byte for byte (no CRC work on the image data), as runs of
    # consecutive chunks; ours go before the first IDAT (or IEND), replacing earlier ones.
    runs: list[list[int]] = [[0, len(_PNG_MAGIC)]]
    insert_at = -1
    for kind, start, end in chunks:
        if kind in _TEXT_CHUNKS and _chunk_key(bytes(view[start + 8 : min(end - 4, start + 88)])) in ours:
            continue
        if insert_at < 0 and kind in (b"IDAT", b"IEND"):
            insert_at = start
        if runs[-1][1] == start:
            runs[-1][1] = end
        else:
            runs.append([start, end])
    text = _chunk_bytes(*_itxt(META_KEY, _record_json(record))) + _chunk_bytes(
        *_itxt(PARAMETERS_KEY, parameters_text(record, size))
    )
    parts: list[bytes | memoryview] = []
    for a, b in runs:
        if a <= insert_at < b:
            if a < insert_at:
                parts.append(view[a:insert_at])
            parts += [text, view[insert_at:b]]
        else:
            parts.append(view[a:b])
    return parts


_TEXT_CHUNKS = (b"tEXt", b"iTXt", b"zTXt")


def _png_chunks(data: bytes | memoryview) -> Iterator[tuple[bytes, int, int]]:
    """(kind, start, end) of each chunk, `end` past its CRC."""
    pos = len(_PNG_MAGIC)
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = bytes(data[pos + 4 : pos + 8])
        end = pos + 12 + length
        if end > len(data):
            raise ValueError("truncated PNG: a chunk runs past the end of the file")
        yield kind, pos, end
        pos = end
        if kind == b"IEND":
            return
    raise ValueError("truncated PNG: no IEND chunk")


def _chunk_key(body: bytes) -> bytes:
    return body.split(b"\0", 1)[0]


def _itxt(key: str, text: str) -> tuple[bytes, bytes]:
    """An uncompressed UTF-8 iTXt chunk: keyword, flags, empty language and translated key."""
    return b"iTXt", key.encode("latin-1") + b"\0\0\0\0\0" + text.encode("utf-8")


def _chunk_bytes(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return len(body).to_bytes(4, "big") + kind + body + crc.to_bytes(4, "big")


def save_with_metadata(
    image_path: str | Path,
    dest_path: str | Path,
    format: str | None = None,
    *,
    meta: dict[str, Any] | None = None,
    quality: int = 95,
) -> Path:
    """Save an image (usually a stored result) as PNG, JPEG or WebP, keeping its record.

    PNG keeps its chunks (a stored PNG is copied byte for byte); JPEG gets the JSON in a COM
    segment and the EXIF ImageDescription; WebP (lossless) in the EXIF ImageDescription.
    `meta` defaults to the record read from the source image, if it has one.
    """
    src, dest = Path(image_path), Path(dest_path)
    fmt = (format or _FORMATS.get(dest.suffix.lower(), "")).upper().replace("JPG", "JPEG")
    if fmt not in ("PNG", "JPEG", "WEBP"):
        raise ValueError(f"cannot tell the format of {dest.name!r}: use .png, .jpg or .webp, or pass format=")
    data = src.read_bytes()
    if meta is None:
        try:
            meta = read_metadata(data)
        except ValueError:
            meta = None
    if fmt == "PNG":
        if data.startswith(_PNG_MAGIC) and (meta is None or _embedded_json(data) == meta):
            out = data
        else:
            out = _to_png(data)
            if meta is not None:
                out = embed_metadata(out, meta)
    else:
        out = _to_lossy(data, fmt, meta, quality)

    write_atomic(dest, out)
    return dest


def _embedded_json(data: bytes) -> dict[str, Any] | None:
    try:
        return read_metadata(data)
    except ValueError:
        return None


def _to_png(data: bytes) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        out = io.BytesIO()
        im.save(out, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return out.getvalue()


def _to_lossy(data: bytes, fmt: str, meta: dict[str, Any] | None, quality: int) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        im.load()
        kwargs: dict[str, Any] = {}
        if meta is not None:
            text = _record_json(_with_version(meta), ascii_only=True)  # EXIF ASCII and COM
            exif = Image.Exif()
            exif[_EXIF_IMAGE_DESCRIPTION] = text
            kwargs["exif"] = exif.tobytes()
            if fmt == "JPEG":
                kwargs["comment"] = text
        if fmt == "JPEG":
            picture = flatten_on_white(im)  # JPEG has no alpha: white, as viewers show it
            kwargs.update(quality=quality)
        else:
            picture = im
            kwargs.update(lossless=True)
        out = io.BytesIO()
        picture.save(out, format=fmt, **kwargs)
    return out.getvalue()


# --- reading ------------------------------------------------------------------------------
def _open_bytes(source: object) -> tuple[bytes, str]:
    """The bytes, and how to name them in an error (the file's path, or "this image")."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), "this image"
    path = getattr(source, "path", source)  # an ImageResult carries its stored path
    if isinstance(path, (str, os.PathLike)):
        try:
            return Path(path).read_bytes(), str(path)
        except OSError as exc:  # missing, a folder, no permission: ours, naming the file
            raise MetadataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    raise TypeError(f"read_metadata needs a path or bytes, not {type(source).__name__}")


def read_metadata(path_or_bytes: str | Path | bytes | object) -> dict[str, Any]:
    """The record saved in an image: the `ideogram_nb` JSON, else the parsed `parameters`.

    Raises `MetadataError` (a `ValueError`) naming the file if it cannot be read, is not an
    image Pillow can open, or carries neither record.
    """
    from PIL import Image

    data, name = _open_bytes(path_or_bytes)
    try:
        with Image.open(io.BytesIO(data)) as im:
            texts: dict[str, Any] = dict(getattr(im, "text", {}) or {})  # PNG: may read to the end
            comment = im.info.get("comment")
            try:
                description = im.getexif().get(_EXIF_IMAGE_DESCRIPTION)
            except (OSError, SyntaxError, ValueError):  # a broken EXIF block is not our record
                description = None
    except (OSError, SyntaxError, ValueError) as exc:  # Pillow's UnidentifiedImageError is an OSError
        raise MetadataError(
            f"{name} is not a readable image (Pillow: {type(exc).__name__}); read_metadata reads PNG, "
            "JPEG and WebP files saved by ideogram_nb"
        ) from exc
    for candidate in (texts.get(META_KEY), comment, description):
        record = _parse_json_record(candidate)
        if record is not None:
            return record
    if isinstance(texts.get(PARAMETERS_KEY), str):
        return parse_parameters(texts[PARAMETERS_KEY])
    raise MetadataError(f"{name} carries no ideogram_nb metadata (no 'ideogram_nb' or 'parameters' text)")


def _parse_json_record(value: object) -> dict[str, Any] | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str) or not value.lstrip().startswith("{"):
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


#: A1111's `Key: value` pattern (values may be JSON-quoted when they hold commas).
_PARAM_RE = re.compile(r'\s*(\w[\w \-/]*):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')


def parse_parameters(text: str) -> dict[str, Any]:
    """Parse an A1111-style `parameters` text into prompt, negative_prompt, seed, size, ….

    Like A1111, the last line holds the `Key: value` list when it has at least three of
    them; everything before `Negative prompt:` is the prompt.
    """
    lines = text.strip("\n").split("\n")
    fields: dict[str, Any] = {}
    if lines and len(_PARAM_RE.findall(lines[-1])) >= 3:
        for key, value in _PARAM_RE.findall(lines.pop()):
            value = value.strip()
            if value.startswith('"') and value.endswith('"') and len(value) > 1:
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            fields[key.strip().lower().replace(" ", "_").replace("-", "_")] = value
    prompt_lines: list[str] = []
    negative_lines: list[str] | None = None
    for line in lines:
        if negative_lines is None and line.startswith("Negative prompt:"):
            negative_lines = [line.removeprefix("Negative prompt:").strip()]
        elif negative_lines is not None:
            negative_lines.append(line)
        else:
            prompt_lines.append(line)
    out: dict[str, Any] = {"prompt": "\n".join(prompt_lines).strip()}
    if negative_lines is not None:
        out["negative_prompt"] = "\n".join(negative_lines).strip()
    for key, value in fields.items():
        out[key] = value
    if "seed" in out:
        try:
            out["seed"] = int(out["seed"])
        except (TypeError, ValueError):
            pass
    out["parameters"] = text
    return out


def spec_from_image(path: str | Path | bytes | object) -> Spec:
    """Rebuild the spec that made this image, with the image's own seed filled in.

    The rebuilt spec asks for that one image: the seed is set and `num_images` goes back to
    its default, because a fixed seed with several images is not what made this one.
    """
    meta = read_metadata(path)
    spec = meta.get("spec")
    if not isinstance(spec, dict):
        raise MetadataError(
            "this image has only A1111-style 'parameters', not an ideogram_nb record: "
            "it cannot be rebuilt into a spec (read_metadata() shows what it has)"
        )
    from .._specs._registry import spec_from_dict

    d = dict(spec)
    d.setdefault("endpoint", meta.get("endpoint"))
    if meta.get("seed") is not None:
        d["seed"] = meta["seed"]
        d.pop("num_images", None)
    return spec_from_dict(d)
