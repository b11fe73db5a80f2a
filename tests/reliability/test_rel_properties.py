"""Property tests over every endpoint's spec: generated from the parameters' own declarations
(bounds, objects), on both sides of every rule.

The claims:
* a value a field does not allow is refused at once, by a `SpecError` naming that field
  (constructor) or an error naming it (assignment), and the spec keeps its old value;
* a combination that breaks a cross-field rule is refused by `validate()` naming exactly the
  fields an independent oracle (written from `shared/API.md`, not from the code) expects, and
  the client then sends nothing;
* everything that passes local validation is accepted by the simulator (`stats.invalid == 0`
  over a sample actually sent), returns the sizes the spec predicts, and survives
  `to_dict` → JSON → `spec_from_dict` with the same request hash.

Strategies are built by parameter *type*: a field of a type this file does not know fails the
test, so a new kind of field cannot slip past unchecked. CI runs a fixed (derandomised) set of
examples per endpoint; `--soak` runs many more, randomly.
"""

from __future__ import annotations

import io
import json
import string
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import param
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import ideogram_nb as ig
from ideogram_nb import _api
from ideogram_nb._images import MAX_IMAGE_BYTES_ANY_ENDPOINT
from ideogram_nb._specs._fields import ColorPaletteParam, ImageListParam, ImageParam, StyleCodesParam
from ideogram_nb._specs._wire import request_hash
from ideogram_nb.simulator import SimulatorTransport

SPECS: list[type[ig.Spec]] = [
    ig.Generate, ig.Remix, ig.Edit, ig.Reframe, ig.ReplaceBackground,
    ig.LegacyGenerate, ig.LegacyRemix, ig.LegacyEdit, ig.Upscale, ig.Describe,
]  # fmt: skip

# --- the oracle: API.md's rules, written out independently of the specs ----------------------
REQUIRED: dict[type[ig.Spec], set[str]] = {
    ig.Generate: {"prompt"},
    ig.Remix: {"prompt", "image"},
    ig.Edit: {"prompt", "image", "mask"},
    ig.Reframe: {"image", "resolution"},
    ig.ReplaceBackground: {"prompt", "image"},
    ig.LegacyGenerate: {"prompt"},
    ig.LegacyRemix: {"prompt", "image"},
    ig.LegacyEdit: {"prompt", "image", "mask"},
    ig.Upscale: {"image"},
    ig.Describe: {"image"},
}
#: Models a field may be sent with: refused with the others (every source forbids them);
#: AUTO picks the model itself and V_3 + negative_prompt is in AiHubMix's own example, so
#: those are sent with a warning (docs/schema-conformance.md).
LEGACY_ONLY_FOR: dict[str, set[str]] = {
    "resolution": {"V_2", "V_2_TURBO", "V_2A", "V_2A_TURBO", "AUTO"},  # "only for V_2-class models"
    "style_type": {"V_2", "V_2_TURBO", "V_2A", "V_2A_TURBO", "V_3", "AUTO"},  # "never with V_1/V_1_TURBO"
    "negative_prompt": {"V_1", "V_1_TURBO", "V_2", "V_2_TURBO", "V_3", "AUTO"},
    "color_palette": {"V_2", "V_2_TURBO", "V_3", "AUTO"},  # "not for V_1, V_1_TURBO, V_2A, V_2A_TURBO"
}


@dataclass(frozen=True)
class Img:
    """A pool image: the value handed to the spec, and what the oracle knows about it."""

    name: str
    value: Any
    width: int
    height: int
    mask_kind: str = "image"  # for masks: ok, grey (sent thresholded, warned), white, small

    def __repr__(self) -> str:  # hypothesis prints failing examples: keep them short
        return f"<{self.name} {self.width}x{self.height}>"


def is_set(value: Any) -> bool:
    """Whether a generated value is sent (None, "", and empty lists are not)."""
    return value is not None and value != "" and not (isinstance(value, (list, tuple)) and not value)


