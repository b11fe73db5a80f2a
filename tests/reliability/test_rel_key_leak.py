"""The API key never leaves memory: not in files, exports, image metadata, logs, printed
output, reprs, error messages or tracebacks.

Why one big sweep rather than a check per feature: a leak is found where nobody looked. So
the test drives every endpoint (all ten specs) and every kind of failure (422, 503 after
retries, timeouts, dropped connections, 401/403 from a host that even echoes the key back)
with recognisable fake keys through the `aihubmix` provider, exports and saves everything
it can, and then searches every byte it can reach for the key or a distinctive piece of it.
"""

from __future__ import annotations

import io
import json
import logging
import traceback
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

import ideogram_nb as ig
from ideogram_nb._history._metadata import save_with_metadata
from ideogram_nb.simulator import Faults, SimulatorTransport

#: A distinctive middle part: a partial echo (`sk-LEAK…never`) must not get through either.
ARG_KEY_CORE = "7f3a9c1e5b2d4f60"
ARG_KEY = f"sk-LEAKCHECK-{ARG_KEY_CORE}-never-print-me"
ENV_KEY_CORE = "c0ffee4242d15ea5"
ENV_KEY = f"sk-ENVLEAK-{ENV_KEY_CORE}-never-print-me"
NEEDLES = (ARG_KEY, ARG_KEY_CORE, ENV_KEY, ENV_KEY_CORE)


def leaks(where: str, text: str | bytes) -> list[str]:
    data = text if isinstance(text, bytes) else text.encode("utf-8", "replace")
    return [f"{where}: contains {needle!r}" for needle in NEEDLES if needle.encode() in data]


