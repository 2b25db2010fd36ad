"""Fixtures of the system suite (defined in system_fixtures, importable by its tests).

Each test reports its figures (requests, p99, refusals) through ``report_figure``; they are
printed in a "system figures" section at the end of the run, so CI logs keep them even though
pytest hides a passing test's output.
"""

from collections.abc import Callable

import pytest
from system_fixtures import private_redis, system

__all__ = ["private_redis", "report_figure", "system"]

_FIGURES = pytest.StashKey[list[str]]()


@pytest.fixture
def report_figure(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Record one line of figures for the end-of-run summary."""
    figures = request.config.stash.setdefault(_FIGURES, [])
    return lambda line: figures.append(f"{request.node.name}: {line}")


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    figures = config.stash.get(_FIGURES, [])
    if figures:
        terminalreporter.section("system figures")
        for line in figures:
            terminalreporter.write_line(line)
