"""End to end: record runs of every kind, export them as a notebook, execute it under
`IDEOGRAM_NB_PROVIDER=replay` in a real kernel, and find the very same images, with no
network: the kernel's sockets are disabled, and any attempt to connect is logged and fails."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from PIL import Image

import ideogram_nb as ig
from ideogram_nb.simulator import SimulatorTransport

_KERNEL_TIMEOUT_S = 120  # a hang guard, not a speed check

_NO_NETWORK = textwrap.dedent('''
    """Test guard (loaded by the kernel through PYTHONPATH): no network from this process.

    Every connection attempt and name lookup is written to $NET_LOG; connecting fails.
    """
    import os
    import socket

    _log = os.environ["NET_LOG"]


    def _note(what, address):
        with open(_log, "a") as fh:
            fh.write(f"{what} {address!r}\\n")


    def _connect(self, address, *args, **kwargs):
        _note("connect", address)
        raise OSError(f"network disabled in this test kernel (connect to {address!r})")


    _real_getaddrinfo = socket.getaddrinfo


    def _getaddrinfo(host, *args, **kwargs):
        _note("getaddrinfo", host)
        return _real_getaddrinfo(host, *args, **kwargs)


    socket.socket.connect = _connect
    socket.socket.connect_ex = _connect
    socket.getaddrinfo = _getaddrinfo
''')


def _mask_png(size: tuple[int, int]) -> bytes:
    """Black (edit) top-left quarter, white elsewhere: a valid edit mask."""
    mask = Image.new("L", size, 255)
    mask.paste(0, (0, 0, size[0] // 2, size[1] // 2))
    out = io.BytesIO()
    mask.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    """A project folder holding a history of every kind of run (recorded once per module)."""
    project = tmp_path_factory.mktemp("recorded")
    history = ig.History(project / "ideogram_runs")
    with ig.Client(provider="offline", history=history, transport=SimulatorTransport()) as client:
        seeded = client.run(ig.Generate(prompt="a lighthouse at dusk", num_images=2, seed=42))
        client.run(ig.Generate(prompt="a red bicycle", aspect_ratio="16x9"), label="wide")  # no seed
        source = seeded.images[0]
        client.run(ig.Remix(prompt="the lighthouse in winter", image=source, image_weight=70))
        with Image.open(source.path) as img:
            size = img.size
        client.run(ig.Edit(prompt="a sailing boat", image=source, mask=_mask_png(size)))
        client.run(ig.Upscale(image=source))
        client.run(ig.Describe(image=source))
        with pytest.raises(ig.UnprocessableError):
            client.run(ig.Generate(prompt="__unsafe__ a forbidden thing"))
    # Closed here, not whenever the garbage collector gets to it: closing checkpoints the WAL
    # and deletes it, and doing that in the middle of a test's copytree failed the copy.
    history.close()
    return project


@pytest.fixture
def project(recorded, tmp_path) -> Path:
    """A private copy of the recorded project, so each test replays into its own history."""
    return Path(shutil.copytree(recorded, tmp_path / "project"))


@pytest.fixture
def replay_env(tmp_path, monkeypatch) -> Path:
    """Kernels started from here replay only, with sockets disabled; returns the network log."""
    guard = tmp_path / "no_network"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(_NO_NETWORK)
    log = tmp_path / "network.log"
    monkeypatch.setenv("NET_LOG", str(log))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(guard), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("IDEOGRAM_NB_PROVIDER", "replay")
    monkeypatch.setenv("IDEOGRAM_NB_BASE_URL", "http://127.0.0.1:9")  # were anything sent, it would fail
    return log


def _snapshot(history: ig.History) -> dict[str, ig.RunRecord]:
    return {rec.run_id: rec for rec in history.runs(newest_first=False)}


def _shas(rec: ig.RunRecord) -> list[str | None]:
    return [im.get("sha256") for im in rec.images]


def _check_replay(history: ig.History, before: dict[str, ig.RunRecord]) -> None:
    """Every ok run replayed once with byte-identical images; the failure left no row."""
    after = _snapshot(history)
    assert set(before) <= set(after) and all(after[r].to_dict() == before[r].to_dict() for r in before)
    new = [after[r] for r in after if r not in before]
    originals = [rec for rec in before.values() if rec.ok]
    assert len(new) == len(originals) == 6
    assert all(rec.provider == "replay" and rec.status == "ok" and rec.cost_usd == 0 for rec in new)
    assert sorted(rec.replayed_from for rec in new) == sorted(rec.run_id for rec in originals)
    for rec in new:
        original = before[rec.replayed_from]
        assert rec.request_hash == original.request_hash and rec.spec == original.spec
        assert _shas(rec) == _shas(original) and rec.descriptions == original.descriptions
    for sha in (s for rec in new for s in _shas(rec)):
        assert sha is not None and ig.ImageStore(history.store.root).path(sha) is not None
    assert history.total_cost() == pytest.approx(sum(rec.cost_usd for rec in before.values()))


def _strip_jpeg_comments(data: bytes) -> bytes:
    """The JPEG without its COM segments (the exported thumbnails carry the record there)."""
    out, at = bytearray(data[:2]), 2
    while at < len(data) and data[at] == 0xFF and data[at + 1] not in (0xD9, 0xDA):
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        if data[at + 1] != 0xFE:
            out += data[at : at + 2 + length]
        at += 2 + length
    return bytes(out + data[at:])


def _jpegs(cell) -> list[bytes]:
    return [base64.b64decode(o["data"]["image/jpeg"]) for o in cell.outputs if "image/jpeg" in o.get("data", {})]


def test_exported_notebook_replays_in_a_kernel_with_identical_images_and_no_network(project, replay_env):
    history = ig.History(project / "ideogram_runs")
    before = _snapshot(history)
    path = history.export_notebook(project / "runs.ipynb", title="Replay check")
    exported = nbformat.read(path, as_version=4)
    nb = nbformat.read(path, as_version=4)

    NotebookClient(nb, kernel_name="python3", timeout=_KERNEL_TIMEOUT_S,
                   resources={"metadata": {"path": str(project)}}).execute()  # fmt: skip

    assert not replay_env.exists(), replay_env.read_text()  # not one connection, not one lookup
    _check_replay(history, before)
    by_run = {
        c.metadata["ideogram_nb"]["run_id"]: (c, e)
        for c, e in zip(nb.cells, exported.cells, strict=True)
        if "ideogram_nb" in c.metadata
    }
    assert set(by_run) == set(before)
    for run_id, (cell, stored) in by_run.items():
        rec = before[run_id]
        if rec.ok:
            # what the replayed cell shows is the stored thumbnail, minus the record comment
            assert [_strip_jpeg_comments(j) for j in _jpegs(stored)] == _jpegs(cell)
            assert len(_jpegs(cell)) == len(rec.images)
        else:
            text = "".join(o.get("text", "") for o in cell.outputs)
            assert text.startswith("ReplayMiss: no recorded run matches this Generate request")
            assert not any(o.output_type == "error" for o in cell.outputs)
    describe = next(c for r, (c, _) in by_run.items() if before[r].endpoint == "describe")
    assert (
        "".join(o.get("text", "") for o in describe.outputs).splitlines()
        == before[next(r for r in before if before[r].endpoint == "describe")].descriptions
    )


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=_KERNEL_TIMEOUT_S, check=False)


def test_the_same_through_the_command_line(project, replay_env):
    history = ig.History(project / "ideogram_runs")
    before = _snapshot(history)
    home = ["--home", str(project / "ideogram_runs")]

    exported = _run([sys.executable, "-m", "ideogram_nb", "history", "export", "runs.ipynb", *home], project)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.strip() == "wrote runs.ipynb (7 runs)"
    execute = "import sys; from nbclient.cli import main; sys.exit(main())"  # what `jupyter execute` runs
    executed = _run([sys.executable, "-c", execute, "--inplace", "runs.ipynb"], project)
    assert executed.returncode == 0, executed.stderr

    assert not replay_env.exists(), replay_env.read_text()
    _check_replay(history, before)
    listed = _run(
        [sys.executable, "-m", "ideogram_nb", "history", "list", "--provider", "replay", "--json", *home], project
    )
    assert listed.returncode == 0, listed.stderr
    replayed = [json.loads(line) for line in listed.stdout.splitlines()]
    assert sorted(r["replayed_from"] for r in replayed) == sorted(r for r in before if before[r].ok)
    assert all(r["images"] == before[r["replayed_from"]].to_dict()["images"] for r in replayed)
    nb = nbformat.read(project / "runs.ipynb", as_version=4)
    failed = next(c for c in nb.cells if c.metadata.get("ideogram_nb", {}).get("status") == "error")
    assert "ReplayMiss" in "".join(o.get("text", "") for o in failed.outputs)
