"""Fixtures for the workflow tests: a fresh Serverlesspresso stack in moto per test (see ``workflow_stack``).

``make_shop(capacity=..., customer_timeout_seconds=..., barista_timeout_seconds=...)`` builds one with
other settings (short timeouts for the timeout tests); ``shop`` has the default capacity of 20 and
timeouts long enough never to fire during a test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.workflows.workflow_stack import Shop, ShopSettings


@pytest.fixture
def make_shop(aws: None) -> Iterator[Callable[..., Shop]]:
    def make(**settings: int) -> Shop:
        return Shop(ShopSettings(**settings))

    yield make


@pytest.fixture
def shop(make_shop: Callable[..., Shop]) -> Shop:
    return make_shop()
