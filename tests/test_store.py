"""The content-addressed image store: layout, atomic idempotent writes, thumbnails, refs."""

from __future__ import annotations

import gc
import hashlib
import io
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ideogram_nb._config import EXPORT_THUMBNAIL_PX, THUMBNAIL_PX
from ideogram_nb._history import _store
from ideogram_nb._history._metadata import read_metadata, toolkit_version
from ideogram_nb._history._store import (
    ImageStore,
    image_format,
    normalize_sha,
    register_store,
    resolve_from_open_stores,
)

META = {"endpoint": "generate", "spec": {"endpoint": "generate", "prompt": "fox"}, "seed": 5,
        "resolution": "1024x1024", "prompt": "fox", "provider": "offline"}  # fmt: skip


def encode(fmt: str, size: tuple[int, int] = (20, 10), color=(200, 30, 60), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, format=fmt)
    return out.getvalue()


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob(".tmp-*")]


@pytest.mark.parametrize(("fmt", "ext"), [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp")])
def test_put_lays_out_by_hash_with_format_extension(tmp_path, fmt, ext):
    store = ImageStore(tmp_path / "images")
    data = encode(fmt)
    sha, path = store.put(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert path == tmp_path / "images" / sha[:2] / f"{sha}.{ext}"
    assert path.read_bytes() == data
    assert image_format(data) == ext
    assert store.path(sha) == path == store.path(f"sha256:{sha.upper()}")
    assert store.get(sha) == data
    assert sha in store and f"sha256:{sha}" in store
    assert list(store) == [sha]
    assert temp_files(store.root) == []


def test_unknown_bytes_need_a_suffix(tmp_path):
    store = ImageStore(tmp_path)
    with pytest.raises(ValueError, match="suffix"):
        store.put(b"GIF89a....")
    sha, path = store.put(b"GIF89a....", suffix=".GIF")
    assert path.name == f"{sha}.gif"
    assert store.path(sha) == path
    assert store.put(b"GIF89a?", suffix="jpeg")[1].suffix == ".jpg"


def test_put_is_idempotent_and_does_not_rewrite(tmp_path):
    store = ImageStore(tmp_path)
    data = encode("PNG")
    sha, path = store.put(data)
    before = path.stat()
    assert store.put(data) == (sha, path)
    after = path.stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


def test_truncated_file_is_repaired(tmp_path):
    store = ImageStore(tmp_path)
    data = encode("PNG")
    sha, path = store.put(data)
    path.write_bytes(data[:10])  # e.g. copied by hand and cut short
    store.put(data)
    assert path.read_bytes() == data


def test_missing_and_malformed_refs(tmp_path):
    store = ImageStore(tmp_path / "s")
    (tmp_path / "secret.png").write_bytes(b"x")
    missing = "0" * 64
    assert store.path(missing) is None
    assert missing not in store
    assert store.resolve(missing) is None
    with pytest.raises(KeyError, match=missing):
        store.get(missing)
    for bad in ("../secret", "sha256:../../secret", "abc", "g" * 64):
        assert store.path(bad) is None
        assert bad not in store
    assert 42 not in store
    assert normalize_sha(" SHA256:" + "A" * 64) == "a" * 64


def test_put_output_embeds_the_record_and_hashes_stored_bytes(tmp_path):
    store = ImageStore(tmp_path)
    raw = encode("PNG", color=(1, 2, 3))
    sha, path = store.put_output(raw, META)
    stored = path.read_bytes()
    assert sha == hashlib.sha256(stored).hexdigest()
    assert stored != raw
    assert read_metadata(path) == {**META, "version": toolkit_version()}
    with Image.open(path) as a, Image.open(io.BytesIO(raw)) as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))
    # reproducible: same request → same bytes → same sha; another seed → another file
    assert store.put_output(raw, dict(META)) == (sha, path)
    assert store.put_output(raw, {**META, "seed": 6})[0] != sha


def test_put_output_stores_non_png_unchanged(tmp_path):
    store = ImageStore(tmp_path)
    jpeg = encode("JPEG")
    sha, path = store.put_output(jpeg, META)
    assert path.read_bytes() == jpeg and sha == hashlib.sha256(jpeg).hexdigest()


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="names fds through /proc (Linux)")
def test_an_image_is_durable_before_put_returns_with_one_fsync(tmp_path, monkeypatch):
    """What keeps a history row from naming an image lost in a power cut: the file is synced
    before its rename (never a name on a partial file). That is the one fsync an image pays:
    the rename is left to the next fsync on the disk (repair restores a lost one, see
    tests/test_history_repair.py). When a folder (a shard, a store) was made for it, that
    folder's own entry in its parent is synced too."""
    import os

    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src: str, dst: object) -> None:
        events.append(("rename", str(dst)))
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    root = tmp_path / "new" / "images"
    store = ImageStore(root)
    # A new store makes its 256 shards at once: their entries (one fsync of the root), then the
    # new folders' own entries in their parents.
    assert sorted(p.name for p in root.iterdir()) == [f"{n:02x}" for n in range(256)]
    assert events == [("fsync", str(root)), ("fsync", str(tmp_path / "new")), ("fsync", str(tmp_path))]

    events.clear()
    sha, path = store.put_output(encode("PNG"), META)
    kinds = [kind for kind, _ in events]
    assert kinds == ["fsync", "rename"], events  # one fsync, of the bytes, before the name
    assert Path(events[0][1]).parent == path.parent and Path(events[0][1]).name.startswith(".tmp-")
    assert events[1] == ("rename", str(path))

    events.clear()  # a store made before shards were made up front: a missing shard is made,
    path.unlink()  # and its entry synced in the root, on the image's way in
    path.parent.rmdir()
    store.put_output(encode("PNG"), META)
    assert [kind for kind, _ in events] == ["fsync", "rename", "fsync"], events
    assert events[2] == ("fsync", str(root))

    events.clear()  # a second image in the same shard: its folder already has an entry
    other = encode("PNG", color=(1, 2, 3))
    while hashlib.sha256(other).hexdigest()[:2] != sha[:2]:
        other = other + b"\0"  # bytes after IEND: still a PNG, same shard wanted
    _, path2 = store.put(other)
    assert [kind for kind, _ in events] == ["fsync", "rename"]
    assert path2.parent == path.parent

    events.clear()
    loose = ImageStore(tmp_path / "loose", fsync=False)  # thumbnails, caches: nothing synced
    loose.put(encode("PNG"))
    assert [kind for kind, _ in events] == ["rename"]


