"""Referral service levels: when a referral is due for acknowledgement, and when it escalates.

High urgency counts hours on the clock; normal urgency counts working days of the receiving
organisation: Monday to Friday in Europe/Brussels (the same time zone as Amsterdam and Luxembourg),
without the public holidays of its country (the ``holidays`` package's national holidays of BE, NL
and LU; office hours are not modelled). A referral sent on a day off starts counting at midnight of
the next working day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from config import Settings

BRUSSELS = ZoneInfo("Europe/Brussels")
URGENCIES = ("high", "normal")


@lru_cache(maxsize=64)
def _public_holidays(country: str, year: int) -> frozenset[date]:
    """The national public holidays of ``country`` in ``year`` (none for a country not covered)."""
    try:
        calendar = holidays.country_holidays(country.upper(), years=year)
    except NotImplementedError:
        return frozenset()
    return frozenset(calendar)


def is_working_day(day: date, country: str | None) -> bool:
    """Monday to Friday, and not a public holiday in ``country`` (when it is known)."""
    if day.weekday() >= 5:
        return False
    return not country or day not in _public_holidays(country, day.year)


def _add_working_days(start: datetime, days: int, country: str | None = None) -> datetime:
    """``start`` plus ``days`` working days in ``country``, same Brussels wall-clock time."""
    local = start.astimezone(BRUSSELS)
    if not is_working_day(local.date(), country):  # a day off: start at the next working midnight
        first = local.date() + timedelta(days=1)
        while not is_working_day(first, country):
            first += timedelta(days=1)
        local = datetime.combine(first, time(0, 0), tzinfo=BRUSSELS)
    day = local.date()
    left = days
    while left:
        day += timedelta(days=1)
        if is_working_day(day, country):
            left -= 1
    # Rebuilt from the wall-clock time so that a change to or from summer time keeps the hour.
    return datetime.combine(day, local.time(), tzinfo=BRUSSELS).astimezone(start.tzinfo)


def period_end(
    settings: Settings, urgency: str, start: datetime, country: str | None = None
) -> datetime:
    """The end of one service-level period of ``urgency`` that begins at ``start``.

    ``country`` is the receiving organisation's: its public holidays are not working days.
    """
    if urgency == "high":
        return start + timedelta(hours=settings.referral_ack_high_hours)
    return _add_working_days(start, settings.referral_ack_normal_working_days, country)


def ack_due(
    settings: Settings, urgency: str, sent_at: datetime, country: str | None = None
) -> datetime:
    """When a referral sent at ``sent_at`` to an office in ``country`` is due for an answer."""
    return period_end(settings, urgency, sent_at, country)


def escalation_due(
    settings: Settings, urgency: str, ack_due_at: datetime, country: str | None = None
) -> datetime:
    """When a still unacknowledged referral is escalated: further periods after its due time."""
    moment = ack_due_at
    for _ in range(settings.referral_escalate_after_periods):
        moment = period_end(settings, urgency, moment, country)
    return moment


def is_overdue(status: str, ack_due_at: datetime, now: datetime) -> bool:
    """True while a referral waits for acknowledgement past its due time."""
    return status == "sent" and now > ack_due_at
