"""Service levels: hours for high urgency, working days in Brussels for normal, and escalation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from config import ConfigError, load_settings
from messaging.services.service_levels import ack_due, escalation_due


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("sent", "due"),
    [
        ("2026-11-24 09:00", "2026-11-26 09:00"),  # Tuesday → Thursday
        ("2026-11-27 15:30", "2026-12-01 15:30"),  # Friday → Tuesday, over the weekend
        ("2026-11-28 10:00", "2026-12-01 23:00"),  # Saturday → counts from Monday 00:00 Brussels
        ("2026-10-23 08:00", "2026-10-27 09:00"),  # Friday 10:00 CEST → Tuesday 10:00 CET
    ],
)
def test_normal_urgency_counts_two_working_days_in_brussels(settings, sent, due):
    assert ack_due(settings, "normal", utc(sent)) == utc(due)


def test_high_urgency_counts_hours_on_the_clock_even_at_night_and_weekends(settings):
    assert ack_due(settings, "high", utc("2026-11-28 22:00")) == utc("2026-11-29 02:00")


def test_escalation_follows_a_further_period_and_is_configurable(settings):
    due = utc("2026-11-24 12:00")
    assert escalation_due(settings, "high", due) == utc("2026-11-24 16:00")
    assert escalation_due(settings, "normal", due) == utc("2026-11-26 12:00")  # 2 working days
    at_once = settings.replace(referral_escalate_after_periods=0)
    assert escalation_due(at_once, "high", due) == due


def test_service_levels_come_from_the_environment_and_bad_values_stop_start_up(tmp_path):
    settings = load_settings(
        environ={
            "LIAISON_REFERRAL_ACK_HIGH_HOURS": "2",
            "LIAISON_REFERRAL_ACK_NORMAL_WORKING_DAYS": "3",
            "LIAISON_REFERRAL_ESCALATE_AFTER_PERIODS": "2",
        },
        data_dir=tmp_path,
    )
    assert ack_due(settings, "high", utc("2026-11-24 12:00")) == utc("2026-11-24 14:00")
    assert escalation_due(settings, "high", utc("2026-11-24 12:00")) == utc("2026-11-24 16:00")
    with pytest.raises(ConfigError, match="at least 1"):
        load_settings(environ={"LIAISON_REFERRAL_ACK_HIGH_HOURS": "0"}, data_dir=tmp_path)


@pytest.mark.parametrize(
    ("country", "sent", "due"),
    [
        # Armistice (BE only), Wed 11 November 2026: Tuesday → Friday in BE, Thursday elsewhere.
        ("BE", "2026-11-10 08:00", "2026-11-13 08:00"),
        ("NL", "2026-11-10 08:00", "2026-11-12 08:00"),
        ("LU", "2026-11-10 08:00", "2026-11-12 08:00"),
        # Koningsdag (NL only), Tuesday 27 April 2027: Monday → Thursday in NL, Wednesday elsewhere.
        ("NL", "2027-04-26 07:00", "2027-04-29 07:00"),
        ("BE", "2027-04-26 07:00", "2027-04-28 07:00"),
        # National Day (LU only), Wednesday 23 June 2027: Tuesday → Friday in LU, Thursday in BE.
        ("LU", "2027-06-22 07:00", "2027-06-25 07:00"),
        ("BE", "2027-06-22 07:00", "2027-06-24 07:00"),
        # Easter Monday, 29 March 2027, in all three: Thursday → Tuesday, not Monday; the holidays
        # package lists Good Friday as a Dutch public holiday too, so NL → Wednesday.
        ("BE", "2027-03-25 09:00", "2027-03-30 08:00"),
        ("NL", "2027-03-25 09:00", "2027-03-31 08:00"),
        ("LU", "2027-03-25 09:00", "2027-03-30 08:00"),
        # Sent on a public holiday: the clock starts at midnight of the next working day.
        ("NL", "2027-04-27 10:00", "2027-04-29 22:00"),
        # Christmas and Boxing Day 2026 (Friday, Saturday in BE/NL/LU): Thursday → Tuesday.
        ("BE", "2026-12-24 09:00", "2026-12-29 09:00"),
    ],
)
def test_working_days_skip_the_receiving_country_public_holidays(settings, country, sent, due):
    assert ack_due(settings, "normal", utc(sent), country) == utc(due)


def test_escalation_also_skips_the_receiving_country_holidays(settings):
    # Due Monday 26 April 2027; two more working days in NL skip Koningsdag (Tuesday).
    due = utc("2027-04-26 07:00")
    assert escalation_due(settings, "normal", due, "NL") == utc("2027-04-29 07:00")
    assert escalation_due(settings, "normal", due, "BE") == utc("2027-04-28 07:00")


def test_a_country_without_a_holiday_calendar_counts_weekdays_only(settings):
    assert ack_due(settings, "normal", utc("2026-11-10 08:00"), "XX") == utc("2026-11-12 08:00")
    assert ack_due(settings, "normal", utc("2026-11-10 08:00"), None) == utc("2026-11-12 08:00")