def expected_problems(cls: type[ig.Spec], case: dict[str, Any]) -> set[str]:
    """The fields `validate()` must name for this combination of per-field-valid values."""
    found: set[str] = set()
    for name in REQUIRED[cls]:
        value = case.get(name)
        if not is_set(value) or (isinstance(value, str) and not value.strip()):
            found.add(name)
    if is_set(case.get("resolution")) and is_set(case.get("aspect_ratio")):
        found.add("resolution")
    style_given = is_set(case.get("style_reference_images")) or is_set(case.get("style_type"))
    if is_set(case.get("style_codes")) and style_given:
        found.add("style_codes")
    if cls.family == "legacy" and "model" in cls.field_names():
        model = case.get("model", cls.param["model"].default)
        for name, models in LEGACY_ONLY_FOR.items():
            if name in cls.field_names() and is_set(case.get(name)) and model not in models:
                found.add(name)
    image, mask = case.get("image"), case.get("mask")
    if cls is ig.Reframe and isinstance(image, Img) and image.width != image.height:
        found.add("image")
    if isinstance(mask, Img):
        wrong_size = isinstance(image, Img) and (image.width, image.height) != (mask.width, mask.height)
        if mask.mask_kind in ("white", "small") or wrong_size:
            found.add("mask")
    # "currently only supports 1 character reference image"; masks: "must match the number".
    char_masks, chars = case.get("character_reference_images_mask"), case.get("character_reference_images")
    if is_set(chars) and len(chars) > 1:
        found.add("character_reference_images")
    if is_set(char_masks) and len(char_masks) != (len(chars) if is_set(chars) else 0):
        found.add("character_reference_images_mask")
    return found


# --- the image pool ----------------------------------------------------------------------------
def _encode(img: Image.Image, fmt: str, **kw: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _picture(w: int, h: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8))


def _mask(w: int, h: int, black_fraction: float, grey: bool = False) -> np.ndarray:
    arr = np.full((h, w), 255, dtype=np.uint8)
    arr[:, : int(round(w * black_fraction))] = 0
    if grey:
        arr[0:2, -4:] = 128
    return arr


@dataclass
class Pool:
    images: list[Img]
    masks: list[Img]
    bad: list[Any]

    def ok_masks(self, w: int, h: int) -> list[Img]:
        return [m for m in self.masks if m.mask_kind == "ok" and (m.width, m.height) == (w, h)]

    def square_image(self) -> Img:
        return next(i for i in self.images if i.width == i.height)


