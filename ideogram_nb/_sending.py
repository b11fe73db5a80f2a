"""The wire side of one call: the POST, sent again only when that cannot pay twice; redirects
kept to the key's origin; every image downloaded at once and stored.

Why apart from `Client`: the client decides *what* happens to a call (validate, record it in
flight, record the outcome, count the cost); this module decides what an answer, or the lack
of one, means for the money (`_retry.Verdict`), and is the only place that touches the key on
the wire. The rules and their sources: docs/reliability.md.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import httpx

from ._config import MAX_API_REDIRECTS, MAX_DOWNLOAD_BYTES
from ._errors import (
    APIConnectionError,
    APIError,
    APIResponseError,
    APITimeoutError,
    OutcomeUnknownError,
    RateLimitError,
    RedirectRefusedError,
    error_message_from_body,
    outcome_unknown,
    status_error_class,
)
from ._providers import Route, Secret, origin, same_origin
from ._results import ImageResult
from ._retry import RetryPolicy, Verdict, classify_status, parse_retry_after
from ._slots import ImageSlots
from ._specs._wire import WireRequest

if TYPE_CHECKING:
    from ._history._store import ImageStore

#: Transport failures before the request left whole: the service cannot have acted.
#: Connect errors/timeouts and pool timeouts happen before a byte is sent; a proxy error
#: before the tunnel exists; a write timeout/error means the last bytes of a body framed by
#: Content-Length never left, so no complete request exists anywhere (httpcore even turns a
#: write error into a read of any early answer, which is then classified as an answer).
_NOT_SENT: tuple[type[Exception], ...] = (
    httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError,
    httpx.WriteTimeout, httpx.WriteError,
)  # fmt: skip
#: Failures that no second try can fix, and before anything was sent or acted on.
_NEVER_SENT_FINAL: tuple[type[Exception], ...] = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)


class ApiKeyAuth(httpx.Auth):
    """Adds `Api-Key` as the request is sent, so the key never sits in our own frames'
    locals (tracebacks that show locals: IPython `%xmode Verbose`, Sentry, rich).

    Only to the provider's own origin (scheme, host, port): a request anywhere else goes out
    without the key, whatever the caller did. Redirects are not followed under this auth
    (the client follows same-origin 307/308 itself, each hop checked here again)."""

    def __init__(self, key: Secret | None, base_url: str | None) -> None:
        self._key = key
        self._origin = origin(base_url) if base_url else None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._key is not None and self._origin is not None and origin(str(request.url)) == self._origin:
            request.headers["Api-Key"] = self._key.reveal()
        yield request

    def __repr__(self) -> str:
        return "ApiKeyAuth(***)"


class Attempt:
    """What one call went through, for the history row even when it fails."""

    def __init__(self) -> None:
        self.attempts = 0
        self.http_status: int | None = None
        self.billed = False
        #: Attempts that were sent and whose answer was lost: each may have been billed.
        self.unknown = 0


class Sender:
    """Sends one call's request and fetches its images over the client's `httpx.Client`."""

    def __init__(
        self,
        route: Route,
        http: httpx.Client,
        retry: RetryPolicy,
        slots: ImageSlots,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._route = route
        self._http = http
        self._retry = retry
        self._slots = slots
        self._sleep = sleep
        self._auth = ApiKeyAuth(route.key, route.base_url)

    def scrub(self, text: str) -> str:
        """`text` with the key masked (error bodies may echo it)."""
        key = self._route.key
        return key.scrub(text) if key is not None else text

    def send(self, wire: WireRequest, n_images: int, state: Attempt, resend_unknown: bool) -> dict[str, Any]:
        """POST, sending again only when that cannot pay twice; the parsed JSON body, or a
        typed APIError (an `OutcomeUnknownError` when the call may have been made and billed)."""
        assert self._route.base_url is not None and self._route.key is not None
        url = self._route.base_url + wire.target
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
                    response = self._post(url, headers, kwargs)
                state.http_status = response.status_code
                if response.status_code < 300:
                    state.billed = True
                    return self._parse_json(response)
                err = self._status_error(response)
                verdict = classify_status(response.status_code)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
            except httpx.RequestError as exc:
                err, verdict = self._transport_failure(exc)
            if verdict is Verdict.UNKNOWN:
                state.unknown += 1
            if not self._retry.should_send_again(verdict, state.attempts, resend_unknown):
                if state.unknown and not isinstance(err, OutcomeUnknownError):
                    err = outcome_unknown(err)
                    err.cause += " (after an earlier attempt whose answer was lost)"
                raise err
            self._sleep(self._retry.delay(state.attempts, retry_after))

    def poll(self, path: str) -> dict[str, Any]:
        """One GET of a v2 generation (`path` after the base URL), with the key. A GET pays for
        nothing, so every failure is safe to try again: the caller (`_jobs`) decides when.
        Raises a typed `APIError` (`RateLimitError` carries `retry_after`)."""
        assert self._route.base_url is not None
        try:
            response = self._http.get(self._route.base_url + path, headers={"Accept": "application/json"},
                                      auth=self._auth, follow_redirects=False)  # fmt: skip
        except httpx.TimeoutException as exc:
            raise APITimeoutError(f"polling the job timed out ({type(exc).__name__}); nothing was billed") from None
        except httpx.RequestError as exc:
            raise APIConnectionError(self.scrub(f"polling the job failed ({type(exc).__name__}: {exc})")) from None
        if response.status_code >= 300:
            raise self._status_error(response, poll=True)
        return self._parse_json(response)

    def _post(self, url: str, headers: dict[str, str], kwargs: dict[str, Any]) -> httpx.Response:
        """One POST. Follows a 307/308 only within the provider's origin (the key's home);
        any other redirect is refused before anything is sent to its target."""
        assert self._route.base_url is not None
        target = url
        for _hop in range(MAX_API_REDIRECTS + 1):
            response = self._http.post(target, headers=headers, auth=self._auth, follow_redirects=False, **kwargs)
            if not response.is_redirect:
                return response
            status = response.status_code
            nxt = response.url.join(response.headers["Location"])
            shown = self.scrub(str(nxt.copy_with(query=None, fragment=None)))
            if not same_origin(str(nxt), self._route.base_url):
                raise RedirectRefusedError(
                    f"the service answered {status} with a redirect to {shown}, another origin than "
                    f"{self._route.base_url}; refused: the request was not sent there and the API key was "
                    "not sent there (nothing was billed). If the provider moved, pass base_url=...",
                    status=status, target=shown,
                )  # fmt: skip
            if status not in (307, 308):
                raise RedirectRefusedError(
                    f"the service answered {status} with a redirect to {shown}, which would turn the POST "
                    "into a GET; refused: not followed (nothing was billed)", status=status, target=shown,
                )  # fmt: skip
            target = str(nxt)
        raise RedirectRefusedError(
            f"more than {MAX_API_REDIRECTS} redirects within {self._route.base_url}; stopped (nothing was billed)",
            status=response.status_code,
        )

    def _transport_failure(self, exc: httpx.RequestError) -> tuple[APIError, Verdict]:
        """What a failure without an answer means: not sent (safe to send again), never
        sendable, or sent and lost (outcome unknown: maybe made and billed)."""
        name = type(exc).__name__
        if isinstance(exc, _NOT_SENT):
            cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
            text = f"the request was not delivered ({name}: {exc}); nothing was billed"
            return cls(self.scrub(text)), Verdict.RESEND
        if isinstance(exc, _NEVER_SENT_FINAL):
            return APIConnectionError(self.scrub(f"the request could not be sent ({name}: {exc})")), Verdict.FINAL
        if isinstance(exc, httpx.TimeoutException):
            late = APITimeoutError(f"no answer within the timeout after the request was sent ({name})")
            return outcome_unknown(late), Verdict.UNKNOWN
        return outcome_unknown(
            APIConnectionError(self.scrub(f"the connection was lost after the request was sent ({name}: {exc})"))
        ), Verdict.UNKNOWN

    def _status_error(self, response: httpx.Response, *, poll: bool = False) -> APIError:
        try:
            body: object = json.loads(self.scrub(response.text))
        except ValueError:
            body = self.scrub(response.text)
        message = error_message_from_body(body, response.reason_phrase or "error")
        reason = body.get("reject_reason") if isinstance(body, dict) else None
        if isinstance(reason, str) and reason not in message:
            message += f" (reject_reason: {reason})"
        error = status_error_class(response.status_code)(message, status=response.status_code, body=body)
        if isinstance(error, RateLimitError):
            error.retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if poll:  # a GET: nothing was sent that could be billed, whatever the status
            return error
        return outcome_unknown(error) if classify_status(response.status_code) is Verdict.UNKNOWN else error

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

    def download_all(self, spec_dict: dict[str, Any], body: dict[str, Any], store: ImageStore) -> list[ImageResult]:
        items = body.get("data")
        if not isinstance(items, list):
            raise APIResponseError("the answer has no 'data' list of images", body=body)
        return [self._download(spec_dict, item, store) for item in items if isinstance(item, dict)]

    def _download(self, spec_dict: dict[str, Any], item: dict[str, Any], store: ImageStore) -> ImageResult:
        url = item.get("url")
        seed = item.get("seed")
        common: dict[str, Any] = dict(
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
            "endpoint": spec_dict["endpoint"], "spec": spec_dict, "seed": common["seed"],
            "resolution": common["upscaled_resolution"] or common["resolution"],
            "prompt": common["prompt"], "provider": self._route.upstream,
        }  # fmt: skip
        sha, path = store.put_output(data, meta)
        return ImageResult(path=path, sha256=sha, is_image_safe=safe, **common)
