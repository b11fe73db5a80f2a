"""Servers, pages and canvas reading for the real-browser tests (see shared/TESTING.md).

Everything here waits on conditions with generous deadlines, never on fixed sleeps, so the
tests stay robust on a slow CI machine: a condition that holds returns at once.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ideogram_nb import _config

HERE = Path(__file__).resolve().parent
NOTEBOOKS = HERE / "notebooks"
REPO = HERE.parents[1]
ARTIFACTS = REPO / "artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
#: The folder the test notebooks write what their kernel saw into (see notebooks/*.ipynb).
OUT_ENV = "IDEOGRAM_NB_BROWSER_OUT"
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
VIEWPORT = {"width": 1280, "height": 1400}
SERVER_START_S = 90.0
DEFAULT_TIMEOUT_MS = 60_000


# --- servers ------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def server_env(tmp: Path) -> dict[str, str]:
    """The environment for a server and its kernels: Jupyter's folders, the ideogram_nb history
    and the report folder under `tmp`; no real key, and the offline simulator by name."""
    env = {k: v for k, v in os.environ.items() if k not in (
        _config.ENV_IDEOGRAM_KEY, _config.ENV_AIHUBMIX_KEY, _config.ENV_BASE_URL)}  # fmt: skip
    for name in ("jupyter_config", "jupyter_runtime", "ipython", "ideogram_home", "out", "data"):
        (tmp / name).mkdir(parents=True, exist_ok=True)
    env.update(
        JUPYTER_CONFIG_DIR=str(tmp / "jupyter_config"),
        JUPYTER_RUNTIME_DIR=str(tmp / "jupyter_runtime"),
        IPYTHONDIR=str(tmp / "ipython"),
        JUPYTER_DATA_DIR=str(tmp / "data"),
        JUPYTER_PLATFORM_DIRS="1",
        PYTHONUNBUFFERED="1",
        **{_config.ENV_HOME: str(tmp / "ideogram_home"), _config.ENV_PROVIDER: "offline", OUT_ENV: str(tmp / "out")},
    )
    # the kernels must be this interpreter's (the venv's), whatever is first on PATH
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


@dataclass
class Server:
    """A Jupyter server (Lab, Notebook 7 or Voilà) in its own process group."""

    kind: str
    port: int
    proc: subprocess.Popen
    log: Path
    tmp: Path
    env: dict[str, str] = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def out(self) -> Path:
        return Path(self.env[OUT_ENV])

    @property
    def home(self) -> Path:
        return Path(self.env[_config.ENV_HOME])

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM the whole process group (server and kernels), then SIGKILL what is left."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        try:  # kernels share the group and may outlive the server by a moment
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.proc.poll() is None:
            self.proc.wait(timeout=15)


def start_server(kind: str, root: Path, tmp: Path, *, notebook: str | None = None) -> Server:
    """Start JupyterLab ('lab'), Notebook 7 ('notebook') or Voilà ('voila', on `notebook`)
    serving `root` on a free loopback port, and wait until its port answers."""
    tmp.mkdir(parents=True, exist_ok=True)
    env = server_env(tmp)
    port = free_port()
    py = sys.executable
    common = ["--no-browser", f"--port={port}"]
    if kind in ("lab", "notebook"):
        app = "LabApp" if kind == "lab" else "JupyterNotebookApp"
        cmd = [py, "-m", "jupyterlab" if kind == "lab" else "notebook", *common, "--ip=127.0.0.1",
               "--ServerApp.port_retries=0", "--IdentityProvider.token=", "--ServerApp.password=",
               f"--ServerApp.root_dir={root}", f"--{app}.expose_app_in_browser=True",
               "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]  # fmt: skip
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        if kind == "notebook":
            cmd = [c for c in cmd if not c.startswith("--LabApp.")]
    elif kind == "voila":
        assert notebook is not None
        cmd = [py, "-m", "voila", notebook, *common, "--Voila.ip=127.0.0.1", "--Voila.port_retries=0",
               "--show_tracebacks=True"]  # fmt: skip
    else:
        raise ValueError(kind)
    if kind == "lab":  # no "Jupyter news?" toast over the widgets, no update check
        settings = Path(env["JUPYTER_CONFIG_DIR"]) / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True, exist_ok=True)
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False}), encoding="utf-8"
        )
    log = tmp / f"{kind}-server.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    server = Server(kind, port, proc, log, tmp, env)
    deadline = time.monotonic() + SERVER_START_S
    while not port_open(port):  # the port, not "/": a GET of Voilà's "/" runs the notebook
        if proc.poll() is not None:
            server.stop()
            raise RuntimeError(f"{kind} server exited with {proc.returncode}:\n{server.log_tail()}")
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(
                f"{kind} server did not open port {port} in {SERVER_START_S:.0f} s:\n{server.log_tail()}"
            )
        time.sleep(0.2)
    return server


# --- what the kernel reported -------------------------------------------------------------------
def read_reports(out: Path, name: str) -> list[dict[str, Any]]:
    path = out / f"{name}.jsonl"
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip().endswith("}")]


def wait_for(condition: Callable[[], Any], timeout: float, what: str, *, interval: float = 0.1) -> Any:
    """Poll `condition()` until it returns something truthy (returned); fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def session_reports(out: Path, name: str, pid: int | None = None) -> list[dict[str, Any]]:
    """The reports of one kernel: `pid`, or the kernel that said 'ready' last."""
    reports = read_reports(out, name)
    if pid is None:
        ready = [r for r in reports if r.get("event") == "ready"]
        if not ready:
            return []
        pid = ready[-1]["pid"]
    return [r for r in reports if r["pid"] == pid]


