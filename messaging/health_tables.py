"""The network-health dashboard's tables and charts, with the privacy rule already applied.

One ``HealthReport`` feeds the page, its SVG charts and the CSV downloads, so the three can
never disagree about what is shown: every count goes through ``stats.shown_count`` and every
median or percentile through ``Durations`` (nothing from fewer than 5 referrals).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup
from sqlalchemy.orm import Session

from messaging import charts, stats
from messaging.stats import (
    Filters,
    is_suppressed,
    rounded_count,
    shown_count,
    shown_duration,
)

Translate = Callable[..., str]
TABLE_KEYS = (
    "messages-by-month",
    "messages-by-pair",
    "referrals-by-month",
    "referrals-by-pair",
    "response-times",
    "overdue",
    "freshness",
    "active-members",
)


@dataclass(frozen=True)
class Column:
    """A column: its heading and whether it holds a count, another number, or text."""

    label: str
    kind: str = "text"  # text | count | number


@dataclass(frozen=True)
class Row:
    """One row's shown cells and the ``data-*`` attributes that identify it in the page."""

    cells: tuple[str, ...]
    data: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Table:
    """A table as shown and downloaded."""

    key: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    note: str = ""


@dataclass
class HealthReport:
    """Everything the dashboard shows for one set of filters."""

    filters: Filters
    months: list[str]
    tables: dict[str, Table]
    charts: dict[str, Markup]
    totals: dict[str, str]


def _country(code: str, _: Translate) -> str:
    return _("Several or unknown") if code == stats.UNKNOWN_COUNTRY else code


def _bar(label: str, count: int) -> charts.Bar:
    # the bar's height is the rounded count too, or its size would tell the exact one
    shown = rounded_count(count)
    return charts.Bar(label, shown, shown_count(count), suppressed=is_suppressed(count))


def _pair_tables(
    prefix: str, counts: stats.PairCounts, months: list[stats.Month], noun: str, _: Translate
) -> tuple[Table, Table]:
    by_month = counts.by_month(months)
    by_pair = counts.by_pair()
    month_table = Table(
        f"{prefix}-by-month",
        _("%(things)s per month", things=noun),
        (Column(_("Month")), Column(noun, "count")),
        tuple(Row((m, shown_count(c)), {"month": m}) for m, c in by_month),
    )
    pair_table = Table(
        f"{prefix}-by-pair",
        _("%(things)s per country pair", things=noun),
        (Column(_("From")), Column(_("To")), Column(noun, "count")),
        tuple(
            Row((_country(s, _), _country(t, _), shown_count(c)), {"from": s, "to": t})
            for s, t, c in by_pair
        ),
    )
    return month_table, pair_table


def _response_table(rows: list[stats.ResponseTimes], _: Translate) -> Table:
    urgency = {"high": _("High"), "normal": _("Normal")}
    return Table(
        "response-times",
        _("Time to acknowledge and to accept, in hours"),
        (
            Column(_("Month")),
            Column(_("Urgency")),
            Column(_("Referrals"), "count"),
            Column(_("Acknowledged"), "count"),
            Column(_("Median to acknowledge"), "number"),
            Column(_("90th percentile to acknowledge"), "number"),
            Column(_("Accepted"), "count"),
            Column(_("Median to accept"), "number"),
            Column(_("90th percentile to accept"), "number"),
        ),
        tuple(
            Row(
                (
                    r.month,
                    urgency.get(r.urgency, r.urgency),
                    shown_count(r.sent),
                    shown_count(r.acknowledge.count),
                    shown_duration(r.acknowledge.median()),
                    shown_duration(r.acknowledge.p90()),
                    shown_count(r.accept.count),
                    shown_duration(r.accept.median()),
                    shown_duration(r.accept.p90()),
                ),
                {"month": r.month, "urgency": r.urgency},
            )
            for r in rows
        ),
        note=_("A median or percentile is shown only when at least 5 referrals reached the step."),
    )


def _overdue_table(rows: list[stats.Overdue], _: Translate) -> Table:
    urgency = {"high": _("High"), "normal": _("Normal")}
    return Table(
        "overdue",
        _("Referrals past their service level"),
        (
            Column(_("Receiving country")),
            Column(_("Urgency")),
            Column(_("Still waiting for acknowledgement"), "count"),
            Column(_("Acknowledged late"), "count"),
        ),
        tuple(
            Row(
                (
                    _country(r.to_country, _),
                    urgency.get(r.urgency, r.urgency),
                    shown_count(r.waiting),
                    shown_count(r.late),
                ),
                {"to": r.to_country, "urgency": r.urgency},
            )
            for r in rows
        ),
        note=_(
            "Still waiting: not acknowledged and past the due time now, whenever sent. "
            "Acknowledged late: sent in the period and acknowledged after the due time."
        ),
    )