def test_many_threads_writing_the_same_and_different_images(tmp_path):
    store = ImageStore(tmp_path)
    shared = encode("PNG", size=(64, 64))
    results: list[tuple[str, Path]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(16)

    def work(i: int) -> None:
        try:
            barrier.wait()
            for j in range(10):
                got = [store.put(shared), store.put(encode("PNG", color=(i, j, 0)))]
                with lock:
                    results.extend(got)
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({sha for sha, _ in results}) == 1 + 16 * 10
    for sha, path in results:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha
    assert temp_files(tmp_path) == []


def test_thumbnail_is_a_small_cached_jpeg(tmp_path, monkeypatch):
    store = ImageStore(tmp_path)
    sha, _ = store.put(encode("PNG", size=(1000, 500)))
    thumb = store.thumbnail(sha)
    with Image.open(io.BytesIO(thumb)) as im:
        assert im.format == "JPEG"
        assert im.size == (THUMBNAIL_PX, THUMBNAIL_PX // 2)
    cached = list((tmp_path / "thumbs").rglob("*.jpg"))
    assert len(cached) == 1 and cached[0].read_bytes() == thumb

    def boom(*args: object) -> bytes:
        raise AssertionError("the cached thumbnail should have been used")

    monkeypatch.setattr(_store, "make_thumbnail", boom)
    assert store.thumbnail(sha) == thumb
    assert list(store) == [sha]  # thumbnails are not images of the store


def test_export_thumbnail_size_and_no_upscaling(tmp_path):
    store = ImageStore(tmp_path)
    big, _ = store.put(encode("PNG", size=(400, 800)))
    small, _ = store.put(encode("PNG", size=(30, 20)))
    with Image.open(io.BytesIO(store.thumbnail(big, EXPORT_THUMBNAIL_PX))) as im:
        assert im.size == (EXPORT_THUMBNAIL_PX // 2, EXPORT_THUMBNAIL_PX)
    with Image.open(io.BytesIO(store.thumbnail(small, EXPORT_THUMBNAIL_PX))) as im:
        assert im.size == (30, 20)
    with pytest.raises(KeyError):
        store.thumbnail("f" * 64)


def test_thumbnail_of_transparent_image_is_on_white(tmp_path):
    store = ImageStore(tmp_path)
    sha, _ = store.put(encode("PNG", size=(40, 40), color=(0, 0, 0, 0), mode="RGBA"))
    with Image.open(io.BytesIO(store.thumbnail(sha, 32))) as im:
        assert im.mode == "RGB"
        assert min(im.getpixel((16, 16))) > 240


def test_open_stores_resolve_refs_and_are_not_kept_alive(tmp_path, monkeypatch):
    monkeypatch.setattr(_store, "_open_stores", type(_store._open_stores)())
    store = ImageStore(tmp_path / "a")
    data = encode("PNG", color=(9, 9, 9))
    sha, _ = store.put(data)
    assert resolve_from_open_stores(sha) is None  # not registered, default home is empty
    register_store(store)
    assert resolve_from_open_stores(sha) == data
    del store
    gc.collect()
    assert len(_store._open_stores) == 0
    assert resolve_from_open_stores(sha) is None


def test_default_home_store_resolves_without_a_registered_store(tmp_path, monkeypatch, _isolated_env):
    monkeypatch.setattr(_store, "_open_stores", type(_store._open_stores)())
    data = encode("WEBP")
    sha, _ = ImageStore(_isolated_env / "images").put(data)
    gc.collect()
    assert resolve_from_open_stores(f"sha256:{sha}") == data


def test_register_hooks_into_the_images_module_once(tmp_path, monkeypatch):
    images = pytest.importorskip("ideogram_nb._images")
    if not hasattr(images, "register_image_resolver"):
        pytest.skip("_images has no register_image_resolver yet")
    calls: list[object] = []
    monkeypatch.setattr(images, "register_image_resolver", calls.append)
    monkeypatch.setattr(_store, "_resolver_registered", False)
    register_store(ImageStore(tmp_path / "x"))
    register_store(ImageStore(tmp_path / "y"))
    assert calls == [resolve_from_open_stores]


# --- thumbnails made ahead (when an output is stored), one maker ---------------------------------


def _photo(size=(300, 200), seed=3) -> bytes:
    rng = np.random.default_rng(seed)
    out = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(out, format="PNG")
    return out.getvalue()


def test_outputs_get_their_thumbnails_made_ahead_and_cached_on_first_use(tmp_path, monkeypatch):
    from ideogram_nb._config import EXPORT_THUMBNAIL_JPEG_QUALITY, THUMBNAIL_JPEG_QUALITY
    from ideogram_nb._history._premade import PREMADE
    from ideogram_nb._thumbnails import make_thumbnail, make_thumbnails

    store = ImageStore(tmp_path)
    sha, path = store.put_output(_photo(), META)
    assert PREMADE.wait(30)
    assert not (tmp_path / "thumbs").exists()  # made in memory: the thread writes no files

    def boom(*args: object) -> bytes:
        raise AssertionError("the thumbnail made ahead should have been used")

    monkeypatch.setattr(_store, "make_thumbnail", boom)
    stored = path.read_bytes()
    grid, export = make_thumbnails(stored, PREMADE.sizes)
    assert PREMADE.sizes == (
        (THUMBNAIL_PX, THUMBNAIL_JPEG_QUALITY),
        (EXPORT_THUMBNAIL_PX, EXPORT_THUMBNAIL_JPEG_QUALITY),
    )
    assert grid == make_thumbnail(stored, THUMBNAIL_PX, THUMBNAIL_JPEG_QUALITY)
    assert store.thumbnail(sha) == grid
    assert len(list((tmp_path / "thumbs").rglob("*.jpg"))) == 1  # each size is written when asked for
    assert store.thumbnail(sha, EXPORT_THUMBNAIL_PX) == export
    assert len(list((tmp_path / "thumbs").rglob("*.jpg"))) == 2
    assert store.thumbnail(sha) == grid  # now a file read
    with Image.open(io.BytesIO(export)) as im:
        assert im.size == (EXPORT_THUMBNAIL_PX, EXPORT_THUMBNAIL_PX * 2 // 3)
    assert temp_files(tmp_path) == []


def test_thumbnails_asked_for_right_after_storing_are_right(tmp_path):
    """The reader takes jobs the thread has not started, waits for the one in progress."""
    from ideogram_nb._history._premade import PREMADE
    from ideogram_nb._thumbnails import make_thumbnail

    store = ImageStore(tmp_path)
    stored = [store.put_output(_photo(seed=i), {**META, "seed": i}) for i in range(12)]
    thumbs = [store.thumbnail(sha) for sha, _ in reversed(stored)]
    for (_, path), thumb in zip(reversed(stored), thumbs, strict=True):
        assert thumb == make_thumbnail(path.read_bytes(), THUMBNAIL_PX, 80)
    assert PREMADE.wait(30)
    # a store of an earlier version (no thumbnails made ahead) still gets them, on first use
    old, _ = store.put(_photo(seed=99))
    assert store.thumbnail(old) == make_thumbnail(store.get(old), THUMBNAIL_PX, 80)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_the_one_thumbnail_maker_puts_transparency_on_white(mode):
    from ideogram_nb._thumbnails import fit_within, flatten_on_white, make_thumbnail

    img = Image.new("RGBA", (64, 32), (10, 200, 10, 255))
    img.paste((0, 0, 0, 0), (0, 0, 32, 32))  # left half fully transparent (black underneath)
    if mode == "LA":
        img = img.convert("LA")
    elif mode == "P":
        img = img.convert("P")
        img.info["transparency"] = img.getpixel((0, 0))
    flat = flatten_on_white(img)
    assert flat.mode in ("RGB", "L")
    assert np.asarray(flat.convert("L"))[:, :32].min() == 255
    for thumb in (make_thumbnail(img, 16, 90), ImageStore.make_thumbnail(img, 16, 90)):
        with Image.open(io.BytesIO(thumb)) as im:
            assert im.format == "JPEG" and im.size == (16, 8)
            assert np.asarray(im.convert("L"))[:, :6].min() > 240
    assert fit_within(img, 8, 8).size == (8, 4) and fit_within(img, 200, 200).size == (64, 32)


def test_contact_sheets_and_widget_previews_use_the_same_maker():
    from ideogram_nb._compare._contact_sheet import SheetCell, SheetPage, draw_page, plan_layout
    from ideogram_nb._thumbnails import make_thumbnail
    from ideogram_nb.widgets._thumbs import shrink_to_jpeg

    clear = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    page = SheetPage([[SheetCell([clear])]], ["a"])
    x0, y0, x1, y1 = plan_layout(page, 64, 64).cell_box(0, 0)
    cell = np.asarray(draw_page(page, 64, 64).convert("L"))[y0:y1, x0:x1]
    assert cell.shape == (64, 64) and cell.min() == 255  # transparent shows white, not black
    photo = Image.open(io.BytesIO(_photo()))
    assert shrink_to_jpeg(photo.copy(), 100, 80) == make_thumbnail(photo, 100, 80) == shrink_to_jpeg(_photo(), 100, 80)


def test_the_backlog_makes_each_thumbnail_once_whoever_asks_first(tmp_path, monkeypatch):
    """Queued: the reader makes it; in progress on the thread: the reader waits for it; the
    thread waits for storing to go quiet, then works newest first. Never twice."""
    from ideogram_nb._history import _premade

    calls: list[bytes] = []
    started, release = threading.Event(), threading.Event()
    real = _premade.make_thumbnails

    def counted(data: bytes, sizes):  # type: ignore[no-untyped-def]
        calls.append(data)
        if data == paths[-1].read_bytes():  # the thread's first job (the newest) blocks
            started.set()
            assert release.wait(10)
        return real(data, sizes)

    monkeypatch.setattr(_premade, "make_thumbnails", counted)
    backlog = _premade.Premade(quiet_s=1.0)
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"{i}.png")
        paths[-1].write_bytes(_photo(seed=i))
        backlog.submit(("root", str(i)), paths[-1])
    size = backlog.sizes[0]
    assert backlog.claim(("root", "0"), size) is not None  # queued: made here, at once
    assert not started.is_set()  # the thread is still waiting for quiet
    assert started.wait(10)  # ... then takes the newest
    waiter = threading.Thread(target=lambda: got.append(backlog.claim(("root", "2"), size)))
    got: list[bytes | None] = []
    waiter.start()
    time.sleep(0.1)
    release.set()
    waiter.join(10)
    assert got and got[0] is not None  # waited for the thread's, did not make it again
    assert backlog.wait(10)
    assert backlog.claim(("root", "1"), size) is not None  # made by the thread, off the shelf
    assert backlog.claim(("root", "1"), size) is None  # taken: the store's disk cache has it now
    assert len(calls) == 3
    assert backlog.claim(("root", "missing"), size) is None


def test_a_read_only_store_still_gives_thumbnails(tmp_path, monkeypatch):
    """Browsing a read-only copy of a history (simulated: tests run as root, so writes are made
    to fail) shows thumbnails; they are just not cached."""
    import errno

    from ideogram_nb._history import _files

    store = ImageStore(tmp_path / "images")
    buf = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 120, 200)).save(buf, format="PNG")
    sha, _ = store.put(buf.getvalue())

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(_files.os, "open", refuse)
    thumb = store.thumbnail(sha, 64)
    with Image.open(io.BytesIO(thumb)) as img:
        assert img.format == "JPEG" and max(img.size) == 64
    assert not list((tmp_path / "images").rglob("*.jpg"))
