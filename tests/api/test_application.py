"""The API's Flask class: hooks and views are checked for coroutines once each."""

from __future__ import annotations

import inspect

import pytest

from api.application import Application


def test_sync_functions_are_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    app = Application(__name__)
    checked: list[object] = []
    original = inspect.iscoroutinefunction

    def counting(func: object) -> bool:
        checked.append(func)
        return original(func)

    monkeypatch.setattr("flask.app.iscoroutinefunction", counting)

    def view() -> str:
        return "ok"

    assert all(app.ensure_sync(view) is view for _ in range(3))
    assert checked == [view]


def test_coroutines_get_flasks_own_answer_every_time() -> None:
    # Without asgiref (not a dependency: the API has no async views) Flask refuses them;
    # remembering answers must not turn that into something else the second time.
    app = Application(__name__)

    async def view() -> str:
        return "never"

    for _ in range(2):
        with pytest.raises(RuntimeError, match="async"):
            app.ensure_sync(view)
