"""Bad image files and masks are refused with a clear error before anything is sent.

Why these files: they are what users really hand over — a download cut short, a phone photo
over the size limit, an animated GIF, a mask exported at the wrong size or through JPEG (grey
edges), a mask left white, a mask with a speck of paint. Each must fail on the user's machine,
naming the field and the rule, with the transport seeing no request at all.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

import ideogram_nb as ig
from ideogram_nb._api import LARGER_IMAGE_LIMITS
from ideogram_nb._config import MAX_IMAGE_BYTES
from ideogram_nb._images import MAX_IMAGE_BYTES_ANY_ENDPOINT
from ideogram_nb.simulator import SimulatorTransport


class Recorder(httpx.BaseTransport):
    """Sees every request the client makes (there must be none)."""

    def __init__(self) -> None:
        self.inner = SimulatorTransport()
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)


def encode(img: Image.Image, fmt: str = "PNG", **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def picture(w: int = 64, h: int = 64) -> Image.Image:
    rng = np.random.default_rng(w * 1000 + h)
    return Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8))


def mask_png(w: int, h: int, black_fraction: float, mode: str = "L") -> bytes:
    arr = np.full((h, w), 255, dtype=np.uint8)
    arr[:, : int(round(w * black_fraction))] = 0
    return encode(Image.fromarray(arr).convert(mode))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def client(recorder: Recorder, tmp_path: Path) -> ig.Client:
    c = ig.Client(provider="offline", transport=recorder, history=ig.History(tmp_path / "h"), sleep=lambda s: None)
    yield c
    c.close()


def noise_png(path: Path, side: int) -> Path:
    """A real, decodable PNG of about side² x 3 bytes (noise does not compress)."""
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (side, side, 3), dtype=np.uint8)).save(path, compress_level=0)
    return path


def huge_png(path: Path) -> Path:
    """Over the largest per-file limit of any endpoint (25 MB): refused the moment it is set."""
    noise_png(path, 3000)
    assert path.stat().st_size > MAX_IMAGE_BYTES_ANY_ENDPOINT
    return path


def bad_files(folder: Path) -> dict[str, tuple[object, str]]:
    """name → (the value a user passes, a regex the error must match besides the field)."""
    png = encode(picture())
    (folder / "cut.png").write_bytes(png[: len(png) // 2])
    frames = [picture(32, 32), picture(33, 32).resize((32, 32))]
    gif = io.BytesIO()
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:])
    (folder / "anim.gif").write_bytes(gif.getvalue())
    return {
        "truncated PNG bytes": (png[: len(png) // 2], "truncated or corrupt"),
        "truncated PNG file": (folder / "cut.png", "truncated or corrupt"),
        "huge PNG file": (huge_png(folder / "huge.png"), r"25\.0 MB"),
        "huge PNG bytes": ((folder / "huge.png").read_bytes(), r"25\.0 MB"),
        "GIF file": (folder / "anim.gif", "GIF is not accepted"),
        "GIF bytes": (gif.getvalue(), "GIF is not accepted"),
        "missing file": (folder / "nope.png", "no such file"),
        "empty bytes": (b"", "empty"),
        "text, not an image": (b"hello, I am not a picture", "not a readable image"),
    }


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[object, str]]:
    return bad_files(tmp_path_factory.mktemp("bad"))


IMAGE_SPECS = [
    (ig.Remix, {"prompt": "p"}),
    (ig.Edit, {"prompt": "p"}),
    (ig.Reframe, {"resolution": "1024x1024"}),
    (ig.ReplaceBackground, {"prompt": "p"}),
    (ig.LegacyRemix, {"prompt": "p"}),
    (ig.LegacyEdit, {"prompt": "p"}),
    (ig.Upscale, {}),
    (ig.Describe, {}),
]


@pytest.mark.parametrize(("cls", "others"), IMAGE_SPECS, ids=[c.__name__ for c, _ in IMAGE_SPECS])
def test_bad_image_files_are_refused_naming_the_field(cls, others, bad, client, recorder):
    for label, (value, rule) in bad.items():
        with pytest.raises(ig.SpecError) as built:
            cls(image=value, **others)
        assert built.value.fields[0] == "image" and "image" not in built.value.fields[1:], label
        assert built.value.problems[0].field == "image"
        assert re.search(rule, str(built.value)), (label, str(built.value))

        spec = cls(**others)
        with pytest.raises(ig.ImageInputError, match=rf"^image: .*{rule}") as assigned:
            spec.image = value
        assert spec.image is None, label
        assert isinstance(assigned.value, ValueError)
        with pytest.raises(ig.SpecError, match="image"):
            client.run(spec)  # still no image: refused for that, locally
    assert recorder.requests == []
    assert len(client.history) == 0


@pytest.mark.parametrize(("cls", "others"), IMAGE_SPECS, ids=[c.__name__ for c, _ in IMAGE_SPECS])
def test_files_between_10_and_25_mb_are_refused_before_sending_where_every_source_says_10(
    cls, others, client, recorder, tmp_path
):
    """10 MB per file is what every source allows; later docs allow 25 MB on a few fields.

    Where only 10 MB is documented the spec refuses the file before anything is sent, naming
    the field; where a source allows 25 MB it is sent with a warning (sources disagree).
    """
    big = noise_png(tmp_path / "big.png", 1900)
    assert MAX_IMAGE_BYTES < big.stat().st_size < MAX_IMAGE_BYTES_ANY_ENDPOINT
    spec = cls(image=big, **others)  # a readable image: kept, judged per endpoint
    if (cls.endpoint, "image") in LARGER_IMAGE_LIMITS:
        assert any(w.field == "image" and "MB" in w.rule for w in spec.warnings())
        assert not [p for p in spec.problems() if p.field == "image"]
    else:
        with pytest.raises(ig.SpecError, match=r"image=.*at most 10\.0 MB") as info:
            client.run(spec)
        assert "image" in info.value.fields
        assert recorder.requests == [] and len(client.history) == 0


def test_bad_style_reference_files_are_refused(bad, client, recorder):
    for label, (value, rule) in bad.items():
        with pytest.raises(ig.SpecError, match=rule) as built:
            ig.Generate(prompt="p", style_reference_images=[encode(picture()), value])
        assert built.value.fields == ["style_reference_images"], label
    assert recorder.requests == []


def test_style_references_over_10_mb_together_are_refused_before_sending(tmp_path, client, recorder):
    rng = np.random.default_rng(1)
    noise = [encode(Image.fromarray(rng.integers(0, 255, (1360, 1360, 3), dtype=np.uint8)), compress_level=0)
             for _ in range(2)]  # fmt: skip
    assert all(len(n) < MAX_IMAGE_BYTES for n in noise) and sum(map(len, noise)) > MAX_IMAGE_BYTES
    spec = ig.Generate(prompt="p", style_reference_images=noise)  # each one is fine on its own
    with pytest.raises(ig.SpecError, match="together at most 10 MB") as info:
        client.run(spec)
    assert info.value.fields == ["style_reference_images"]
    assert recorder.requests == [] and len(client.history) == 0


def bad_masks(w: int, h: int) -> dict[str, tuple[object, str]]:
    """name → (mask value, a regex the mask problem must match)."""
    painted = ig.Mask(w, h)
    painted.rect(0, 0, 3, 3)  # a speck: far under 10 %
    return {
        "wrong size (half)": (mask_png(w // 2, h // 2, 0.5), rf"exactly the image's size {w}x{h}"),
        "wrong size (transposed)": (mask_png(h + 8, w, 0.5), rf"exactly the image's size {w}x{h}"),
        "pure white": (mask_png(w, h, 0.0), "pure white"),
        "pure white RGBA": (mask_png(w, h, 0.0, "RGBA"), "pure white"),
        "under 10 %": (mask_png(w, h, 0.05), "at least 10 %"),
        "a Mask with a speck": (painted, "at least 10 %"),
    }


@pytest.mark.parametrize("cls", [ig.Edit, ig.LegacyEdit], ids=lambda c: c.__name__)
def test_bad_masks_are_refused_naming_the_mask_before_sending(cls, client, recorder):
    image = encode(picture(96, 64))
    for label, (mask, rule) in bad_masks(96, 64).items():
        spec = cls(prompt="p", image=image, mask=mask)  # each value alone is an image: accepted
        with pytest.raises(ig.SpecError) as info:
            client.run(spec)
        assert set(info.value.fields) == {"mask"}, label
        assert re.search(rule, str(info.value)), (label, str(info.value))
    assert recorder.requests == []
    assert len(client.history) == 0


def grey_masks(w: int, h: int) -> dict[str, bytes]:
    """Masks with grey pixels, as painting tools and JPEG produce them: warned, not refused."""
    grey = np.full((h, w), 255, dtype=np.uint8)
    grey[:, : w // 2] = 0
    grey[:, w // 2 : w // 2 + 3] = 128  # an anti-aliased edge
    return {
        "grey pixels": encode(Image.fromarray(grey)),
        "saved as JPEG": encode(Image.fromarray(grey).convert("RGB"), "JPEG", quality=70),
    }


@pytest.mark.parametrize("cls", [ig.Edit, ig.LegacyEdit], ids=lambda c: c.__name__)
def test_grey_masks_are_sent_clean_black_and_white_with_a_warning(cls, client, recorder):
    image = encode(picture(96, 64))
    for label, mask in grey_masks(96, 64).items():
        spec = cls(prompt="p", image=image, mask=mask)
        warnings = spec.validate()
        assert [w.field for w in warnings if "grey or coloured" in w.rule] == ["mask"], label
        recorder.requests.clear()
        assert client.run(spec).ok, label
        sent = recorder.requests[0].content
        with Image.open(io.BytesIO(spec.mask.data)) as img:
            assert set(np.unique(np.asarray(img.convert("L")))) == {0, 255}, label
        assert spec.mask.data in sent, label  # exactly the clean PNG goes on the wire


def test_good_mask_goes_through(client, recorder):
    """The same set-up with a good mask is sent: the refusals above are about the masks."""
    image = encode(picture(96, 64))
    result = client.run(ig.Edit(prompt="p", image=image, mask=mask_png(96, 64, 0.5)))
    assert result.ok
    assert [r.method for r in recorder.requests] == ["POST", "GET"]
