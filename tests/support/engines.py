"""The five session engines, and which of them a test runs on.

A test that takes the ``engine`` fixture runs once per engine, unless it says which
engines its claim is about with ``@pytest.mark.engines("db", "file")``: a test whose
claim does not depend on the engine names one, and an engine-specific test names its
own instead of skipping the others (tests/conftest.py: ``pytest_generate_tests``).
"""

from __future__ import annotations

import pytest

from sessions_api.engines import ENGINE_MODULES as SESSION_ENGINES

ENGINES = list(SESSION_ENGINES)
CACHE_ENGINES = {"cache", "cached_db"}
# The engines that keep a copy of the session on the server (all but signed cookies).
SERVER_SIDE = [name for name in ENGINES if name != "signed_cookies"]
# The one engine of a test whose claim holds on any engine.
ANY_ENGINE = "db"
# The mark of such a test (input refused before the session is read, CSRF, errors,
# headers, pages): it runs once, not five times over the same code path.
any_engine = pytest.mark.engines(ANY_ENGINE)


def selected_engines(metafunc: pytest.Metafunc) -> list[str]:
    """The engines a test runs on: its ``engines`` marker's (closest first), or all."""
    marker = metafunc.definition.get_closest_marker("engines")
    if marker is None:
        return ENGINES
    unknown = [name for name in marker.args if name not in SESSION_ENGINES]
    if not marker.args or unknown:
        raise pytest.UsageError(
            f"{metafunc.definition.nodeid}: engines() takes engine names from {ENGINES}, "
            f"got {list(marker.args)}"
        )
    return list(marker.args)


def parametrizes(metafunc: pytest.Metafunc, argname: str) -> bool:
    """Whether the test's own ``parametrize`` marks name ``argname``."""
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0] if mark.args else mark.kwargs.get("argnames", ())
        if isinstance(names, str):
            names = [name.strip() for name in names.split(",")]
        if argname in names:
            return True
    return False
