"""Reading and checking request fields the way the service's schema validation does.

Why a reader that collects problems: the service answers one 400 for a bad request; naming
every broken field in it (instead of the first) makes the simulator's answers more useful
than the real thing without changing their shape. Form fields arrive as strings and are
coerced; JSON fields must already have the right type, as the schema demands.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from ideogram_nb import _api, _config

from ._body import Upload

#: Formats the service decodes (PIL's names).
IMAGE_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP")
_INT_TEXT = re.compile(r"^\s*[+-]?\d+\s*$")


@dataclass(frozen=True, eq=False)
class InputImage:
    """A decoded upload: the bytes as sent and their RGB pixels."""

    field: str
    data: bytes
    format: str
    width: int
    height: int
    pixels: np.ndarray  # (height, width, 3) uint8

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def decode_image(
    field_name: str, data: bytes, problems: list[str], limit: int = _config.MAX_IMAGE_BYTES
) -> InputImage | None:
    """Decode one upload, or add the problem the service would answer with."""
    if len(data) > limit:
        limit_mb = limit // (1024 * 1024)
        problems.append(f"'{field_name}': image is larger than {limit_mb} MB ({len(data)} bytes)")
        return None
    try:
        with Image.open(io.BytesIO(data)) as opened:
            fmt = opened.format or "unknown"
            if fmt not in IMAGE_FORMATS:
                problems.append(f"'{field_name}': {fmt} images are not supported; send JPEG, PNG or WebP")
                return None
            opened.load()
            image = opened.convert("RGBA") if opened.mode in ("P", "PA", "LA") else opened
            pixels = np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        problems.append(f"'{field_name}': not a decodable JPEG, PNG or WebP image")
        return None
    height, width = pixels.shape[:2]
    return InputImage(field_name, bytes(data), fmt, width, height, pixels)


@dataclass
class Reader:
    """Typed access to one bag of fields (a form, or a JSON object), recording problems.

    `fingerprint` collects every value read, normalised (images by hash), so two requests
    that mean the same thing render the same pixels however they were spelled.
    """

    values: Mapping[str, Sequence[object]]
    problems: list[str]
    typed: bool  # True for JSON (types are enforced), False for form strings
    fingerprint: dict[str, object] = field(default_factory=dict)
    #: Every image decoded from this request, in order (the safety check looks at them).
    decoded: list[InputImage] = field(default_factory=list)
    #: Per-file byte limits above `_config.MAX_IMAGE_BYTES`, by field (see `for_endpoint`).
    byte_limits: dict[str, int] = field(default_factory=dict)

    def for_endpoint(self, endpoint: str) -> Reader:
        """Apply `endpoint`'s larger per-file limits (`_api.LARGER_IMAGE_LIMITS`: later docs
        allow 25 MB on some fields; the client sends those with a warning)."""
        self.byte_limits = {name: n for (ep, name), n in _api.LARGER_IMAGE_LIMITS.items() if ep == endpoint}
        return self

    @classmethod
    def from_json(cls, obj: Mapping[str, object], problems: list[str]) -> Reader:
        return cls({k: [v] for k, v in obj.items()}, problems, typed=True)

    def problem(self, name: str, message: str) -> None:
        self.problems.append(f"'{name}': {message}")

    def has(self, name: str) -> bool:
        return bool(self.values.get(name))

    def _first(self, name: str) -> object | None:
        found = self.values.get(name)
        return _as_value(found[0]) if found else None

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self._first(name)
        if value is None or value == "":
            if required:
                self.problem(name, "is a required property")
            return None
        if isinstance(value, Upload):
            self.problem(name, "must be a value, not a file part")
            return None
        if not isinstance(value, str):
            self.problem(name, f"{_shown(value)} is not of type 'string'")
            return None
        self.fingerprint[name] = value
        return value

    def integer(self, name: str, low: int, high: int, *, required: bool = False) -> int | None:
        value = self._first(name)
        if value is None or value == "":
            if required:
                self.problem(name, "is a required property")
            return None
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and not self.typed and _INT_TEXT.match(value):
            number = int(value)
        if number is None:
            self.problem(name, f"{_shown(value)} is not of type 'integer'")
            return None
        if number < low:
            self.problem(name, f"{number} is less than the minimum of {low}")
            return None
        if number > high:
            self.problem(name, f"{number} is greater than the maximum of {high}")
            return None
        self.fingerprint[name] = number
        return number

    def choice(
        self,
        name: str,
        options: Sequence[str],
        *,
        required: bool = False,
        aliases: Mapping[str, str] | None = None,
    ) -> str | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        value = (aliases or {}).get(value, value)
        if value not in options:
            self.fingerprint.pop(name, None)
            self.problem(name, f"{_shown(value)} is not one of {_listed(options)}")
            return None
        self.fingerprint[name] = value
        return value

    def texts(self, name: str, pattern: str | None = None) -> list[str]:
        """A list of strings: repeated form parts (how multipart spells an array), a JSON
        array in a JSON body, or one form part holding a JSON array (some clients send that)."""
        found: list[str] = []
        values = [_as_value(v) for v in self.values.get(name, ())]
        if not self.typed and len(values) == 1 and isinstance(values[0], str):
            values = _json_array_or(values[0])
        if self.typed and len(values) == 1 and isinstance(values[0], list):
            values = values[0]  # a JSON array
        for value in values:
            if isinstance(value, Upload):
                self.problem(name, "must be values, not file parts")
            elif not isinstance(value, str):
                self.problem(name, f"{_shown(value)} is not of type 'string'")
            elif pattern is not None and not re.match(pattern, value):
                self.problem(name, f"{_shown(value)} does not match {pattern!r}")
            else:
                found.append(value)
        if found:
            self.fingerprint[name] = found
        return found

    def json_object(self, name: str, *, required: bool = False) -> dict[str, object] | None:
        """A JSON object field: a JSON string in a form, an object in a JSON body."""
        value = self._first(name)
        if value is None or value == "":
            if required:
                self.problem(name, "is a required property")
            return None
        if isinstance(value, str) and not self.typed:
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                self.problem(name, "is not valid JSON")
                return None
        if not isinstance(value, dict):
            self.problem(name, f"{_shown(value)} is not of type 'object'")
            return None
        return value

    def image(self, name: str, *, required: bool = False) -> InputImage | None:
        if not self.has(name):
            if required:
                self.problem(name, "is a required property")
            return None
        found = self.images(name)
        return found[0] if found else None

    def images(self, name: str) -> list[InputImage]:
        decoded: list[InputImage] = []
        for value in self.values.get(name, ()):
            if not isinstance(value, Upload):
                self.problem(name, "must be a file part")
                continue
            limit = self.byte_limits.get(name, _config.MAX_IMAGE_BYTES)
            image = decode_image(name, value.data, self.problems, limit)
            if image is not None:
                decoded.append(image)
        self.decoded.extend(decoded)
        if decoded:
            self.fingerprint[name] = [f"sha256:{img.sha256}" for img in decoded]
        return decoded


#: Media types of a part that carries a value (text or JSON) rather than a file.
_VALUE_MEDIA_TYPES = ("application/json", "text/plain")


def _as_value(value: object) -> object:
    """A part sent as a typed text part with a filename (`application/json` or `text/plain`)
    means its text: the `encoding` block only fixes the part's content type, and clients
    differ on whether such a part gets a filename. Anything else is returned unchanged."""
    if isinstance(value, Upload) and (value.content_type in _VALUE_MEDIA_TYPES):
        try:
            return value.data.decode("utf-8")
        except UnicodeDecodeError:
            return value
    return value


def _json_array_or(text: str) -> list[object]:
    """`'["A", "B"]'` → ["A", "B"]; any other text → [text] (validated as one item)."""
    if text.lstrip().startswith("["):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            return [text]
        if isinstance(parsed, list):
            return parsed
    return [text]


def _listed(options: Sequence[str], most: int = 16) -> str:
    """The allowed values, shortened when there are many (69 resolutions)."""
    if len(options) <= most:
        return str(list(options))
    shown = ", ".join(repr(option) for option in options[:most])
    return f"[{shown}, ...] ({len(options)} values)"


def _shown(value: object) -> str:
    if isinstance(value, Upload):
        return f"a file part ({value.content_type})"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_color_palette(reader: Reader, name: str = "color_palette") -> list[tuple[int, int, int]]:
    """Validate a ColorPalette (`{"name": preset}` or `{"members": [...]}`); its colours."""
    palette = reader.json_object(name)
    if palette is None:
        return []
    colours: list[tuple[int, int, int]] = []
    if "name" in palette and "members" not in palette:
        if palette["name"] not in _api.COLOR_PALETTE_PRESETS:
            reader.problem(name, f"name {_shown(palette['name'])} is not one of {list(_api.COLOR_PALETTE_PRESETS)}")
            return []
        digest = hashlib.sha256(str(palette["name"]).encode()).digest()
        colours = [(digest[i], digest[i + 1], digest[i + 2]) for i in range(0, 9, 3)]
    elif "members" in palette and "name" not in palette:
        members = palette["members"]
        most = _api.COLOR_PALETTE_MAX_MEMBERS
        if not isinstance(members, list) or not 1 <= len(members) <= most:
            reader.problem(name, f"members must be a list of 1 to {most} colours")
            return []
        for member in members:
            hex_code = member.get("color_hex") if isinstance(member, dict) else None
            if not isinstance(hex_code, str) or not re.match(_api.HEX_COLOR_PATTERN, hex_code):
                reader.problem(name, f"member {_shown(member)} needs a color_hex like '#ff8800'")
                return []
            weight = member.get("color_weight", 1.0)
            low, high = _api.COLOR_WEIGHT_MIN, _api.COLOR_WEIGHT_MAX
            if not isinstance(weight, int | float) or isinstance(weight, bool) or not low <= weight <= high:
                reader.problem(name, f"color_weight {_shown(weight)} must be within {low}..{high}")
                return []
            colours.append(_hex_to_rgb(hex_code))
    else:
        reader.problem(name, "must have either 'name' or 'members'")
        return []
    reader.fingerprint[name] = palette
    return colours


def _hex_to_rgb(code: str) -> tuple[int, int, int]:
    digits = code.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)
