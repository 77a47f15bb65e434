"""Network health: counts and times of messages, referrals and directory upkeep, metadata only.

Every function takes a session, the current time and the dashboard's filters, and reads with
portable SQL (the same statements run on SQLite and PostgreSQL); months are bucketed with a
``CASE`` over the period's month boundaries, percentiles are computed in Python.

Nothing here reads a message's content: the relay has none to read. Small counts are not
suppressed here (the raw numbers are needed to add them up); ``shown_count`` and
``shown_duration`` apply the dashboard's privacy rule, and every view must go through them.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from accounts.models import User, user_organization
from directory.models import Organization
from messaging.models import Delivery, Envelope, Referral

SMALLEST_SHOWN = 5  # counts 1..4 are shown as "< 5"; a percentile needs at least 5 referrals
SUPPRESSED = "< 5"
ROUNDING = 5  # shown counts are multiples of this (see ``rounded_count``)
UNKNOWN_COUNTRY = "??"  # a sender or receiver with no organisation, or in several countries
ACTIVE_DAYS = 90
PERIODS = (1, 3, 6, 12, 24)
MESSAGE_KINDS = ("message", "referral")  # receipts are not counted
URGENCIES = ("high", "normal")


@dataclass(frozen=True)
class Filters:
    """What the dashboard shows: the last ``months`` calendar months, optionally one country."""

    months: int = 12
    country: str | None = None


@dataclass(frozen=True)
class Month:
    """One calendar month of the period, ``[start, end)`` in UTC."""

    label: str  # YYYY-MM
    start: datetime
    end: datetime


def months_of(now: datetime, months: int) -> list[Month]:
    """The ``months`` calendar months ending with the current one, oldest first."""
    year, month = now.year, now.month
    found: list[Month] = []
    for _ in range(months):
        start = datetime(year, month, 1, tzinfo=UTC)
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
        found.append(Month(f"{year:04d}-{month:02d}", start, end))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return list(reversed(found))


def _bucket(
    column: ColumnElement[datetime] | InstrumentedAttribute[datetime], months: Sequence[Month]
) -> ColumnElement[str]:
    """The month label of a time column, as portable SQL (NULL outside the period)."""
    return case(
        *[(and_(column >= m.start, column < m.end), literal(m.label)) for m in months],
        else_=None,
    )


# -- the privacy rule -------------------------------------------------------------------------


def is_suppressed(count: int) -> bool:
    """True for the counts that could point at a single case: 1 to 4."""
    return 0 < count < SMALLEST_SHOWN


def rounded_count(count: int) -> int:
    """A count from 5 up rounded to the nearest multiple of 5 (halves up), never below 5.

    Rounding every shown count, totals included, keeps a "< 5" from being worked out by
    subtraction: each figure is off by up to 2, so a difference of two of them spans the
    whole range 1 to 4. 0 and the suppressed counts are returned as they are.
    """
    if count < SMALLEST_SHOWN:
        return count
    return max(SMALLEST_SHOWN, (count + ROUNDING // 2) // ROUNDING * ROUNDING)


def shown_count(count: int) -> str:
    """A count as the dashboard may show it: 0, "< 5" for 1–4, else rounded to a multiple of 5."""
    return SUPPRESSED if is_suppressed(count) else str(rounded_count(count))


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` percentile (0..1) by linear interpolation between the closest ranks."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Durations:
    """Hours from sending to a step, for one group of referrals."""

    hours: tuple[float, ...]

    @property
    def count(self) -> int:
        """How many referrals reached the step."""
        return len(self.hours)

    @property
    def enough(self) -> bool:
        """True when there are enough referrals to show a median and a 90th percentile."""
        return self.count >= SMALLEST_SHOWN

    def median(self) -> float | None:
        """The median in hours, or None when too few referrals to show it."""
        return percentile(self.hours, 0.5) if self.enough else None

    def p90(self) -> float | None:
        """The 90th percentile in hours, or None when too few referrals to show it."""
        return percentile(self.hours, 0.9) if self.enough else None


def shown_duration(hours: float | None) -> str:
    """Hours with one decimal, or an empty string for a value that may not be shown."""
    return "" if hours is None else f"{hours:.1f}"


# -- counts per month and country pair --------------------------------------------------------


@dataclass
class PairCounts:
    """Counts keyed by (month, from country, to country)."""

    cells: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        """Everything counted."""
        return sum(self.cells.values())

    def by_month(self, months: Iterable[Month]) -> list[tuple[str, int]]:
        """(month, count) for every month of the period, zeros included."""
        totals: Counter[str] = Counter()
        for (month, _, _), count in self.cells.items():
            totals[month] += count
        return [(m.label, totals[m.label]) for m in months]

    def by_pair(self) -> list[tuple[str, str, int]]:
        """(from, to, count) for every pair seen, largest first, then by name."""
        totals: Counter[tuple[str, str]] = Counter()
        for (_, source, target), count in self.cells.items():
            totals[(source, target)] += count
        return sorted(
            ((s, t, c) for (s, t), c in totals.items() if c),
            key=lambda row: (-row[2], row[0], row[1]),
        )


def _keeps(filters: Filters, source: str, target: str) -> bool:
    return filters.country is None or filters.country in {source, target}


def _one_country(countries: set[str]) -> str:
    return next(iter(countries)) if len(countries) == 1 else UNKNOWN_COUNTRY


def _people_countries(session: Session) -> dict[str, set[str]]:
    statement = select(user_organization.c.user_id, Organization.country).join(
        Organization, Organization.id == user_organization.c.organization_id
    )
    found: dict[str, set[str]] = defaultdict(set)
    for user_id, country in session.execute(statement):
        found[user_id].add(country)
    return found


def message_counts(session: Session, now: datetime, filters: Filters) -> PairCounts:
    """Messages (and referral messages; not receipts) still retained, by month and country pair.

    The sender's country is that of their organisations; the receiver's is that of the
    envelope's ``to_org``, else that of its recipients' organisations. Someone with no
    organisation, or with organisations in several countries, counts as ``??``. Envelopes are
    purged when they expire, so only retained ones are counted.
    """
    months = months_of(now, filters.months)
    people = _people_countries(session)
    received = Envelope.received_at
    envelopes = (
        select(
            Envelope.id,
            _bucket(received, months).label("month"),
            Envelope.sender_id,
            Organization.country,
        )
        .outerjoin(Organization, Organization.id == Envelope.to_org_id)
        .where(
            Envelope.kind.in_(MESSAGE_KINDS),
            received >= months[0].start,
            received < months[-1].end,
        )
    )
    rows = session.execute(envelopes).all()
    recipients: dict[str, set[str]] = defaultdict(set)
    without_org = {row.id for row in rows if row.country is None}
    if without_org:
        deliveries = select(Delivery.envelope_id, Delivery.recipient_id).where(
            Delivery.is_sender.is_(False),
            Delivery.envelope_id.in_(
                select(Envelope.id).where(
                    Envelope.to_org_id.is_(None),
                    Envelope.kind.in_(MESSAGE_KINDS),
                    received >= months[0].start,
                    received < months[-1].end,
                )
            ),
        )
        for envelope_id, recipient_id in session.execute(deliveries):
            recipients[envelope_id] |= people.get(recipient_id, {UNKNOWN_COUNTRY})
    counts = PairCounts()
    for row in rows:
        source = _one_country(people.get(row.sender_id or "", set()))
        target = row.country or _one_country(recipients.get(row.id, set()))
        if row.month is not None and _keeps(filters, source, target):
            counts.cells[(row.month, source, target)] += 1
    return counts


def _referrals_in(months: Sequence[Month], filters: Filters) -> list[ColumnElement[bool]]:
    conditions = [Referral.sent_at >= months[0].start, Referral.sent_at < months[-1].end]
    if filters.country:
        conditions.append(
            or_(Referral.from_country == filters.country, Referral.to_country == filters.country)
        )
    return conditions


def referral_counts(session: Session, now: datetime, filters: Filters) -> PairCounts:
    """Referrals sent in the period, by month and country pair (kept after envelopes expire)."""
    months = months_of(now, filters.months)
    inner = (
        select(
            _bucket(Referral.sent_at, months).label("month"),
            func.coalesce(Referral.from_country, UNKNOWN_COUNTRY).label("source"),
            func.coalesce(Referral.to_country, UNKNOWN_COUNTRY).label("target"),
        )
        .where(*_referrals_in(months, filters))
        .subquery()
    )
    statement = select(inner.c.month, inner.c.source, inner.c.target, func.count()).group_by(
        inner.c.month, inner.c.source, inner.c.target
    )
    counts = PairCounts()
    for month, source, target, count in session.execute(statement):
        if month is not None:
            counts.cells[(month, source, target)] += count
    return counts


# -- response times ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ResponseTimes:
    """Times to acknowledge and to accept of the referrals of one month and urgency."""

    month: str
    urgency: str
    sent: int
    acknowledge: Durations
    accept: Durations


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def response_times(session: Session, now: datetime, filters: Filters) -> list[ResponseTimes]:
    """Per month of sending and urgency: how long acknowledging and accepting took."""
    months = months_of(now, filters.months)
    statement = select(
        _bucket(Referral.sent_at, months).label("month"),
        Referral.urgency,
        Referral.sent_at,
        Referral.acknowledged_at,
        Referral.accepted_at,
    ).where(*_referrals_in(months, filters))
    sent: Counter[tuple[str, str]] = Counter()
    acknowledge: dict[tuple[str, str], list[float]] = defaultdict(list)
    accept: dict[tuple[str, str], list[float]] = defaultdict(list)
    for row in session.execute(statement):
        if row.month is None:
            continue
        key = (row.month, row.urgency)
        sent[key] += 1
        if row.acknowledged_at is not None:
            acknowledge[key].append(_hours(row.sent_at, row.acknowledged_at))
        if row.accepted_at is not None:
            accept[key].append(_hours(row.sent_at, row.accepted_at))
    urgencies = sorted({u for _, u in sent} | set(URGENCIES), key=_urgency_order)
    return [
        ResponseTimes(
            m.label,
            urgency,
            sent[(m.label, urgency)],
            Durations(tuple(acknowledge[(m.label, urgency)])),
            Durations(tuple(accept[(m.label, urgency)])),
        )
        for m in months
        for urgency in urgencies
        if sent[(m.label, urgency)]
    ]


def _urgency_order(urgency: str) -> tuple[int, str]:
    return (URGENCIES.index(urgency) if urgency in URGENCIES else len(URGENCIES), urgency)


# -- service levels ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Overdue:
    """Referrals to one country and of one urgency that missed the service level."""

    to_country: str
    urgency: str
    waiting: int  # still ``sent`` and past ``ack_due_at`` now, whenever sent
    late: int  # sent in the period and acknowledged after ``ack_due_at``


def overdue_referrals(session: Session, now: datetime, filters: Filters) -> list[Overdue]:
    """Referrals past their service level, by receiving country and urgency."""
    months = months_of(now, filters.months)
    target = func.coalesce(Referral.to_country, UNKNOWN_COUNTRY)
    country = (
        [or_(Referral.from_country == filters.country, Referral.to_country == filters.country)]
        if filters.country
        else []
    )
    waiting = Counter(
        {
            (row[0], row[1]): row[2]
            for row in session.execute(
                select(target, Referral.urgency, func.count())
                .where(Referral.status == "sent", Referral.ack_due_at < now, *country)
                .group_by(target, Referral.urgency)
            )
        }
    )
    late = Counter(
        {
            (row[0], row[1]): row[2]
            for row in session.execute(
                select(target, Referral.urgency, func.count())
                .where(
                    Referral.acknowledged_at.is_not(None),
                    Referral.acknowledged_at > Referral.ack_due_at,
                    *_referrals_in(months, filters),
                )
                .group_by(target, Referral.urgency)
            )
        }
    )
    keys = sorted(set(waiting) | set(late), key=lambda k: (k[0], _urgency_order(k[1])))
    return [Overdue(c, u, waiting[(c, u)], late[(c, u)]) for c, u in keys]


# -- directory upkeep -------------------------------------------------------------------------


@dataclass(frozen=True)
class Freshness:
    """How many of a country's published organisations were verified within their interval."""

    country: str
    published: int
    verified: int

    @property
    def share(self) -> float | None:
        """The verified share in percent; None when it could reveal a count below 5."""
        if self.published < SMALLEST_SHOWN or is_suppressed(self.verified):
            return None
        return 100 * self.verified / self.published


