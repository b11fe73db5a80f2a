"""The content-addressed image folder: every input and output, stored once by its SHA-256.

Why content-addressed: the same image used by a hundred runs is stored once, a file name is
its own integrity check, and a history row can name an image without owning a copy. Writes
are atomic (temp file in the same folder, then `os.replace`) so a crash, a second thread or
a second process never leaves a half-written image under a final name.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .._config import (
    EXPORT_THUMBNAIL_JPEG_QUALITY,
    EXPORT_THUMBNAIL_PX,
    IMAGES_DIRNAME,
    THUMBNAIL_JPEG_QUALITY,
    THUMBNAIL_PX,
    home_dir,
)
from .._errors import MissingImageError
from .._thumbnails import make_thumbnail
from ._files import Buffer, make_folders, sync_folder, sync_new_folders, write_atomic
from ._metadata import embed_metadata_parts
from ._premade import PREMADE

#: Known extensions, in lookup order.
EXTENSIONS: tuple[str, ...] = ("png", "jpg", "webp")
THUMBS_DIRNAME = "thumbs"
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_SUFFIX_ALIASES = {"jpeg": "jpg", "jpe": "jpg"}
#: A thumbnail size has a natural JPEG quality (grids vs. exported notebooks).
_THUMB_QUALITY = {THUMBNAIL_PX: THUMBNAIL_JPEG_QUALITY, EXPORT_THUMBNAIL_PX: EXPORT_THUMBNAIL_JPEG_QUALITY}


def image_format(data: Buffer) -> str | None:
    """The extension for these bytes from their magic number: png, jpg, webp, or None."""
    head = bytes(data[:12])
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def normalize_sha(ref: str) -> str | None:
    """'sha256:<hex>' or '<hex>' → lower-case hex; None if it is not a SHA-256.

    Validating here is what keeps a crafted ref from naming a path outside the store.
    """
    if not isinstance(ref, str):
        return None
    text = ref.strip().lower().removeprefix("sha256:")
    return text if _SHA_RE.match(text) else None


class ImageStore:
    """Images at `root/<sha[:2]>/<sha>.<ext>`, thumbnails under `root/thumbs/`.

    `fsync=True` (the default) makes an image's bytes durable before `put` returns, so a
    history row committed after it can never name an image lost in a power cut: one fsync
    of the file before its rename (and of the entries of any folders made for it: a new
    store, a new shard). If the rename itself is lost, the bytes wait under their `.tmp-`
    name and `history repair` gives them back their name (see `_files._write_atomic`).
    """

    def __init__(self, root: str | Path, *, fsync: bool = True) -> None:
        self.root = Path(root)
        self.fsync = fsync
        made = make_folders(self.root)
        if fsync:
            if self.root in made:
                # A new durable store gets all 256 shard folders now, with one fsync of the
                # root, instead of a mkdir and a folder fsync on the hot path of each of its
                # first ~1,500 images (a shard's first image otherwise pays both).
                for n in range(256):  # another process may be making the same new store
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(self.root / f"{n:02x}")
                sync_folder(self.root)
            sync_new_folders(made)

    def __repr__(self) -> str:
        return f"ImageStore({str(self.root)!r})"

    # --- writing --------------------------------------------------------------------------
    def put(self, data: bytes, suffix: str | None = None) -> tuple[str, Path]:
        """Store `data` (idempotent) → (sha256 hex, path). `suffix` names unknown formats."""
        data = bytes(data)
        ext = image_format(data) or _clean_suffix(suffix)
        if ext is None:
            raise ValueError("not a PNG, JPEG or WebP image, and no suffix= given to name its format")
        return self._put_pieces([data], ext)[:2]

    def _put_pieces(self, pieces: Sequence[Buffer], ext: str) -> tuple[str, Path, bool]:
        """Store the join of `pieces` without making it: hashed and written piece by piece.
        The flag says whether it was written now (False: those bytes were stored already)."""
        digest = hashlib.sha256()
        for piece in pieces:
            digest.update(piece)
        sha = digest.hexdigest()
        size = sum(memoryview(piece).nbytes for piece in pieces)
        target = self.root / sha[:2] / f"{sha}.{ext}"
        try:
            if target.stat().st_size == size:
                return sha, target, False  # already stored: same name, same size, same bytes
        except FileNotFoundError:
            pass
        write_atomic(target, pieces, fsync=self.fsync)
        return sha, target, True

    def put_output(self, data: Buffer, meta: dict[str, Any]) -> tuple[str, Path]:
        """Store a result image; a PNG gets its reproducible record embedded first.

        The sha256 is of the stored bytes (record included), so it names the file on disk.
        The image is not copied on the way: the record is spliced in as the file is written.
        """
        if image_format(data) == "png":
            sha, path, written = self._put_pieces(embed_metadata_parts(data, meta), "png")
        else:
            sha, path = self.put(bytes(data))
            written = True
        # grids and exports find them made; bytes stored before may have them on disk already
        if written or not self._thumb_path(sha, *PREMADE.sizes[0]).is_file():
            PREMADE.submit((str(self.root), sha), path)
        return sha, path

    # --- reading --------------------------------------------------------------------------
    def path(self, sha: str) -> Path | None:
        """Where the image with this sha (hex or 'sha256:hex') is stored, or None."""
        hexsha = normalize_sha(sha)
        if hexsha is None:
            return None
        folder = self.root / hexsha[:2]
        for ext in EXTENSIONS:
            candidate = folder / f"{hexsha}.{ext}"
            if candidate.is_file():
                return candidate
        for candidate in folder.glob(f"{hexsha}.*"):  # stored under a caller's suffix
            if candidate.is_file():
                return candidate
        return None

    def get(self, sha: str) -> bytes:
        """The stored bytes; `MissingImageError` (a `KeyError`) naming the sha if they are not here."""
        found = self.path(sha)
        if found is None:
            raise MissingImageError(
                f"image sha256:{sha} is not in {self.root} (deleted, or a partial copy?): "
                "`python -m ideogram_nb history check` lists every image runs name that is gone",
                sha256=normalize_sha(sha) or sha, path=self.root,
            )  # fmt: skip
        return found.read_bytes()

    def resolve(self, sha: str) -> bytes | None:
        """The bytes, or None: the shape the image-ref resolver wants."""
        found = self.path(sha)
        return found.read_bytes() if found is not None else None

    def __contains__(self, sha: object) -> bool:
        return isinstance(sha, str) and self.path(sha) is not None

    def __iter__(self) -> Iterator[str]:
        """Every stored sha (hex), in no particular order."""
        for folder in self.root.iterdir():
            if len(folder.name) != 2 or not folder.is_dir():
                continue
            for item in folder.iterdir():
                stem = item.name.split(".", 1)[0]
                if _SHA_RE.match(stem) and item.is_file():
                    yield stem

    # --- thumbnails -----------------------------------------------------------------------
    def thumbnail(self, sha: str, px: int = THUMBNAIL_PX, quality: int | None = None) -> bytes:
        """A small JPEG (longest side ≤ px), made once and cached under `root/thumbs/`.

        Outputs stored with `put_output` have theirs made ahead in the background (see
        `_premade`); anything else, and stores written before that, on first use.
        """
        hexsha = normalize_sha(sha)
        if hexsha is None:
            raise KeyError(f"not an image sha: {sha!r}")
        q = quality if quality is not None else _THUMB_QUALITY.get(px, THUMBNAIL_JPEG_QUALITY)
        cached = self._thumb_path(hexsha, px, q)
        if cached.is_file():
            return cached.read_bytes()
        if (px, q) in PREMADE.sizes:
            made = PREMADE.claim((str(self.root), hexsha), (px, q))
            if made is not None:
                _cache_quietly(cached, made)
                return made
        data = make_thumbnail(self.get(hexsha), px, q)
        _cache_quietly(cached, data)
        return data

    def _thumb_path(self, hexsha: str, px: int, quality: int) -> Path:
        """`thumbs/<px>q<quality>/<sha[:2]>/<sha>.jpg`: keyed by content, size and quality."""
        return self.root / THUMBS_DIRNAME / f"{px}q{quality}" / hexsha[:2] / f"{hexsha}.jpg"

    #: The package's one thumbnail maker (`ideogram_nb._thumbnails`), for images in no store.
    make_thumbnail = staticmethod(make_thumbnail)


def _cache_quietly(target: Path, data: bytes) -> None:
    """Keep a thumbnail for next time if the disk lets us: a read-only copy of a history (or
    a full disk) still shows its images, it just makes them again. No fsync: a lost
    thumbnail is remade."""
    try:
        write_atomic(target, data)
    except OSError:  # HistoryWriteError is one
        pass


def _clean_suffix(suffix: str | None) -> str | None:
    if not suffix:
        return None
    text = suffix.strip().lower().lstrip(".")
    text = _SUFFIX_ALIASES.get(text, text)
    return text if re.fullmatch(r"[a-z0-9]{1,8}", text) else None


# --- resolving "sha256:<hex>" refs for spec_from_dict ------------------------------------
_open_stores: weakref.WeakSet[ImageStore] = weakref.WeakSet()
_open_stores_lock = threading.Lock()
_resolver_registered = False


def resolve_from_open_stores(sha: str) -> bytes | None:
    """Bytes for a sha from any open store, else from the default history folder's store.

    One module-level resolver over a weak set: tests that open hundreds of temporary
    histories register nothing that outlives them.
    """
    with _open_stores_lock:
        stores = list(_open_stores)
    for store in stores:
        data = store.resolve(sha)
        if data is not None:
            return data
    default_root = home_dir() / IMAGES_DIRNAME
    if default_root.is_dir():
        return ImageStore(default_root, fsync=False).resolve(sha)
    return None


def register_store(store: ImageStore) -> None:
    """Make `store` searchable for 'sha256:' refs; hooks the resolver into `_images` once."""
    global _resolver_registered
    with _open_stores_lock:
        _open_stores.add(store)
        if _resolver_registered:
            return
        try:
            from .._images import register_image_resolver
        except ImportError:  # the specs' image module is not there (yet): nothing to hook
            return
        register_image_resolver(resolve_from_open_stores)
        _resolver_registered = True
