"""Real-browser fixtures: Debian's chromium through Playwright, and Jupyter servers on free
loopback ports (JupyterLab 4, Notebook 7, Voilà), each in its own process group and temp dirs.

The tests skip, with the reason, where there is no `/usr/bin/chromium` or Playwright cannot
launch it (`apt-get install -y chromium`; never `playwright install`). Servers are stopped with
`os.killpg` in the fixtures' finalizers, whatever the tests did. A failing test leaves a
screenshot and the page's errors in `artifacts/browser/`.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import browser_support as bs
import pytest

# the probe notebooks are fixtures of these tests, not user notebooks: nbval must not run them
collect_ignore_glob = ["notebooks/*"]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    report = yield
    setattr(item, f"_browser_rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(bs.CHROMIUM).exists():
        pytest.skip(f"no Debian chromium at {bs.CHROMIUM}: `apt-get install -y chromium` (never `playwright install`)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright (python) is not installed: pip install playwright")
    for stale in bs.ARTIFACTS.glob("FAILED-*"):  # from an earlier session: would mislead
        stale.unlink()
    pw = sync_playwright().start()
    try:
        chromium = pw.chromium.launch(executable_path=bs.CHROMIUM, args=bs.LAUNCH_ARGS)
    except Exception as exc:  # noqa: BLE001 - any launch failure means: this machine cannot run them
        pw.stop()
        pytest.skip(f"playwright cannot launch {bs.CHROMIUM}: {str(exc).splitlines()[0]}")
    try:
        yield chromium
    finally:
        chromium.close()
        pw.stop()


class Browsing:
    """One test's page, its error watch, and the server it talks to (for failure reports)."""

    def __init__(self, page: Any, watch: bs.PageWatch) -> None:
        self.page = page
        self.watch = watch
        self.server: bs.Server | None = None

    def assert_no_page_errors(self, known: tuple[re.Pattern[str], ...] = ()) -> None:
        """No uncaught error in the page, except the `known` ones of a front end itself
        (each test names its own, with the reason; they are still listed in the output)."""
        unknown = [e for e in self.watch.page_errors if not any(k.search(e) for k in known)]
        if len(unknown) < len(self.watch.page_errors):
            print(f"known front-end page errors ignored: {len(self.watch.page_errors) - len(unknown)}")
        assert not unknown, "uncaught errors in the page:\n" + "\n".join(unknown)


@pytest.fixture
def browsing(browser: Any, request: pytest.FixtureRequest) -> Iterator[Browsing]:
    context = browser.new_context(viewport=bs.VIEWPORT)
    page, watch = bs.open_page(context)
    state = Browsing(page, watch)
    try:
        yield state
    finally:
        rep = getattr(request.node, "_browser_rep_call", None)
        if rep is not None and rep.failed:
            name = f"FAILED-{request.node.name}"
            try:
                bs.screenshot(page, name)
            except Exception:  # noqa: BLE001 - the page may be gone; the report below still helps
                pass
            text = watch.summary()
            if state.server is not None:
                text += f"\n--- {state.server.kind} server log (tail) ---\n{state.server.log_tail()}"
            bs.ARTIFACTS.mkdir(parents=True, exist_ok=True)
            (bs.ARTIFACTS / f"{name}.txt").write_text(text, encoding="utf-8")
        context.close()


def _served_copy(tmp: Path) -> Path:
    """A throwaway copy of the probe notebooks (and the user notebooks) for a server to serve,
    so that saving (Lab autosave, or our explicit save before a reload) never edits the repo."""
    root = tmp / "root"
    shutil.copytree(bs.NOTEBOOKS, root)
    user = bs.REPO / "notebooks"
    if user.is_dir():
        shutil.copytree(user, root / "user", ignore=shutil.ignore_patterns("ideogram_runs", ".ipynb_checkpoints"))
    return root


def _server(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[bs.Server]:
    tmp = tmp_path_factory.mktemp(kind)
    root = _served_copy(tmp)
    server = bs.start_server(kind, root, tmp, notebook=str(root) if kind == "voila" else None)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def lab_server(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[bs.Server]:
    yield from _server("lab", tmp_path_factory)


@pytest.fixture(scope="module")
def voila_server(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[bs.Server]:
    yield from _server("voila", tmp_path_factory)


@pytest.fixture(scope="module")
def notebook_server(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[bs.Server]:
    yield from _server("notebook", tmp_path_factory)