def directory_freshness(session: Session, now: datetime, filters: Filters) -> list[Freshness]:
    """Per country: published organisations, and those verified within their review interval."""
    statement = select(
        Organization.country, Organization.last_verified_at, Organization.review_interval_days
    ).where(Organization.is_published.is_(True))
    if filters.country:
        statement = statement.where(Organization.country == filters.country)
    published: Counter[str] = Counter()
    verified: Counter[str] = Counter()
    for country, last_verified_at, interval in session.execute(statement):
        published[country] += 1
        if last_verified_at is not None and last_verified_at + timedelta(days=interval) >= now:
            verified[country] += 1
    return [Freshness(c, published[c], verified[c]) for c in sorted(published)]


@dataclass(frozen=True)
class ActiveMembers:
    """One organisation's members, and those who signed in within the last 90 days."""

    organization_id: str
    name: str
    country: str
    members: int
    active: int


def active_members(session: Session, now: datetime, filters: Filters) -> list[ActiveMembers]:
    """Per published organisation: members, and enabled members seen within 90 days."""
    since = now - timedelta(days=ACTIVE_DAYS)
    active = case(
        (and_(User.is_active.is_(True), User.last_login_at >= since), 1),
        else_=0,
    )
    statement = (
        select(
            Organization.id,
            Organization.name,
            Organization.country,
            func.count(User.id),
            func.coalesce(func.sum(active), 0),
        )
        .outerjoin(user_organization, user_organization.c.organization_id == Organization.id)
        .outerjoin(User, User.id == user_organization.c.user_id)
        .where(Organization.is_published.is_(True))
        .group_by(Organization.id, Organization.name, Organization.country)
        .order_by(Organization.country, Organization.name)
    )
    if filters.country:
        statement = statement.where(Organization.country == filters.country)
    return [
        ActiveMembers(org_id, name, country, int(members), int(seen))
        for org_id, name, country, members, seen in session.execute(statement)
    ]
