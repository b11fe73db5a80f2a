"""Keys only to the host they belong to: a redirect never carries `Api-Key` to another origin.

httpx, following redirects, strips only `Authorization` when the origin changes; a custom
header such as `Api-Key` would travel on. The client therefore follows a redirect of an API
call itself: a 307/308 within the provider's origin with the key, anything else refused
before a single byte goes to the new target. Image downloads follow redirects but never
carry the key. Each test keeps every request the transport saw, and looks at the headers.
"""

from __future__ import annotations

import httpx
import pytest

import ideogram_nb as ig
from ideogram_nb._config import MAX_API_REDIRECTS
from ideogram_nb._providers import Secret
from ideogram_nb._sending import ApiKeyAuth
from ideogram_nb.simulator import SimulatorTransport

KEY = "k-fake-redirect-test-0123456789"  # fake
API = "https://api.ideogram.ai"


class Redirector(httpx.BaseTransport):
    """The simulator behind a host that answers API POSTs (on its first `hops` visits) with a
    redirect; keeps every request, so a test can see who got which headers."""

    def __init__(self, status: int, location: str, hops: int = 1) -> None:
        self.sim = SimulatorTransport()
        self.status = status
        self.location = location
        self.hops = hops
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        on_api = str(request.url).startswith(API + "/")
        if request.method == "POST" and on_api and self.hops > 0:
            self.hops -= 1
            return httpx.Response(self.status, headers={"Location": self.location}, request=request)
        return self.sim.handle_request(request)

    def to_host(self, host: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.host == host]


def body(request: httpx.Request) -> bytes:
    """The request body with its random multipart boundary taken out."""
    boundary = request.headers["content-type"].partition("boundary=")[2].encode()
    return request.content.replace(boundary, b"BOUNDARY") if boundary else request.content


def client_for(transport: httpx.BaseTransport) -> ig.Client:
    return ig.Client(provider="ideogram", api_key=KEY, transport=transport, history=ig.History(),
                     sleep=lambda s: None)  # fmt: skip


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_host_is_refused_and_nothing_reaches_it(status):
    wire = Redirector(status, "https://collector.example/v1/ideogram-v3/generate?token=abc")
    client = client_for(wire)
    with pytest.raises(ig.RedirectRefusedError) as info:
        client.run(ig.Generate(prompt="where does my key go"))
    err = info.value
    assert wire.to_host("collector.example") == []  # not with the key, not without it
    assert [r.headers["Api-Key"] for r in wire.requests] == [KEY]  # only the API host saw it
    text = str(err)
    assert "collector.example" in text and "API key was not sent" in text and "nothing was billed" in text
    assert "token=abc" not in text and err.target == "https://collector.example/v1/ideogram-v3/generate"
    assert err.status == status and not isinstance(err, ig.OutcomeUnknownError)
    row = client.history[err.run_id]
    assert row.status == "error" and row.error_type == "RedirectRefusedError" and row.cost_usd == 0


@pytest.mark.parametrize(
    "location",
    [
        "http://api.ideogram.ai/v1/ideogram-v3/generate",  # a downgrade to plain HTTP is another origin
        "https://api.ideogram.ai:8443/v1/ideogram-v3/generate",  # so is another port
        "//collector.example/steal",  # scheme-relative
    ],
)
def test_same_host_but_another_origin_is_refused(location):
    wire = Redirector(307, location)
    with pytest.raises(ig.RedirectRefusedError, match="another origin"):
        client_for(wire).run(ig.Generate(prompt="x"))
    assert len(wire.requests) == 1


@pytest.mark.parametrize("status", [307, 308])
def test_a_same_origin_307_or_308_is_followed_with_the_key(status):
    wire = Redirector(status, "/v1/ideogram-v3/generate?moved=1")
    client = client_for(wire)
    result = client.run(ig.Generate(prompt="moved within the host"))
    assert result.ok and result.images
    posts = [r for r in wire.requests if r.method == "POST"]
    assert [str(p.url) for p in posts] == [API + "/v1/ideogram-v3/generate", API + "/v1/ideogram-v3/generate?moved=1"]
    assert all(p.headers["Api-Key"] == KEY for p in posts)
    assert len({body(p) for p in posts}) == 1  # the same body, sent whole to the new place
    assert result.attempts == 1  # a redirect answer is not an attempt the service acted on
    gets = [r for r in wire.requests if r.method == "GET"]
    assert gets and all("api-key" not in r.headers for r in gets)


@pytest.mark.parametrize("status", [301, 302, 303])
def test_a_same_origin_redirect_that_would_turn_the_post_into_a_get_is_refused(status):
    wire = Redirector(status, "/elsewhere")
    with pytest.raises(ig.RedirectRefusedError, match="into a GET"):
        client_for(wire).run(ig.Generate(prompt="x"))
    assert [r.method for r in wire.requests] == ["POST"]


def test_a_redirect_loop_stops():
    wire = Redirector(307, "/v1/ideogram-v3/generate", hops=100)
    with pytest.raises(ig.RedirectRefusedError, match="redirects"):
        client_for(wire).run(ig.Generate(prompt="x"))
    assert len(wire.requests) == MAX_API_REDIRECTS + 1


def test_image_downloads_follow_redirects_and_never_carry_the_key():
    class CdnHop(httpx.BaseTransport):
        """Image URLs first answer 302 to a CDN on yet another host."""

        def __init__(self) -> None:
            self.sim = SimulatorTransport()
            self.requests: list[httpx.Request] = []

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            if request.method == "GET" and request.url.host != "cdn.example":
                cdn = request.url.copy_with(
                    host="cdn.example", params={**dict(request.url.params), "h": str(request.url.host)}
                )
                return httpx.Response(302, headers={"Location": str(cdn)}, request=request)
            if request.url.host == "cdn.example":
                params = dict(request.url.params)
                origin = params.pop("h")
                request = httpx.Request(
                    "GET", request.url.copy_with(host=origin, params=params), headers=request.headers
                )
            return self.sim.handle_request(request)

    wire = CdnHop()
    result = client_for(wire).run(ig.Generate(prompt="via a CDN", num_images=2))
    assert len(result.paths) == 2
    gets = [r for r in wire.requests if r.method == "GET"]
    assert {r.url.host for r in gets} >= {"cdn.example"}
    assert all("api-key" not in r.headers for r in gets)


def test_the_key_is_added_only_for_the_providers_origin():
    auth = ApiKeyAuth(Secret(KEY), API)
    own = next(auth.auth_flow(httpx.Request("POST", API + "/generate")))
    other = next(auth.auth_flow(httpx.Request("POST", "https://api.ideogram.ai.collector.example/generate")))
    plain = next(auth.auth_flow(httpx.Request("POST", "http://api.ideogram.ai/generate")))
    assert own.headers["Api-Key"] == KEY
    assert "api-key" not in other.headers and "api-key" not in plain.headers
