"""What a call gives back: a `Result` holding `ImageResult`s whose files are already local.

Why local paths and not URLs: the service's URLs expire (about 24 h), so a result that only
held URLs would rot inside a saved notebook. Every image is downloaded before `run()` returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import APIError, unknown_error_class
from ._specs._registry import spec_from_dict

if TYPE_CHECKING:
    from PIL import Image

    from ._history._records import RunRecord
    from ._history._store import ImageStore
    from ._specs._base import Spec


@dataclass(frozen=True)
class ImageResult:
    """One returned image. `path` is None when the service withheld it (unsafe, still billed)."""

    path: Path | None
    sha256: str | None
    seed: int | None
    resolution: str | None
    prompt: str | None
    is_image_safe: bool = True
    style_type: str | None = None
    upscaled_resolution: str | None = None

    @property
    def withheld(self) -> bool:
        return self.path is None

    @property
    def size(self) -> tuple[int, int] | None:
        res = self.upscaled_resolution or self.resolution
        if not res:
            return None
        w, h = res.lower().split("x")
        return int(w), int(h)

    def open(self) -> Image.Image:
        """The image as PIL, loaded from the local file."""
        from PIL import Image

        if self.path is None:
            raise FileNotFoundError("this image was withheld by the service (is_image_safe=False)")
        with Image.open(self.path) as img:
            img.load()
            return img.copy()

    def _repr_png_(self) -> bytes | None:
        return self.path.read_bytes() if self.path is not None else None

    # --- to and from a history row (the one conversion everyone uses) ---------------------
    @classmethod
    def from_record(cls, d: dict[str, Any], store: ImageStore) -> ImageResult:
        """A recorded output (one item of `RunRecord.images`), its file in `store`."""
        sha = d.get("sha256")
        return cls(
            path=store.path(sha) if sha else None, sha256=sha, seed=d.get("seed"),
            resolution=d.get("resolution"), prompt=d.get("prompt"),
            is_image_safe=bool(d.get("is_image_safe", True)), style_type=d.get("style_type"),
            upscaled_resolution=d.get("upscaled_resolution"),
        )  # fmt: skip

    def to_record(self) -> dict[str, Any]:
        """What a history row keeps of this output (no path: the store knows it by sha256)."""
        return {
            "sha256": self.sha256, "seed": self.seed, "resolution": self.resolution,
            "is_image_safe": self.is_image_safe, "prompt": self.prompt, "style_type": self.style_type,
            "upscaled_resolution": self.upscaled_resolution,
        }  # fmt: skip

    def __repr__(self) -> str:
        if self.withheld:
            return f"ImageResult(withheld, seed={self.seed})"
        sha = self.sha256[:12] if self.sha256 else None
        return f"ImageResult(seed={self.seed}, resolution={self.resolution!r}, sha256={sha}…)"


@dataclass
class Result:
    """One call: its spec, its images (or descriptions), what it cost and how long it took.

    In `Client.run_many` a failed call comes back as a `Result` with `error` set, so one
    failure never loses the other results.
    """

    run_id: str
    spec: Spec
    provider: str
    images: list[ImageResult] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)
    cost_usd: float = 0.0
    latency_s: float | None = None
    error: BaseException | None = None
    attempts: int = 0
    label: str | None = None
    replayed_from: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def endpoint(self) -> str:
        return type(self.spec).endpoint

    @property
    def paths(self) -> list[Path]:
        return [im.path for im in self.images if im.path is not None]

    @property
    def seeds(self) -> list[int | None]:
        return [im.seed for im in self.images]

    @classmethod
    def from_record(cls, rec: RunRecord, store: ImageStore, spec: Spec | None = None) -> Result:
        """A `Result` rebuilt from a history row (`spec`: the one to attach, default rebuilt
        from the row, which raises if an input image is no longer in the store).

        A failed row's error comes back typed: an unknown outcome as the `OutcomeUnknownError`
        class it was recorded as (still catchable the same way), any other as `APIError`."""
        error: APIError | None = None
        if rec.status == "unknown":
            error = unknown_error_class(rec.error_type).recorded(
                rec.error or "outcome unknown", status=rec.http_status, run_id=rec.run_id,
                estimated_usd=rec.cost_usd,
            )  # fmt: skip
        elif rec.status == "pending":
            error = APIError(
                f"a v2 job still pending (generation {rec.generation_id}): Client.resume({rec.run_id!r}).wait() "
                "finishes it", run_id=rec.run_id,
            )  # fmt: skip
        elif rec.status != "ok":
            error = APIError(rec.error or "failed", status=rec.http_status, run_id=rec.run_id)
        return cls(
            run_id=rec.run_id, spec=spec if spec is not None else spec_from_dict(rec.spec), provider=rec.provider,
            images=[ImageResult.from_record(d, store) for d in rec.images], descriptions=list(rec.descriptions),
            cost_usd=rec.cost_usd, latency_s=rec.latency_s, error=error, attempts=rec.attempts,
            label=rec.label, replayed_from=rec.replayed_from,
        )  # fmt: skip

    def raise_for_error(self) -> Result:
        if self.error is not None:
            raise self.error
        return self

    def summary(self) -> dict[str, Any]:
        """A small deterministic dict (no ids, no times): what notebooks print and check."""
        return {
            "endpoint": self.endpoint,
            "ok": self.ok,
            "images": len(self.images),
            "sizes": [im.upscaled_resolution or im.resolution for im in self.images],
            "seeds": self.seeds,
            "withheld": sum(im.withheld for im in self.images),
            "cost_usd": round(self.cost_usd, 4),
        }

    def __repr__(self) -> str:
        state = "ok" if self.ok else f"error={type(self.error).__name__}"
        what = f"{len(self.descriptions)} descriptions" if self.descriptions else f"{len(self.images)} images"
        return f"<Result {self.run_id} {self.endpoint} via {self.provider}: {state}, {what}, ${self.cost_usd:.3f}>"

    def _repr_html_(self) -> str:
        from html import escape

        rows = [f"<b>{escape(repr(self))}</b>"]
        if self.error is not None:
            rows.append(f"<pre style='color:#b00'>{escape(str(self.error))}</pre>")
        for text in self.descriptions:
            rows.append(f"<p>{escape(text)}</p>")
        return "<div>" + "".join(rows) + "</div>"