class KeySeen(httpx.BaseTransport):
    """Forwards to the simulator and keeps the Api-Key values it was sent (proof of use)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.keys: set[str] = set()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if "api-key" in request.headers:
            self.keys.add(request.headers["api-key"])
        return self.inner.handle_request(request)


def echoing_rejecter(status: int) -> httpx.MockTransport:
    """A host that refuses the key and, carelessly, quotes it back in body and headers."""

    def handler(request: httpx.Request) -> httpx.Response:
        key = request.headers.get("api-key", "")
        body = {"error": {"message": f"Invalid API key provided: {key}", "type": "invalid_request_error"}}
        return httpx.Response(status, json=body, headers={"www-authenticate": f"Key {key}"})

    return httpx.MockTransport(handler)


def png(w: int, h: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def every_endpoint() -> list[ig.Spec]:
    image, square = png(64, 48, 1), png(48, 48, 2)
    mask = ig.Mask(64, 48)
    mask.rect(0, 0, 32, 48)
    return [
        ig.Generate(prompt="a lighthouse", rendering_speed="TURBO", seed=1, negative_prompt="fog"),
        ig.Remix(prompt="as a watercolour", image=image, image_weight=40, aspect_ratio="1x1"),
        ig.Edit(prompt="a red door", image=image, mask=mask, num_images=2),
        ig.Reframe(image=square, resolution="1024x1024"),
        ig.ReplaceBackground(prompt="a beach", image=image, style_reference_images=[square]),
        ig.LegacyGenerate(prompt="a fox", model="V_2_TURBO", color_palette="EMBER"),
        ig.LegacyRemix(prompt="a fox, remixed", image=image, model="V_2"),
        ig.LegacyEdit(prompt="a blue door", image=image, mask=mask, model="V_2_TURBO"),
        ig.Upscale(image=square, prompt="sharper", resemblance=60),
        ig.Describe(image=image),
    ]


def error_texts(err: BaseException) -> list[tuple[str, str]]:
    name = type(err).__name__
    out = [(f"{name} str", str(err)), (f"{name} repr", repr(err)), (f"{name} args", repr(err.args)),
           (f"{name} traceback", "".join(traceback.format_exception(err)))]  # fmt: skip
    if isinstance(err, ig.APIError):
        out.append((f"{name} message", err.message))
    return out


def run_and_collect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[tuple[str, str]], list[Any]]:
    """Drive everything; return (where, text) pairs to search, and the objects made."""
    texts: list[tuple[str, str]] = []
    history = ig.History(tmp_path / "history")
    seen = KeySeen(SimulatorTransport())
    client = ig.Client(provider="aihubmix", api_key=ARG_KEY, transport=seen, history=history,
                       sleep=lambda s: None)  # fmt: skip
    results = client.run_many(every_endpoint(), progress=True)  # the progress bar is printed
    assert [r.endpoint for r in results if r.ok] == [type(s).endpoint for s in every_endpoint()]
    results.append(client.run(ig.Generate(prompt="one more, by run()", rendering_speed="TURBO")))
    assert seen.keys == {ARG_KEY}, "the key was really sent: the search below is meaningful"

    errors: list[BaseException] = []

    def expect(error: type[ig.APIError], c: ig.Client, spec: ig.Spec) -> None:
        with pytest.raises(error) as info:
            c.run(spec)
        errors.append(info.value)

    expect(ig.UnprocessableError, client, ig.Generate(prompt="__unsafe__ please"))
    # a 503 is sent again (three attempts); a timeout or a drop loses the answer after sending:
    # outcome unknown, one attempt each, and its error names run, cost and how to re-send
    script = ["503"] * 3 + ["timeout", "drop"]
    flaky = ig.Client(provider="aihubmix", api_key=ARG_KEY, history=history, max_retries=2, sleep=lambda s: None,
                      transport=SimulatorTransport(faults=Faults(script=script)))  # fmt: skip
    expect(ig.ServerError, flaky, ig.Generate(prompt="down"))
    expect(ig.APITimeoutError, flaky, ig.Generate(prompt="slow"))
    expect(ig.APIConnectionError, flaky, ig.Generate(prompt="dropped"))
    for status, spec in ((401, ig.Generate(prompt="bad key")), (403, ig.Remix(prompt="bad key", image=png(32, 32, 3)))):
        rejected = ig.Client(provider="aihubmix", api_key=ARG_KEY, history=history, transport=echoing_rejecter(status))
        expect(ig.AuthenticationError, rejected, spec)
        texts.append((f"{status} client repr", repr(rejected)))
        rejected.close()
    failed_in_batch = client.run_many([ig.Generate(prompt="__unsafe__ in a batch")], progress=False)
    errors += [r.error for r in failed_in_batch if r.error is not None]
    results += failed_in_batch

    monkeypatch.setenv("AIHUBMIX_API_KEY", ENV_KEY)  # the other way to give a key
    from_env = ig.Client(transport=KeySeen(SimulatorTransport()), history=history, sleep=lambda s: None)
    assert from_env.provider == "aihubmix"
    results.append(from_env.run(ig.Upscale(image=png(24, 24, 4))))
    expect(ig.UnprocessableError, from_env, ig.Generate(prompt="__unsafe__ via env"))

    # Everything a user can make from the history.
    exports = tmp_path / "exports"
    exports.mkdir()
    history.export_notebook(exports / "runs.ipynb", title="leak check")
    history.to_jsonl(exports / "runs.jsonl")
    for i, im in enumerate(im for r in results for im in r.images if im.path is not None):
        small = (im.size or (0, 0))[0] * (im.size or (0, 0))[1] <= 256 * 256
        for suffix in (".png", ".jpg", ".webp") if small else (".png", ".jpg"):  # lossless WebP is slow
            saved = save_with_metadata(im.path, exports / f"saved{i}{suffix}")
            texts.append((f"read_metadata({saved.name})", json.dumps(ig.read_metadata(saved))))
        texts.append((f"read_metadata(store {im.sha256})", json.dumps(ig.read_metadata(im.path))))
        texts.append((f"spec_from_image({im.sha256})", repr(ig.spec_from_image(im.path))))
    texts.append(("to_records", json.dumps(history.to_records(), default=str)))
    texts += cli_output(history)

    for c in (client, flaky, from_env):
        texts += [(f"repr {c.provider} client", repr(c)), (f"str {c.provider} client", str(c))]
        texts += [(f"client attribute {k}", repr(v)) for k, v in vars(c).items()]
    texts.append(("history repr", repr(history)))
    for r in results:
        texts += [("result repr", repr(r)), ("result html", r._repr_html_()), ("result summary", repr(r.summary())),
                  ("spec repr", repr(r.spec)), ("spec to_dict", json.dumps(r.spec.to_dict())),
                  ("images repr", repr(r.images))]  # fmt: skip
    for err in errors:
        texts += error_texts(err)
    for c in (client, flaky, from_env):
        c.close()
    return texts, errors


def cli_output(history: ig.History) -> list[tuple[str, str]]:
    """What `ideogram-nb history list/show` prints (the CLI is optional here)."""
    try:
        from ideogram_nb._cli import main
    except ImportError:
        return []
    out, err = io.StringIO(), io.StringIO()
    run_id = history.runs(limit=1)[0].run_id
    for argv in (["history", "list", "--home", str(history.path), "--limit", "100"],
                 ["history", "show", run_id, "--home", str(history.path)]):  # fmt: skip
        main(argv, out=out, err=err)
    return [("cli stdout", out.getvalue()), ("cli stderr", err.getvalue())]


def test_the_search_finds_a_planted_key():
    assert leaks("canary", f"xx{ARG_KEY}yy") and leaks("canary", b"..." + ENV_KEY_CORE.encode())
    assert leaks("partial", f"Invalid key sk-LEAK...{ARG_KEY_CORE}...") and not leaks("clean", "sk-***")


def test_no_key_anywhere_after_every_endpoint_and_every_failure(tmp_path, monkeypatch, caplog, capsys):
    caplog.set_level(logging.DEBUG)  # httpx and httpcore log every request at DEBUG
    texts, errors = run_and_collect(tmp_path, monkeypatch)
    assert {type(e).__name__ for e in errors} >= {
        "UnprocessableError", "ServerError", "OutcomeUnknownTimeoutError", "OutcomeUnknownConnectionError",
        "AuthenticationError",
    }  # fmt: skip

    found: list[str] = []
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert "history.sqlite" in names and "runs.ipynb" in names and "runs.jsonl" in names
    assert sum(p.suffix == ".png" for p in files) >= 10
    for path in files:
        found += leaks(str(path.relative_to(tmp_path)), path.read_bytes())
    for where, text in texts:
        found += leaks(where, text)
    assert caplog.records, "DEBUG logging was captured"
    found += leaks("log text", caplog.text)
    for record in caplog.records:
        found += leaks(f"log record {record.name}", f"{record.getMessage()} {record.args!r}")
    captured = capsys.readouterr()
    assert "calls" in captured.err + captured.out  # the progress bar was printed
    found += leaks("stdout", captured.out) + leaks("stderr", captured.err)
    assert found == []


def test_echoed_key_is_scrubbed_from_messages_and_history(tmp_path):
    history = ig.History(tmp_path / "h")
    client = ig.Client(provider="aihubmix", api_key=ARG_KEY, history=history, transport=echoing_rejecter(401))
    with pytest.raises(ig.AuthenticationError) as info:
        client.run(ig.Generate(prompt="x"))
    err = info.value
    assert "Invalid API key provided" in err.message  # the host's words are kept ...
    assert ARG_KEY not in err.message and ARG_KEY not in str(err)  # ... its quote of the key is not
    assert ARG_KEY not in json.dumps(history.to_records())
    client.close()


def test_echoed_key_is_not_kept_in_the_error_body(tmp_path):
    client = ig.Client(provider="aihubmix", api_key=ARG_KEY, history=ig.History(tmp_path / "h"),
                       transport=echoing_rejecter(401))  # fmt: skip
    with pytest.raises(ig.AuthenticationError) as info:
        client.run(ig.Generate(prompt="x"))
    client.close()
    assert leaks("error body", repr(info.value.body)) == []


def _failing_call(client: ig.Client) -> ig.APIError:
    """Not holding the key in this frame: only the library's frames are under test."""
    try:
        client.run(ig.Generate(prompt="down"))
    except ig.APIError as exc:
        return exc
    raise AssertionError("the call was meant to fail")


def test_key_not_in_tracebacks_that_show_local_variables(tmp_path):
    client = ig.Client(provider="aihubmix", api_key=ARG_KEY, history=ig.History(tmp_path / "h"), max_retries=0,
                       transport=SimulatorTransport(faults=Faults(server_error=1.0)))  # fmt: skip
    err = _failing_call(client)
    client.close()
    assert leaks("traceback", "".join(traceback.format_exception(err))) == []  # plain: clean today
    shown = "".join(traceback.TracebackException.from_exception(err, capture_locals=True).format())
    assert leaks("traceback with locals", shown) == []