def _freshness_table(rows: list[stats.Freshness], _: Translate) -> Table:
    return Table(
        "freshness",
        _("Directory freshness"),
        (
            Column(_("Country")),
            Column(_("Published organisations"), "count"),
            Column(_("Verified within their review interval"), "count"),
            Column(_("Share verified"), "number"),
        ),
        tuple(
            Row(
                (
                    r.country,
                    shown_count(r.published),
                    shown_count(r.verified),
                    "" if r.share is None else f"{r.share:.0f} %",
                ),
                {"country": r.country},
            )
            for r in rows
        ),
        note=_("The share is shown for countries with at least 5 published organisations."),
    )


def _members_table(rows: list[stats.ActiveMembers], _: Translate) -> Table:
    return Table(
        "active-members",
        _("Active members per organisation"),
        (
            Column(_("Organisation")),
            Column(_("Country")),
            Column(_("Members"), "count"),
            Column(_("Signed in within 90 days"), "count"),
        ),
        tuple(
            Row(
                (r.name, r.country, shown_count(r.members), shown_count(r.active)),
                {"organisation": r.organization_id},
            )
            for r in rows
        ),
    )


def _median_series(
    rows: list[stats.ResponseTimes], months: list[str], urgency: str
) -> list[float | None]:
    found = {r.month: r.acknowledge.median() for r in rows if r.urgency == urgency}
    return [found.get(m) for m in months]


def build_report(session: Session, now: datetime, filters: Filters, _: Translate) -> HealthReport:
    """Every table, chart and total of the dashboard for these filters."""
    months = stats.months_of(now, filters.months)
    labels = [m.label for m in months]
    messages = stats.message_counts(session, now, filters)
    referrals = stats.referral_counts(session, now, filters)
    times = stats.response_times(session, now, filters)
    overdue = stats.overdue_referrals(session, now, filters)
    freshness = stats.directory_freshness(session, now, filters)
    members = stats.active_members(session, now, filters)
    tables: dict[str, Table] = {}
    for prefix, counts, noun in (
        ("messages", messages, _("Messages")),
        ("referrals", referrals, _("Referrals")),
    ):
        month_table, pair_table = _pair_tables(prefix, counts, months, noun, _)
        tables[month_table.key], tables[pair_table.key] = month_table, pair_table
    tables["response-times"] = _response_table(times, _)
    tables["overdue"] = _overdue_table(overdue, _)
    tables["freshness"] = _freshness_table(freshness, _)
    tables["active-members"] = _members_table(members, _)
    waiting = sum(r.waiting for r in overdue)
    chart_note = _("Counts from 1 to 4 are drawn as a dashed bar of fixed height, marked < 5.")
    built = {
        "messages-by-month": charts.column_chart(
            "chart-messages-by-month",
            _("Messages per month"),
            chart_note,
            [_bar(m, c) for m, c in messages.by_month(months)],
        ),
        "referrals-by-month": charts.column_chart(
            "chart-referrals-by-month",
            _("Referrals per month"),
            chart_note,
            [_bar(m, c) for m, c in referrals.by_month(months)],
        ),
        "referrals-by-pair": charts.row_chart(
            "chart-referrals-by-pair",
            _("Referrals per country pair"),
            chart_note,
            [_bar(f"{_country(s, _)} → {_country(t, _)}", c) for s, t, c in referrals.by_pair()],
        ),
        "response-times": charts.line_chart(
            "chart-response-times",
            _("Median hours to acknowledge, per month"),
            _("Months with fewer than 5 acknowledged referrals are left out."),
            labels,
            [
                charts.Series(_("High"), _median_series(times, labels, "high")),
                charts.Series(_("Normal"), _median_series(times, labels, "normal")),
            ],
        ),
        "freshness": charts.row_chart(
            "chart-freshness",
            _("Share of published organisations verified within their review interval"),
            _("Countries with fewer than 5 published organisations are left out."),
            [
                charts.Bar(r.country, r.share, f"{r.share:.0f}")
                for r in freshness
                if r.share is not None
            ],
            unit=" %",
        ),
    }
    totals = {
        "messages": shown_count(messages.total),
        "referrals": shown_count(referrals.total),
        "waiting": shown_count(waiting),
    }
    return HealthReport(filters, labels, tables, built, totals)
