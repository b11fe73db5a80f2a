"""Every test gets its own history folder and a clean environment: no real keys, no real
history, no provider chosen by the machine running the tests."""

from __future__ import annotations

import pytest

from ideogram_nb import _config

_CLEARED = (
    _config.ENV_IDEOGRAM_KEY,
    _config.ENV_AIHUBMIX_KEY,
    _config.ENV_PROVIDER,
    _config.ENV_BASE_URL,
)


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "ideogram_home"
    monkeypatch.setenv(_config.ENV_HOME, str(home))
    yield home


def pytest_addoption(parser):
    parser.addoption("--soak", action="store_true", default=False, help="run the long soak tests")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--soak"):
        return
    skip = pytest.mark.skip(reason="long soak run: pass --soak")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)