# --- pages --------------------------------------------------------------------------------------
def _local(url: str) -> bool:
    return url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:"))


@dataclass
class PageWatch:
    """Page errors (uncaught exceptions: these fail a test), console errors and blocked
    outside requests (reported, not failed on, as TESTING.md advises)."""

    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"page errors: {self.page_errors}\nconsole errors: {self.console_errors[-20:]}\n"
                f"blocked outside requests: {self.blocked}")  # fmt: skip


def open_page(context: Any) -> tuple[Any, PageWatch]:
    """A new page that may reach only the loopback servers, with its errors collected."""
    page = context.new_page()
    watch = PageWatch()
    page.set_default_timeout(DEFAULT_TIMEOUT_MS)

    def block(route: Any) -> None:
        watch.blocked.append(route.request.url)
        route.abort()

    page.route(lambda url: not _local(url), block)
    page.on("pageerror", lambda exc: watch.page_errors.append(f"{exc.name}: {exc.message}\n{exc.stack}"))
    page.on("console", lambda msg: msg.type == "error" and watch.console_errors.append(msg.text))
    return page, watch


def screenshot(target: Any, name: str) -> Path:
    """Save a screenshot of a page or locator in artifacts/browser/ (gitignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    target.screenshot(path=str(path))
    return path


# --- JupyterLab / Notebook 7 --------------------------------------------------------------------
KERNEL_IDLE_JS = """(name) => {
  const app = window.jupyterapp;
  const w = app && app.shell && app.shell.currentWidget;
  const ctx = w && w.sessionContext;
  const kernel = ctx && ctx.session && ctx.session.kernel;
  return !!kernel && kernel.status === 'idle' && w.context.path.endsWith(name)
    && !!w.content && w.content.widgets.length > 0;
}"""
ALL_CELLS_RAN_JS = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const cells = w.content.widgets.filter(c => c.model.type === 'code');
  return w.sessionContext.session.kernel.status === 'idle'
    && cells.every(c => c.model.executionCount !== null && !/\\[\\*\\]/.test(c.promptNode.textContent));
}"""


