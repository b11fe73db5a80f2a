"""Masks end to end: a `Mask` (or a painter) goes into `Edit`/`LegacyEdit`, is sent as the
black-is-edit PNG, and the offline edit changes only the masked pixels."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

import ideogram_nb as ig
from ideogram_nb.simulator import SimulatorTransport


def _source(size=(256, 192)) -> bytes:
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def _pixels(path_or_bytes) -> np.ndarray:
    src = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    with Image.open(src) as img:
        return np.asarray(img.convert("RGB")).astype(int)


@pytest.mark.parametrize("spec_cls", [ig.Edit, ig.LegacyEdit])
def test_offline_edit_changes_only_the_masked_region(spec_cls):
    source = _source()
    mask = ig.Mask.for_image(source)
    mask.rect(40, 30, 160, 120)
    mask.stroke([(200, 20), (230, 170)], radius=10)
    client = ig.Client(provider="offline", transport=SimulatorTransport(), history=ig.History())
    result = client.run(spec_cls(prompt="a brass door knocker", image=source, mask=mask, seed=5))
    before, after = _pixels(source), _pixels(result.images[0].path)
    assert after.shape == before.shape
    changed = np.any(before != after, axis=2)
    edit = mask.array
    assert not changed[~edit].any(), "pixels outside the mask changed"
    assert changed[edit].mean() > 0.9, "the masked region was not edited"
    # the mask sent is the one recorded with the run, in the endpoint's polarity
    (mask_input,) = [i for i in client.history[result.run_id].inputs if i["field"] == "mask"]
    sent = _pixels(client.history.store.get(mask_input["sha256"]))[..., 0]
    assert set(np.unique(sent)) == {0, 255}
    assert np.array_equal(sent == 0, edit)


def test_a_painter_is_accepted_as_the_mask():
    from ideogram_nb.widgets import MaskPainter

    source = _source((120, 120))
    painter = MaskPainter(source)
    painter.rect(0, 0, 60, 120)
    spec = ig.Edit(prompt="sky", image=source, mask=painter)
    assert (spec.mask.width, spec.mask.height) == (120, 120)
    result = ig.Client(provider="offline", history=ig.History()).run(spec)
    changed = np.any(_pixels(source) != _pixels(result.images[0].path), axis=2)
    assert changed[:, 60:].sum() == 0 and changed[:, :60].mean() > 0.9


def test_a_mask_under_ten_percent_is_refused_before_sending():
    source = _source((100, 100))
    mask = ig.Mask.for_image(source)
    mask.rect(0, 0, 10, 50)  # 5 %
    with pytest.raises(ig.SpecError) as info:
        ig.Edit(prompt="x", image=source, mask=mask).validate()
    assert "mask" in info.value.fields and "10" in str(info.value)
