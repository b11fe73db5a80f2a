"""The simulator over a real loopback socket: the server class and `python -m`."""

from __future__ import annotations

import ast
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from ideogram_nb import simulator
from ideogram_nb.simulator import Faults, SimulatorServer
from ideogram_nb.simulator.__main__ import main


def test_a_real_client_posts_and_downloads_over_loopback(kit):
    with SimulatorServer(port=0) as server, httpx.Client(base_url=server.url, headers=kit.key_headers) as c:
        assert server.url.startswith("http://127.0.0.1:")
        answer = c.post("/v1/ideogram-v3/generate", files=kit.form(prompt="a harbour", aspect_ratio="16x9"))
        proxied = c.post("/ideogram/generate", json={"image_request": {"prompt": "a harbour"}})
        item = answer.json()["data"][0]
        image = c.get(item["url"])
        proxied_image = c.get(proxied.json()["data"][0]["url"])

        assert answer.status_code == 200
        assert item["url"].startswith(f"{server.url}/images/ephemeral/")
        assert proxied.json()["data"][0]["url"].startswith(f"{server.url}/ideogram/images/ephemeral/")
        assert kit.decode(image.content).shape == (736, 1312, 3)
        assert proxied_image.status_code == 200
        assert server.transport.stats.posts == 2
        assert server.transport.stats.gets == 2


def test_the_server_answers_like_the_transport(kit):
    with SimulatorServer(port=0) as server, httpx.Client(base_url=server.url) as c:
        anonymous = c.post("/upscale", files=kit.form(image_request="{}", image_file=kit.encode(kit.solid(8, 8))))
        invalid = c.post("/generate", headers=kit.key_headers, json={"image_request": {"prompt": "x", "num_images": 0}})
        seeded = c.post("/v1/ideogram-v3/generate", headers=kit.key_headers, files=kit.form(prompt="kite", seed=3))
        pixels = kit.decode(c.get(seeded.json()["data"][0]["url"]).content)

    assert anonymous.status_code == 403
    assert invalid.status_code == 400
    assert "'num_images'" in invalid.json()["detail"]
    with httpx.Client(transport=server.transport, base_url=kit.base_url, headers=kit.key_headers) as in_process:
        again = in_process.post("/v1/ideogram-v3/generate", files=kit.form(prompt="kite", seed=3))
        assert np.array_equal(kit.decode(in_process.get(again.json()["data"][0]["url"]).content), pixels)


def test_a_dropped_connection_and_a_timeout_over_the_socket(kit):
    faults = Faults(script=["drop", "timeout"], timeout_s=5)
    with SimulatorServer(port=0, faults=faults) as server:
        with httpx.Client(base_url=server.url, headers=kit.key_headers, timeout=0.3) as c:
            with pytest.raises(httpx.RemoteProtocolError):
                c.post("/generate", json={"image_request": {"prompt": "x"}})
            with pytest.raises(httpx.ReadTimeout):
                c.post("/generate", json={"image_request": {"prompt": "x"}})
            # the server still serves; its drawing may take well over 0.3 s on a busy machine
            assert c.post("/generate", json={"image_request": {"prompt": "x"}}, timeout=30).status_code == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com"])
def test_the_server_refuses_to_listen_beyond_loopback(host):
    with pytest.raises(ValueError, match="loopback"):
        SimulatorServer(host=host)


def test_the_command_line_refuses_a_public_host(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--host", "0.0.0.0", "--port", "0"])

    assert exited.value.code == 2
    assert "loopback" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_python_dash_m_serves_until_terminated(kit, tmp_path):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ideogram_nb.simulator", "--port", str(port), "--quiet"],
        cwd=tmp_path,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()[1]
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the simulator did not start listening"
                time.sleep(0.05)
        url = f"http://127.0.0.1:{port}"
        response = httpx.post(f"{url}/generate", headers=kit.key_headers, json={"image_request": {"prompt": "x"}})
        assert response.status_code == 200
        assert response.json()["data"][0]["url"].startswith(f"{url}/images/ephemeral/")
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
    assert url in out


def test_importing_the_simulator_pulls_in_no_widget_library(tmp_path):
    code = "import sys, ideogram_nb.simulator; print(sorted({'ipywidgets', 'ipycanvas'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "[]"


def test_the_simulator_reads_only_the_api_tables_of_the_package():
    """It stands in for the service: it must not lean on the client's own request objects."""
    package = Path(simulator.__file__).parent
    imported: set[str] = set()
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("ideogram_nb"):
                imported |= {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                imported |= {a.name for a in node.names if a.name.startswith("ideogram_nb")}

    # v1 and v2 tables, and the one word wrap (a drawing helper, shared with contact sheets)
    assert imported == {"ideogram_nb._api", "ideogram_nb._api_v2", "ideogram_nb._config", "ideogram_nb._text_wrap.wrap"}
