"""The client: validate, send, download, record — for every call, whatever happens.

Why this shape: the service is synchronous and slow (seconds per image) and counts in-flight
*images*, so calls run on a bounded thread pool over one thread-safe `httpx.Client`, gated by
an image-weighted semaphore. No asyncio in the public API: Jupyter already runs an event loop.
Image URLs expire, so every image is downloaded before a call returns.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

import httpx

from ._config import (
    DEFAULT_CONCURRENCY,
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT_S,
    MAX_DOWNLOAD_BYTES,
    PROVIDER_OFFLINE,
    PROVIDER_REPLAY,
    USER_AGENT,
)
from ._errors import (
    APIConnectionError,
    APIError,
    APIResponseError,
    APITimeoutError,
    ReplayMiss,
    error_message_from_body,
    status_error_class,
)
from ._history._database import History, RunRecord
from ._progress import Progress
from ._providers import Route, Secret, resolve_route, show_offline_notice
from ._results import ImageResult, Result
from ._retry import RetryPolicy, is_retryable_status, parse_retry_after
from ._slots import ImageSlots
from ._specs._base import Spec
from ._specs._wire import WireRequest, build_request, request_hash


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class _ApiKeyAuth(httpx.Auth):
    """Adds `Api-Key` as the request is sent, so the key never sits in our own frames'
    locals (tracebacks that show locals: IPython `%xmode Verbose`, Sentry, rich)."""

    def __init__(self, key: Secret | None) -> None:
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        if self._key is not None:
            request.headers["Api-Key"] = self._key.reveal()
        yield request

    def __repr__(self) -> str:
        return "_ApiKeyAuth(***)"


class _Attempt:
    """What one call went through, for the history row even when it fails."""

    def __init__(self) -> None:
        self.attempts = 0
        self.http_status: int | None = None
        self.billed = False


class Client:
    """Runs specs against a provider and records every call in a `History`.

    >>> client = Client()                       # offline simulator when no key is set
    >>> result = client.run(Generate(prompt="a lighthouse at dusk", num_images=2))
    """

    def __init__(
        self,
        provider: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        history: History | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
        concurrency: int = DEFAULT_CONCURRENCY,
        transport: httpx.BaseTransport | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency={concurrency!r}: must be at least 1 image in flight")
        if max_retries < 0:
            raise ValueError(f"max_retries={max_retries!r}: must be 0 or more")
        self._route: Route = resolve_route(provider, api_key, base_url)
        self._auth = _ApiKeyAuth(self._route.key)
        self.history = history if history is not None else History()
        self.max_retries = max_retries
        self.concurrency = concurrency
        self._sleep = sleep
        self._retry = RetryPolicy(max_retries)
        self._slots = ImageSlots(concurrency)
        self._pool = cf.ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="ideogram_nb")
        self._cost_lock = threading.Lock()
        self.session_cost_usd = 0.0
        if transport is None and self._route.upstream == PROVIDER_OFFLINE and not base_url:
            from .simulator import SimulatorTransport

            transport = SimulatorTransport()
        if self._route.upstream == PROVIDER_OFFLINE:
            show_offline_notice()
        self._http = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, DEFAULT_CONNECT_TIMEOUT_S)),
            headers={"User-Agent": USER_AGENT},
            follow_redirects=True,
        )

    # --- public API ---------------------------------------------------------------------
    @property
    def provider(self) -> str:
        return self._route.provider

    @property
    def base_url(self) -> str | None:
        return self._route.base_url

    def run(self, spec: Spec, *, label: str | None = None) -> Result:
        """Run one spec and wait. Raises `SpecError` before sending, or a typed `APIError`."""
        result = self._run(spec, label)
        return result.raise_for_error()

    def submit(self, spec: Spec, *, label: str | None = None) -> cf.Future[Result]:
        """Run in the background; the notebook stays live. The future raises like `run`."""
        spec.validate()  # fail now, in the caller's cell, not later in a callback
        return self._pool.submit(self.run, spec, label=label)

    def run_many(
        self,
        specs: Iterable[Spec],
        *,
        progress: bool | Callable[[int, int, Result], None] = True,
        label: str | None = None,
        resume: bool = False,
    ) -> list[Result]:
        """Run many specs concurrently; order kept; a failure is a `Result` with `error` set.

        `resume=True` picks up an interrupted batch (a crash, a killed kernel): a spec whose
        identical request already succeeded is answered from that recorded run — same run
        id, nothing sent, no new row — so running the same cell again finishes only the rest.
        """
        specs = list(specs)
        run = self._run_or_resume if resume else self._run
        futures = [self._pool.submit(run, spec, label) for spec in specs]
        index = {f: i for i, f in enumerate(futures)}
        results: list[Result | None] = [None] * len(futures)
        reporter = Progress(len(futures)) if progress is True else None
        try:
            for done, fut in enumerate(cf.as_completed(futures), start=1):
                res = fut.result()  # _run never raises
                results[index[fut]] = res
                if reporter is not None:
                    reporter.update(done, res)
                elif callable(progress):
                    progress(done, len(futures), res)
        finally:
            if reporter is not None:
                reporter.close()
        return [r for r in results if r is not None]

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"Client(provider={self.provider!r}, base_url={self.base_url!r}, "
            f"history={str(self.history.path)!r}, concurrency={self.concurrency})"
        )

    # --- one call -------------------------------------------------------------------------
    def _run_or_resume(self, spec: Spec, label: str | None) -> Result:
        try:
            found = self.history.find_replay(request_hash(spec))
        except Exception:  # an invalid spec has no hash to look up: let _run report it
            found = None
        if found is None:
            return self._run(spec, label)
        return Result(
            run_id=found.run_id, spec=spec, provider=found.provider,
            images=[self._image_from_record(d) for d in found.images],
            descriptions=list(found.descriptions), cost_usd=found.cost_usd,
            latency_s=found.latency_s, attempts=found.attempts, label=found.label,
        )  # fmt: skip

    def _run(self, spec: Spec, label: str | None) -> Result:
        """Never raises: every outcome becomes a Result (and, if anything was sent, a row)."""
        run_id = self.history.new_run_id()
        try:
            spec.validate()
        except Exception as exc:  # SpecError, ImageInputError: nothing sent, nothing recorded
            return Result(run_id=run_id, spec=spec, provider=self.provider, error=exc, label=label)
        if self._route.replay_first:
            replayed = self._replay(spec, run_id, label)
            if replayed is not None:
                return replayed
            if self._route.upstream is None:
                miss = ReplayMiss(
                    f"no recorded run matches this {type(spec).__name__} request "
                    f"(hash {request_hash(spec)[:12]}); nothing was sent. Run it once with a real "
                    "or offline provider, or use provider='record_or_replay'."
                )
                return Result(run_id=run_id, spec=spec, provider=PROVIDER_REPLAY, error=miss, label=label)
        return self._call(spec, run_id, label)

    def _replay(self, spec: Spec, run_id: str, label: str | None) -> Result | None:
        start = time.perf_counter()
        found = self.history.find_replay(request_hash(spec))
        if found is None:
            return None
        images = [self._image_from_record(d) for d in found.images]
        latency = time.perf_counter() - start
        self.history.record(
            RunRecord(
                run_id=run_id, created_at=_now_iso(), provider=PROVIDER_REPLAY,
                endpoint=found.endpoint, spec=spec.to_dict(), request_hash=found.request_hash,
                status="ok", error=None, error_type=None, http_status=None, attempts=0,
                latency_s=latency, cost_usd=0.0, images=list(found.images),
                descriptions=list(found.descriptions), inputs=list(found.inputs), label=label,
                replayed_from=found.run_id,
            )
        )  # fmt: skip
        return Result(
            run_id=run_id, spec=spec, provider=PROVIDER_REPLAY, images=images,
            descriptions=list(found.descriptions), cost_usd=0.0, latency_s=latency,
            label=label, replayed_from=found.run_id,
        )  # fmt: skip

    def _image_from_record(self, d: dict[str, Any]) -> ImageResult:
        sha = d.get("sha256")
        return ImageResult(
            path=self.history.store.path(sha) if sha else None, sha256=sha, seed=d.get("seed"),
            resolution=d.get("resolution"), prompt=d.get("prompt"),
            is_image_safe=bool(d.get("is_image_safe", True)), style_type=d.get("style_type"),
            upscaled_resolution=d.get("upscaled_resolution"),
        )  # fmt: skip

    def _call(self, spec: Spec, run_id: str, label: str | None) -> Result:
        start = time.perf_counter()
        state = _Attempt()
        inputs = [
            {"field": name, "sha256": self.history.store.put(inp.data)[0]}
            for name, items in spec.input_images().items()
            for inp in items
        ]
        images: list[ImageResult] = []
        descriptions: list[str] = []
        error: APIError | None = None
        try:
            wire = build_request(spec)
            body = self._send(wire, spec.image_count, state)
            if type(spec).endpoint == "describe":
                descriptions = [str(d.get("text", "")) for d in body.get("descriptions", [])]
            else:
                images = self._download_all(spec, body)
        except APIError as exc:
            error = exc
        latency = time.perf_counter() - start
        cost = spec.estimate_cost() if state.billed else 0.0
        record = RunRecord(
            run_id=run_id, created_at=_now_iso(), provider=self.provider, endpoint=type(spec).endpoint,
            spec=spec.to_dict(), request_hash=request_hash(spec),
            status="ok" if error is None else "error",
            error=None if error is None else self._scrub(str(error.message)),
            error_type=None if error is None else type(error).__name__,
            http_status=state.http_status, attempts=state.attempts, latency_s=latency, cost_usd=cost,
            images=[self._image_dict(im) for im in images], descriptions=descriptions,
            inputs=inputs, label=label, replayed_from=None,
        )  # fmt: skip
        self.history.record(record)
        with self._cost_lock:
            self.session_cost_usd += cost
        if error is not None:
            error.run_id = run_id
        return Result(
            run_id=run_id, spec=spec, provider=self.provider, images=images,
            descriptions=descriptions, cost_usd=cost, latency_s=latency, error=error,
            attempts=state.attempts, label=label,
        )  # fmt: skip

    @staticmethod
    def _image_dict(im: ImageResult) -> dict[str, Any]:
        return {
            "sha256": im.sha256, "seed": im.seed, "resolution": im.resolution,
            "is_image_safe": im.is_image_safe, "prompt": im.prompt, "style_type": im.style_type,
            "upscaled_resolution": im.upscaled_resolution,
        }  # fmt: skip

    def _scrub(self, text: str) -> str:
        key = self._route.key
        return key.scrub(text) if key is not None else text

    # --- the wire -------------------------------------------------------------------------
    def _send(self, wire: WireRequest, n_images: int, state: _Attempt) -> dict[str, Any]:
        """POST with retries; returns the parsed JSON body or raises a typed APIError."""
        assert self._route.base_url is not None and self._route.key is not None
        url = self._route.base_url + wire.path
        headers = {"Accept": "application/json"}
        kwargs: dict[str, Any] = {}
        if wire.json is not None:
            kwargs["json"] = wire.json
        else:
            # Always multipart, even without files: plain form fields become (None, value)
            # parts, which httpx encodes as multipart/form-data like the service expects.
            parts: list[tuple[str, Any]] = []
            for name, value in (wire.data or {}).items():
                for item in value if isinstance(value, list) else [value]:
                    parts.append((name, (None, item)))
            parts.extend(wire.files or [])
            kwargs["files"] = parts
        while True:
            state.attempts += 1
            retry_after: float | None = None
            try:
                with self._slots.hold(n_images):
                    response = self._http.post(url, headers=headers, auth=self._auth, **kwargs)
                state.http_status = response.status_code
                if response.status_code < 400:
                    state.billed = True
                    return self._parse_json(response)
                err = self._status_error(response)
                retryable = is_retryable_status(response.status_code)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
            except httpx.TimeoutException as exc:
                err, retryable = APITimeoutError(f"no answer within the timeout ({type(exc).__name__})"), True
            except httpx.TransportError as exc:
                err, retryable = APIConnectionError(self._scrub(f"connection failed: {exc}")), True
            if not retryable or state.attempts > self.max_retries:
                raise err
            self._sleep(self._retry.delay(state.attempts, retry_after))

    def _status_error(self, response: httpx.Response) -> APIError:
        try:
            body: object = json.loads(self._scrub(response.text))
        except ValueError:
            body = self._scrub(response.text)
        message = error_message_from_body(body, response.reason_phrase or "error")
        cls = status_error_class(response.status_code)
        return cls(message, status=response.status_code, body=body)

    def _parse_json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise APIResponseError(
                "the service answered with malformed JSON (the call may still be billed)",
                status=response.status_code,
            ) from None
        if not isinstance(body, dict):
            raise APIResponseError("the service answered with unexpected JSON", status=response.status_code)
        return body

    def _download_all(self, spec: Spec, body: dict[str, Any]) -> list[ImageResult]:
        items = body.get("data")
        if not isinstance(items, list):
            raise APIResponseError("the answer has no 'data' list of images", body=body)
        return [self._download(spec, item) for item in items if isinstance(item, dict)]

    def _download(self, spec: Spec, item: dict[str, Any]) -> ImageResult:
        url = item.get("url")
        seed = item.get("seed")
        common = dict(
            seed=seed if isinstance(seed, int) else None, resolution=item.get("resolution"),
            prompt=item.get("prompt"), style_type=item.get("style_type"),
            upscaled_resolution=item.get("upscaled_resolution"),
        )  # fmt: skip
        safe = bool(item.get("is_image_safe", True))
        if not url:  # withheld: billed, shown as such, never a crash
            return ImageResult(path=None, sha256=None, is_image_safe=False, **common)
        try:
            # No Api-Key here: image URLs live on another host, which must never see the key.
            with self._http.stream("GET", url) as response:
                if response.status_code >= 400:
                    raise APIResponseError(
                        f"image download failed with HTTP {response.status_code} "
                        "(the URL may have expired; the call was billed)",
                        status=response.status_code,
                    )
                data = bytearray()
                for chunk in response.iter_bytes():
                    data.extend(chunk)
                    if len(data) > MAX_DOWNLOAD_BYTES:
                        raise APIResponseError("image larger than the download limit")
        except httpx.TransportError as exc:
            raise APIConnectionError(f"image download failed: {type(exc).__name__}") from None
        meta = {
            "endpoint": type(spec).endpoint, "spec": spec.to_dict(), "seed": common["seed"],
            "resolution": common["upscaled_resolution"] or common["resolution"],
            "prompt": common["prompt"], "provider": self._route.upstream,
        }  # fmt: skip
        sha, path = self.history.store.put_output(bytes(data), meta)
        return ImageResult(path=path, sha256=sha, is_image_safe=safe, **common)
