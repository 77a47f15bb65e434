"""Referral service levels: when a referral is due for acknowledgement, and when it escalates.

High urgency counts hours on the clock; normal urgency counts working days, Monday to Friday in
Europe/Brussels (the network's office hours are not modelled, and public holidays count as
working days). A referral sent on a weekend starts counting on Monday at midnight.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from config import Settings

BRUSSELS = ZoneInfo("Europe/Brussels")
URGENCIES = ("high", "normal")


def _add_working_days(start: datetime, days: int) -> datetime:
    """``start`` plus ``days`` working days, keeping the wall-clock time in Brussels."""
    local = start.astimezone(BRUSSELS)
    if local.weekday() >= 5:  # a weekend: the clock starts on Monday at 00:00
        monday = local.date() + timedelta(days=7 - local.weekday())
        local = datetime.combine(monday, time(0, 0), tzinfo=BRUSSELS)
    day = local.date()
    left = days
    while left:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    # Rebuilt from the wall-clock time so that a change to or from summer time keeps the hour.
    return datetime.combine(day, local.time(), tzinfo=BRUSSELS).astimezone(start.tzinfo)


def period_end(settings: Settings, urgency: str, start: datetime) -> datetime:
    """The end of one service-level period of ``urgency`` that begins at ``start``."""
    if urgency == "high":
        return start + timedelta(hours=settings.referral_ack_high_hours)
    return _add_working_days(start, settings.referral_ack_normal_working_days)


def ack_due(settings: Settings, urgency: str, sent_at: datetime) -> datetime:
    """When a referral sent at ``sent_at`` should be acknowledged at the latest."""
    return period_end(settings, urgency, sent_at)


def escalation_due(settings: Settings, urgency: str, ack_due_at: datetime) -> datetime:
    """When a still unacknowledged referral is escalated: further periods after its due time."""
    moment = ack_due_at
    for _ in range(settings.referral_escalate_after_periods):
        moment = period_end(settings, urgency, moment)
    return moment


def is_overdue(status: str, ack_due_at: datetime, now: datetime) -> bool:
    """True while a referral waits for acknowledgement past its due time."""
    return status == "sent" and now > ack_due_at