def make_pool(folder: Path) -> Pool:
    folder.mkdir(parents=True, exist_ok=True)
    path48 = folder / "picture48.png"
    _picture(48, 48, 3).save(path48)
    rgba = _picture(64, 64, 4).convert("RGBA")
    images = [
        Img("png64", _encode(_picture(64, 64, 1), "PNG"), 64, 64),
        Img("jpg64", _encode(_picture(64, 64, 2), "JPEG", quality=90), 64, 64),
        Img("webp48", _encode(_picture(48, 48, 5), "WEBP"), 48, 48),
        Img("path48", path48, 48, 48),
        Img("pil64rgba", rgba, 64, 64),
        Img("png80x48", _encode(_picture(80, 48, 6), "PNG"), 80, 48),
    ]
    masks: list[Img] = []
    for w, h in ((64, 64), (48, 48), (80, 48)):
        masks.append(Img(f"mask{w}x{h}", _encode(Image.fromarray(_mask(w, h, 0.5)), "PNG"), w, h, "ok"))
    m = ig.Mask(64, 64)
    m.rect(0, 0, 32, 40)
    masks += [
        Img("Mask64", m, 64, 64, "ok"),
        Img("pilmask48", Image.fromarray(_mask(48, 48, 0.3)), 48, 48, "ok"),
        Img("grey64", _encode(Image.fromarray(_mask(64, 64, 0.5, grey=True)), "PNG"), 64, 64, "grey"),
        Img("white64", _encode(Image.fromarray(_mask(64, 64, 0.0)), "PNG"), 64, 64, "white"),
        Img("small64", _encode(Image.fromarray(_mask(64, 64, 0.05)), "PNG"), 64, 64, "small"),
    ]
    png = images[0].value
    bad = [
        png[: len(png) // 2],  # truncated
        _encode(_picture(16, 16, 7), "GIF"),
        b"",
        b"not an image at all",
        b"\x89PNG\r\n\x1a\n" + bytes(MAX_IMAGE_BYTES_ANY_ENDPOINT + 1),  # over every endpoint's limit
        folder / "missing.png",
        folder,  # a folder, not a file
        42,
    ]
    return Pool(images, masks, bad)


# --- strategies by parameter type ------------------------------------------------------------
HEX = st.from_regex(r"#(?:[0-9a-fA-F]{3}){1,2}", fullmatch=True)
STYLE_CODE = st.from_regex(r"[0-9a-fA-F]{8}", fullmatch=True)
PLAIN_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Z", "C")), min_size=1, max_size=12)


def valid_values(cls: type[ig.Spec], name: str, pool: Pool) -> st.SearchStrategy[Any]:
    p = cls.param[name]
    if isinstance(p, ImageParam):
        if p.mask:
            return st.sampled_from(pool.masks)
        return st.sampled_from(pool.images)
    if isinstance(p, ImageListParam):
        return st.one_of(st.none(), st.lists(st.sampled_from(pool.images), max_size=2))
    if isinstance(p, StyleCodesParam):
        return st.one_of(st.none(), STYLE_CODE, st.lists(STYLE_CODE, min_size=1, max_size=3))
    if isinstance(p, ColorPaletteParam):
        weighted = st.tuples(HEX, st.floats(_api.COLOR_WEIGHT_MIN, _api.COLOR_WEIGHT_MAX))
        return st.one_of(
            st.none(),
            st.sampled_from(_api.COLOR_PALETTE_PRESETS),
            st.lists(HEX, min_size=1, max_size=_api.COLOR_PALETTE_MAX_MEMBERS),
            st.lists(weighted, min_size=1, max_size=_api.COLOR_PALETTE_MAX_MEMBERS),
        )
    if isinstance(p, param.Integer):
        lo, hi = p.bounds
        whole = st.one_of(st.integers(lo, hi), st.integers(lo, hi).map(np.int64))
        return st.one_of(st.none(), whole) if p.allow_None else whole
    if isinstance(p, param.Selector):
        aliases = sorted(getattr(p, "aliases", None) or {})
        return st.sampled_from(list(p.objects) + aliases)
    if isinstance(p, param.String):
        if name in REQUIRED[cls]:
            return st.text(max_size=60).filter(lambda s: s.strip() != "")
        if name == "custom_model_uri":  # mostly the documented form; any text is sent, warned
            uri = st.from_regex(r"model/[a-z0-9-]{1,12}/version/[0-9]{1,3}", fullmatch=True)
            return st.one_of(st.none(), uri, uri, st.text(max_size=20))
        return st.one_of(st.none(), st.text(max_size=60))
    raise NotImplementedError(f"{cls.__name__}.{name}: no strategy for {type(p).__name__}; add one here")


def invalid_values(cls: type[ig.Spec], name: str, pool: Pool) -> st.SearchStrategy[Any]:
    p = cls.param[name]
    if isinstance(p, ImageParam):
        return st.sampled_from(pool.bad)
    if isinstance(p, ImageListParam):
        return st.lists(st.sampled_from(pool.bad), min_size=1, max_size=2).flatmap(
            lambda bad: st.sampled_from([bad, [pool.images[0].value, *bad]])
        )
    if isinstance(p, StyleCodesParam):
        wrong_length = st.text("0123456789abcdefABCDEF", max_size=12).filter(lambda s: len(s) != 8)
        not_hex = st.text(min_size=8, max_size=8).filter(lambda s: any(c not in string.hexdigits for c in s))
        code = st.one_of(wrong_length, not_hex)
        return st.one_of(st.lists(code, min_size=1, max_size=3), code, st.integers())
    if isinstance(p, ColorPaletteParam):
        hexes = st.lists(HEX, min_size=1, max_size=3)
        return st.one_of(
            PLAIN_TEXT.filter(lambda s: s.upper() not in _api.COLOR_PALETTE_PRESETS and not s.startswith("#")),
            st.lists(HEX, min_size=_api.COLOR_PALETTE_MAX_MEMBERS + 1, max_size=12),
            hexes.map(lambda h: [(x, 2.0) for x in h]),
            hexes.map(lambda h: [(x, 0.0) for x in h]),
            hexes.map(lambda h: [*h, "red"]),
            st.integers(),
            st.just({"colours": ["#ff0000"]}),
        )
    if isinstance(p, param.Integer):
        lo, hi = p.bounds
        return st.one_of(
            st.integers(max_value=lo - 1), st.integers(min_value=hi + 1),
            st.floats(), st.booleans(), st.text(max_size=4), *(() if p.allow_None else (st.none(),)),
        )  # fmt: skip
    if isinstance(p, param.Selector):
        allowed = set(p.objects) | set(getattr(p, "aliases", None) or {})
        return st.one_of(
            st.text(max_size=12).filter(lambda s: s not in allowed),
            st.integers(),
            *(() if None in allowed else (st.none(),)),
        )
    if isinstance(p, param.String):
        return st.one_of(st.integers(), st.lists(st.text(max_size=3), min_size=1, max_size=2), st.binary(max_size=4))
    raise NotImplementedError(f"{cls.__name__}.{name}: no invalid strategy for {type(p).__name__}; add one here")


@st.composite
def spec_case(draw: st.DrawFn, cls: type[ig.Spec], pool: Pool) -> dict[str, Any]:
    """Each field left unset or given a per-field-valid value; cross-field rules fall where
    they may (the oracle says which ones break). Masks mostly fit their image."""
    case: dict[str, Any] = {}
    for name in cls.field_names():
        if name == "mask":
            continue
        chance = 8 if name in REQUIRED[cls] else 4  # out of 10
        if draw(st.integers(0, 9)) < chance:
            case[name] = draw(valid_values(cls, name, pool))
    if "mask" in cls.field_names() and draw(st.integers(0, 9)) < 9:
        image = case.get("image")
        fitting = pool.ok_masks(image.width, image.height) if isinstance(image, Img) else []
        if fitting and draw(st.integers(0, 9)) < 7:
            case["mask"] = draw(st.sampled_from(fitting))
        else:
            case["mask"] = draw(valid_values(cls, "mask", pool))
    return case


@st.composite
def invalid_case(draw: st.DrawFn, cls: type[ig.Spec], name: str, pool: Pool) -> dict[str, Any]:
    """A case whose field `name` holds a value that field does not allow."""
    case = draw(spec_case(cls, pool))
    case[name] = draw(invalid_values(cls, name, pool))
    return case


def to_kwargs(case: dict[str, Any]) -> dict[str, Any]:
    def value(v: Any) -> Any:
        if isinstance(v, Img):
            return v.value
        if isinstance(v, list):
            return [value(x) for x in v]
        return v

    return {name: value(v) for name, v in case.items()}


def minimal_valid(cls: type[ig.Spec], pool: Pool) -> ig.Spec:
    image = pool.square_image()
    base: dict[str, Any] = {}
    for name in REQUIRED[cls]:
        base[name] = {"prompt": "a lighthouse", "image": image, "resolution": "1024x1024"}.get(name)
    if "mask" in REQUIRED[cls]:
        base["mask"] = pool.ok_masks(image.width, image.height)[0]
    return cls(**to_kwargs(base))


def hypothesis_settings(soak: bool, ci_examples: int, soak_examples: int) -> settings:
    return settings(
        max_examples=soak_examples if soak else ci_examples,
        deadline=None,
        database=None,  # write nothing into the repository
        derandomize=not soak,  # CI: the same examples every run; --soak explores
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )


# --- the tests -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Pool:
    return make_pool(tmp_path_factory.mktemp("pool"))


@pytest.mark.parametrize("cls", SPECS, ids=lambda c: c.__name__)
def test_valid_specs_are_accepted_and_round_trip_and_broken_rules_are_named(cls, pool, tmp_path, request):
    soak = request.config.getoption("--soak")
    history = ig.History(tmp_path / "history")
    sim = SimulatorTransport()
    client = ig.Client(provider="offline", transport=sim, history=history, sleep=lambda s: None)
    send_every = 1 if soak else 4
    seen: Counter[str] = Counter()

    @hypothesis_settings(soak, ci_examples=60, soak_examples=600)
    @given(case=spec_case(cls, pool))
    def check(case: dict[str, Any]) -> None:
        spec = cls(**to_kwargs(case))  # every value is valid for its field: never raises
        expected = expected_problems(cls, case)
        assert {p.field for p in spec.problems()} == expected
        if expected:
            seen["broken"] += 1
            with pytest.raises(ig.SpecError) as info:
                spec.validate()
            assert set(info.value.fields) == expected
            assert all(f"{name}=" in str(info.value) for name in expected)
            posts = sim.stats.posts
            with pytest.raises(ig.SpecError):
                client.run(spec)
            assert sim.stats.posts == posts, "a spec that fails validation was sent"
            return
        seen["valid"] += 1
        warned = {w.field for w in spec.validate()}
        assert ("seed" in warned) == (case.get("seed") is not None and spec.image_count > 1)

        as_dict = spec.to_dict()
        for inputs in spec.input_images().values():
            for inp in inputs:
                history.store.put(inp.data)
        again = ig.spec_from_dict(json.loads(json.dumps(as_dict)))
        assert type(again) is cls and again.to_dict() == as_dict
        assert request_hash(again) == request_hash(spec)

        if seen["valid"] % send_every == 0:
            seen["sent"] += 1
            invalid = sim.stats.invalid
            try:
                result = client.run(spec)
            except ig.BadRequestError as exc:
                # Sent with a warning that the service may refuse it (the sources disagree):
                # a refusal is allowed, but only one naming a field the spec warned about.
                assert sim.stats.invalid == invalid + 1
                assert any(f"'{name}'" in str(exc) for name in warned), f"{spec!r} refused: {exc}"
                seen["refused_as_warned"] += 1
                return
            assert sim.stats.invalid == invalid, f"the simulator rejected a locally valid {spec!r}"
            assert result.ok
            if cls is ig.Describe:
                assert result.descriptions
            else:
                assert len(result.images) == spec.image_count
                size = spec.expected_size()
                if size is not None:
                    assert {im.size for im in result.images} == {size}

    check()
    client.close()
    assert sim.stats.invalid == seen["refused_as_warned"]
    # The generator is not degenerate: both sides of the rules were exercised.
    assert seen["valid"] >= 5 and seen["broken"] >= 5 and seen["sent"] >= 1, dict(seen)


@pytest.mark.parametrize(
    ("cls", "name"), [(c, n) for c in SPECS for n in c.field_names()], ids=lambda v: getattr(v, "__name__", v)
)
def test_a_value_a_field_does_not_allow_is_refused_naming_the_field(cls, name, pool, request):
    soak = request.config.getoption("--soak")

    @hypothesis_settings(soak, ci_examples=8, soak_examples=100)
    @given(case=invalid_case(cls, name, pool))
    def check(case: dict[str, Any]) -> None:
        kwargs = to_kwargs(case)
        with pytest.raises(ig.SpecError) as info:
            cls(**kwargs)
        assert info.value.fields[0] == name  # per-field problems first, then cross-field ones
        assert f"{name}=" in str(info.value)

        spec = minimal_valid(cls, pool)
        before = getattr(spec, name)
        with pytest.raises((ig.SpecError, ig.ImageInputError)) as raised:
            setattr(spec, name, kwargs[name])
        assert name in str(raised.value)
        if isinstance(raised.value, ig.SpecError):
            assert raised.value.fields == [name]
        assert getattr(spec, name) == before, "a refused value was kept"

    check()


def test_the_oracle_is_not_vacuous(pool):
    """A spec the oracle calls broken really is refused, and one it calls valid passes."""
    image, mask64 = pool.images[0], pool.ok_masks(64, 64)[0]
    grey = next(m for m in pool.masks if m.mask_kind == "grey")
    case = {"prompt": "p", "image": image, "mask": grey}  # grey pixels: thresholded, warned (issue #11)
    assert expected_problems(ig.Edit, case) == set()
    assert [w.field for w in ig.Edit(**to_kwargs(case)).validate()] == ["mask"]
    white = next(m for m in pool.masks if m.mask_kind == "white")
    assert expected_problems(ig.Edit, {**case, "mask": white}) == {"mask"}
    assert {p.field for p in ig.Edit(**to_kwargs({**case, "mask": white})).problems()} == {"mask"}
    chars = {"prompt": "p", "character_reference_images_mask": [image]}
    assert expected_problems(ig.Generate, chars) == {"character_reference_images_mask"}
    assert {p.field for p in ig.Generate(**to_kwargs(chars)).problems()} == {"character_reference_images_mask"}
    case_ok = {"prompt": "p", "image": image, "mask": mask64}
    assert expected_problems(ig.Edit, case_ok) == set()
    assert ig.Edit(**to_kwargs(case_ok)).problems() == []
    legacy = {"prompt": "p", "model": "V_1", "style_type": "ANIME", "negative_prompt": "x",
              "resolution": "RESOLUTION_1024_1024"}  # fmt: skip
    assert expected_problems(ig.LegacyGenerate, legacy) == {"style_type", "resolution"}
    assert {p.field for p in ig.LegacyGenerate(**legacy).problems()} == {"style_type", "resolution"}
    v2a = {"prompt": "p", "model": "V_2A", "negative_prompt": "x", "color_palette": "EMBER"}
    assert expected_problems(ig.LegacyGenerate, v2a) == {"negative_prompt", "color_palette"}
    assert {p.field for p in ig.LegacyGenerate(**v2a).problems()} == {"negative_prompt", "color_palette"}
