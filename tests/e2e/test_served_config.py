"""The served stacks' QR interval: one code lasts a whole module at any time of day, with no waiting."""

from __future__ import annotations

from tests.e2e.conftest import LONGEST_QR_INTERVAL_MINUTES, MODULE_BUDGET_MS, served_config

MINUTE_MS = 60_000
DAY_MS = 1440 * MINUTE_MS


def test_every_minute_of_a_week_gets_an_interval_whose_code_outlasts_the_module() -> None:
    start = 20_790 * DAY_MS  # a day in 2026
    for now_ms in range(start, start + 7 * DAY_MS, MINUTE_MS // 2):
        minutes = served_config(now_ms)["qrTimeIntervalMinutes"]
        interval_ms = minutes * MINUTE_MS
        assert 1 <= minutes <= LONGEST_QR_INTERVAL_MINUTES
        assert now_ms // interval_ms == (now_ms + MODULE_BUDGET_MS) // interval_ms, now_ms


def test_the_day_long_code_is_kept_unless_the_day_ends_within_the_module() -> None:
    noon = 20_790 * DAY_MS + DAY_MS // 2
    assert served_config(noon)["qrTimeIntervalMinutes"] == LONGEST_QR_INTERVAL_MINUTES
    five_to_midnight = 20_791 * DAY_MS - 5 * MINUTE_MS
    assert served_config(five_to_midnight)["qrTimeIntervalMinutes"] < LONGEST_QR_INTERVAL_MINUTES