def open_notebook(page: Any, base_url: str, path: str, *, lab: bool = True, timeout_ms: int = 120_000) -> None:
    """Open `path` (JupyterLab: a reset workspace; Notebook 7: its own page) and wait until its
    kernel is idle."""
    url = f"{base_url}/lab/tree/{path}?reset" if lab else f"{base_url}/notebooks/{path}"
    page.goto(url)
    page.wait_for_function(KERNEL_IDLE_JS, arg=path.rsplit("/", 1)[-1], timeout=timeout_ms, polling=200)


def run_all_cells(page: Any, timeout_ms: int = 120_000) -> str:
    """Run every cell of the open notebook and wait until all have run; returns 'done', or
    'failed' when a cell raised (its traceback is then in `error_outputs(page)`)."""
    page.evaluate("""() => {
      window.__igRunAll = null;
      window.jupyterapp.commands.execute('notebook:run-all-cells').then(
        (ok) => { window.__igRunAll = ok === false ? 'failed' : 'done'; },
        (err) => { window.__igRunAll = 'error: ' + err; });
    }""")
    page.wait_for_function("() => window.__igRunAll !== null", timeout=timeout_ms, polling=200)
    page.wait_for_function(ALL_CELLS_RAN_JS, timeout=timeout_ms, polling=200)
    return page.evaluate("() => window.__igRunAll")


def save_notebook(page: Any) -> None:
    """Save the open notebook (its widget outputs too), as a user does before reloading."""
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", polling=200)


def error_outputs(page: Any) -> list[str]:
    """Tracebacks shown in the notebook's output areas."""
    return page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']").all_inner_texts()


# --- canvases -----------------------------------------------------------------------------------
#: What a <canvas> shows, read with getImageData: its size, how many pixels are not transparent,
#: and the RGBA at the sample points (fractions of the canvas).
CANVAS_PIXELS_JS = """(c, points) => {
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let opaque = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) opaque++;
  const samples = points.map(([fx, fy]) => {
    const i = (Math.round(fy * (c.height - 1)) * c.width + Math.round(fx * (c.width - 1))) * 4;
    return [data[i], data[i + 1], data[i + 2], data[i + 3]];
  });
  return {width: c.width, height: c.height, opaque, samples};
}"""
#: True once every pixel of the canvas is fully opaque (an image is drawn all over it).
CANVAS_OPAQUE_JS = """(c) => {
  if (c.width < 2) return false;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 3; i < d.length; i += 4) if (d[i] !== 255) return false;
  return true;
}"""


def canvas_pixels(canvas: Any, points: Sequence[tuple[float, float]] = ()) -> dict[str, Any]:
    """Pixel facts of the <canvas> element `canvas` (a locator), read in the browser.

    ipycanvas 0.14 shows a MultiCanvas as one <canvas> that composites its layers, so this is
    exactly what the user sees: the image layer with the mask overlay on top.
    """
    return canvas.evaluate(CANVAS_PIXELS_JS, [list(p) for p in points])


def drag(page: Any, target: Any, start: tuple[float, float], end: tuple[float, float],
         *, steps: int = 20, duration_s: float = 1.5) -> None:  # fmt: skip
    """A mouse drag over the element `target` from `start` to `end`, given as fractions of its
    box: down, `steps` moves spread over `duration_s`, up (TESTING.md's recipe).

    The element is scrolled fully into view first and its box measured just before: an
    ipycanvas canvas takes the focus on mouse down, and focusing an element that is partly off
    screen scrolls the page under the mouse.
    """
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    view = page.viewport_size
    assert box and box["width"] > 50 and box["height"] > 50, f"the drag target is not on screen: {box}"
    assert box["y"] >= 0 and box["y"] + box["height"] <= view["height"], f"the drag target does not fit: {box}"

    def at(f: tuple[float, float]) -> tuple[float, float]:
        return box["x"] + f[0] * box["width"], box["y"] + f[1] * box["height"]

    x0, y0 = at(start)
    x1, y1 = at(end)
    page.mouse.move(x0, y0)
    page.mouse.down()
    for i in range(1, steps + 1):
        t = i / steps
        page.mouse.move(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t)
        page.wait_for_timeout(duration_s * 1000 / steps)
    page.mouse.up()
