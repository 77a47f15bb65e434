"""The network-health dashboard: what it counts, and that it never shows a count from 1 to 4."""
# ruff: noqa: F811 - the referral fixture is imported by name

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import Role
from core.db import utcnow
from messaging import charts, stats
from messaging.health_http import safe_cell
from messaging.stats import Filters
from tests.messaging.health_factory import envelope, organisation, referral
from tests.messaging.referral_fixtures import cast  # noqa: F401 -- a fixture

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
FEB = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)
JAN = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def orgs(db_session):
    return {
        "BE": organisation(db_session, "be-payoke", "BE", name="Payoke"),
        "NL": organisation(db_session, "nl-comensha", "NL", name="CoMensha"),
        "LU": organisation(db_session, "lu-infotraite", "LU", name="InfoTraite"),
    }


def test_months_of_crosses_the_year_boundary():
    months = stats.months_of(datetime(2026, 2, 3, tzinfo=UTC), 3)
    assert [m.label for m in months] == ["2025-12", "2026-01", "2026-02"]
    assert months[0].start == datetime(2025, 12, 1, tzinfo=UTC)
    assert months[-1].end == datetime(2026, 3, 1, tzinfo=UTC)


def test_percentile_interpolates_between_ranks():
    values = [float(v) for v in range(1, 11)]
    assert stats.percentile(values, 0.5) == pytest.approx(5.5)
    assert stats.percentile(values, 0.9) == pytest.approx(9.1)
    assert stats.percentile([7.0], 0.9) == 7.0


@pytest.mark.parametrize(
    ("count", "shown"),
    [(0, "0"), (1, "< 5"), (4, "< 5"), (5, "5"), (7, "5"), (8, "10"), (12, "10"), (123, "125")],
)
def test_counts_from_one_to_four_are_shown_as_less_than_five_others_rounded(count, shown):
    assert stats.shown_count(count) == shown


def test_a_suppressed_count_cannot_be_found_by_subtraction():
    """Whatever the parts, the shown total and the shown other part leave at least two
    values from 1 to 4 possible for the suppressed part (without rounding, exactly one)."""
    for small in range(1, 5):
        for other in range(5, 60):
            total = stats.rounded_count(small + other)
            rest = stats.rounded_count(other)
            possible = {
                s
                for s in range(1, 5)
                for o in range(5, 70)
                if stats.rounded_count(s + o) == total and stats.rounded_count(o) == rest
            }
            assert small in possible
            assert len(possible) >= 2, (small, other, possible)


def test_referrals_are_counted_per_month_and_country_pair(db_session, orgs):
    for _ in range(6):
        referral(db_session, orgs["BE"], orgs["NL"], FEB)
    for _ in range(2):
        referral(db_session, orgs["NL"], orgs["LU"], JAN)
    referral(db_session, orgs["BE"], orgs["NL"], NOW - timedelta(days=400))  # outside the period
    db_session.commit()

    counts = stats.referral_counts(db_session, NOW, Filters(months=3))
    assert counts.by_pair() == [("BE", "NL", 6), ("NL", "LU", 2)]
    assert counts.by_month(stats.months_of(NOW, 3)) == [
        ("2026-01", 2),
        ("2026-02", 6),
        ("2026-03", 0),
    ]
    assert counts.total == 8
    luxembourg = stats.referral_counts(db_session, NOW, Filters(months=3, country="LU"))
    assert luxembourg.by_pair() == [("NL", "LU", 2)]


def test_messages_are_counted_by_sender_and_receiving_country_without_receipts(
    db_session, orgs, make_user
):
    belgian = make_user(Role.CONTACT_POINT, organizations=[orgs["BE"]])
    luxembourgish = make_user(Role.CONTACT_POINT, organizations=[orgs["LU"]])
    for _ in range(5):
        envelope(db_session, belgian, FEB, to_org=orgs["NL"])
    envelope(db_session, belgian, FEB, to_org=orgs["NL"], kind="referral")
    envelope(db_session, belgian, FEB, recipients=[luxembourgish])  # no to_org: the recipient's
    envelope(db_session, belgian, FEB, to_org=orgs["NL"], kind="receipt")  # not counted
    envelope(db_session, belgian, NOW - timedelta(days=200), to_org=orgs["NL"])  # too old
    db_session.commit()

    counts = stats.message_counts(db_session, NOW, Filters(months=3))
    assert counts.by_pair() == [("BE", "NL", 6), ("BE", "LU", 1)]
    assert counts.total == 7


def test_response_times_need_five_referrals_for_a_median(db_session, orgs):
    for hours in (1, 2, 3, 4, 5):
        referral(
            db_session, orgs["BE"], orgs["NL"], FEB, acknowledged_after=hours, accepted_after=24
        )
    for hours in (10, 20, 30, 40):
        referral(db_session, orgs["BE"], orgs["NL"], FEB, urgency="normal", due_hours=48,
                 acknowledged_after=hours)  # fmt: skip
    db_session.commit()

    rows = {r.urgency: r for r in stats.response_times(db_session, NOW, Filters(months=3))}
    high, normal = rows["high"], rows["normal"]
    assert high.month == "2026-02"
    assert high.acknowledge.median() == pytest.approx(3.0)
    assert high.acknowledge.p90() == pytest.approx(4.6)
    assert high.accept.median() == pytest.approx(24.0)
    assert normal.sent == 4
    assert normal.acknowledge.median() is None  # four referrals: not shown
    assert normal.accept.count == 0


def test_overdue_counts_waiting_and_late_referrals(db_session, orgs):
    referral(db_session, orgs["BE"], orgs["NL"], NOW - timedelta(hours=5))  # waiting, past due
    referral(db_session, orgs["BE"], orgs["NL"], NOW - timedelta(hours=1))  # not yet due
    referral(db_session, orgs["BE"], orgs["NL"], NOW - timedelta(days=500))  # waiting, any age
    referral(db_session, orgs["BE"], orgs["NL"], FEB, status="acknowledged", acknowledged_after=6)
    referral(db_session, orgs["BE"], orgs["NL"], FEB, status="acknowledged", acknowledged_after=2)
    db_session.commit()

    [row] = stats.overdue_referrals(db_session, NOW, Filters(months=3))
    assert (row.to_country, row.urgency, row.waiting, row.late) == ("NL", "high", 2, 1)


def test_freshness_counts_published_organisations_verified_within_their_interval(db_session):
    for number in range(6):
        organisation(
            db_session,
            f"be-fresh-{number}",
            "BE",
            last_verified_at=NOW - timedelta(days=10),
            review_interval_days=180,
        )
    organisation(
        db_session, "be-stale", "BE", last_verified_at=NOW - timedelta(days=200),
        review_interval_days=180,
    )  # fmt: skip
    organisation(db_session, "be-never", "BE")
    organisation(db_session, "be-hidden", "BE", is_published=False)

    [belgium] = stats.directory_freshness(db_session, NOW, Filters())
    assert (belgium.published, belgium.verified) == (8, 6)
    assert belgium.share == pytest.approx(75.0)


def test_active_members_count_people_seen_within_ninety_days(db_session, orgs, make_user):
    for days in (1, 30, 89, 91, 400):
        person = make_user(Role.MEMBER, organizations=[orgs["NL"]])
        person.last_login_at = NOW - timedelta(days=days)
    make_user(Role.MEMBER, organizations=[orgs["NL"]])  # never signed in
    db_session.commit()

    rows = {r.country: r for r in stats.active_members(db_session, NOW, Filters())}
    assert (rows["NL"].members, rows["NL"].active) == (6, 3)
    assert (rows["BE"].members, rows["BE"].active) == (0, 0)


def test_a_suppressed_bar_looks_the_same_whatever_its_count():
    one = charts.column_chart("c", "Referrals", "d", [charts.Bar("2026-01", 1, "< 5", True)])
    four = charts.column_chart("c", "Referrals", "d", [charts.Bar("2026-01", 4, "< 5", True)])
    assert one == four
    assert 'role="img"' in one
    assert "<title>Referrals</title>" in one
    assert "&lt; 5" in one


def test_chart_labels_are_escaped():
    chart = charts.row_chart("c", "<b>x</b>", "d", [charts.Bar("<script>", 7, "7")])
    assert "<script>" not in chart
    assert "&lt;script&gt;" in chart
    assert "&lt;b&gt;" in chart


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("< 5", "< 5"),
        ("Payoke", "Payoke"),
    ],
)
def test_csv_cells_cannot_start_a_formula(value, written):
    assert safe_cell(value) == written


# -- the page -----------------------------------------------------------------------------------


@pytest.fixture
def secretariat_client(client, make_user, sign_in):
    sign_in(client, make_user(Role.SECRETARIAT))
    return client


def _pair_row(html: str, source: str, target: str) -> str:
    match = re.search(
        rf'<tr data-from="{source}" data-to="{target}">(.*?)</tr>', html, flags=re.DOTALL
    )
    assert match, f"no row {source} → {target}"
    return match.group(1)


def _count(row_html: str) -> str:
    match = re.search(r'<td class="count">([^<]*)</td>', row_html)
    assert match
    return match.group(1).replace("&lt;", "<")


def test_page_shows_counts_of_five_and_more_and_hides_smaller_ones(
    secretariat_client, db_session, orgs
):
    now = utcnow()
    for _ in range(7):
        referral(db_session, orgs["BE"], orgs["NL"], now - timedelta(hours=2))
    for _ in range(3):
        referral(db_session, orgs["NL"], orgs["LU"], now - timedelta(hours=2))
    db_session.commit()

    page = secretariat_client.get("/secretariat/health")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="referrals-by-pair"' in html
    assert _count(_pair_row(html, "BE", "NL")) == "5"  # 7, rounded to a multiple of 5
    assert _count(_pair_row(html, "NL", "LU")) == "< 5"
    assert re.search(r'id="referrals-total">10<', html)
    # the SVG charts are inline, labelled, and carry the same suppression
    assert html.count('role="img"') >= 2
    svg = re.search(r'<svg[^>]*id="chart-referrals-by-pair".*?</svg>', html, re.DOTALL).group(0)
    assert "<title>" in svg
    assert "&lt; 5" in svg
    assert ">3<" not in svg
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    assert "<script" not in main  # no script in the page itself (the site's own footer has one)


def test_page_hides_a_single_referral_everywhere(secretariat_client, db_session, orgs):
    referral(db_session, orgs["BE"], orgs["NL"], utcnow() - timedelta(hours=1))
    db_session.commit()
    html = secretariat_client.get("/secretariat/health").get_data(as_text=True)
    assert _count(_pair_row(html, "BE", "NL")) == "< 5"
    assert re.search(r'id="referrals-total">&lt; 5<', html)
    assert not re.search(r'class="count">1<', html)


def test_page_does_not_show_a_median_of_fewer_than_five(secretariat_client, db_session, orgs):
    now = utcnow()
    for hours in (1.5, 2.5, 3.5, 4.5):
        referral(db_session, orgs["BE"], orgs["NL"], now - timedelta(hours=6),
                 status="acknowledged", acknowledged_after=hours)  # fmt: skip
    db_session.commit()
    html = secretariat_client.get("/secretariat/health").get_data(as_text=True)
    table = re.search(r'<table id="response-times">.*?</table>', html, re.DOTALL).group(0)
    assert "3.0" not in table
    assert "2.5" not in table
    assert 'class="number"></td>' in table


def test_csv_download_applies_the_same_suppression(secretariat_client, db_session, orgs):
    now = utcnow()
    for _ in range(6):
        referral(db_session, orgs["BE"], orgs["NL"], now - timedelta(hours=1))
    referral(db_session, orgs["LU"], orgs["NL"], now - timedelta(hours=1))
    db_session.commit()

    response = secretariat_client.get("/secretariat/health/referrals-by-pair.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["From", "To", "Referrals"]
    assert ["BE", "NL", "5"] in rows  # 6, rounded
    assert ["LU", "NL", "< 5"] in rows


def test_csv_download_neutralises_formulas_in_organisation_names(secretariat_client, db_session):
    organisation(db_session, "be-evil", "BE", name='=HYPERLINK("http://x","y")')
    response = secretariat_client.get("/secretariat/health/active-members.csv")
    text = response.get_data(as_text=True)
    assert "'=HYPERLINK" in text
    assert '\r\n"=HYPERLINK' not in text
    assert "\r\n=HYPERLINK" not in text


def test_country_filter_keeps_only_that_countrys_traffic(secretariat_client, db_session, orgs):
    now = utcnow()
    for _ in range(5):
        referral(db_session, orgs["BE"], orgs["NL"], now - timedelta(hours=1))
    for _ in range(5):
        referral(db_session, orgs["NL"], orgs["LU"], now - timedelta(hours=1))
    db_session.commit()
    html = secretariat_client.get("/secretariat/health?country=LU&period=3").get_data(as_text=True)
    assert 'data-from="NL" data-to="LU"' in html
    assert 'data-from="BE" data-to="NL"' not in html
    assert re.search(r'id="referrals-total">5<', html)


def test_empty_network_shows_an_empty_state(secretariat_client):
    html = secretariat_client.get("/secretariat/health").get_data(as_text=True)
    assert 'id="health-empty"' in html
    assert 'id="referrals-total">0<' in html


@pytest.mark.parametrize("query", ["period=7", "period=abc", "country=Belgium"])
def test_bad_filters_are_refused_clearly(secretariat_client, query):
    response = secretariat_client.get(f"/secretariat/health?{query}")
    assert response.status_code == 400
    assert "Choose a" in response.get_data(as_text=True)


def test_unknown_table_is_not_found(secretariat_client):
    assert secretariat_client.get("/secretariat/health/secrets.csv").status_code == 404


@pytest.mark.parametrize("role", [Role.MEMBER, Role.CONTACT_POINT, Role.ORG_EDITOR])
@pytest.mark.parametrize("path", ["/secretariat/health", "/secretariat/health/overdue.csv"])
def test_only_the_secretariat_may_open_the_dashboard(client, make_user, sign_in, role, path):
    sign_in(client, make_user(role))
    assert client.get(path).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/secretariat/health")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login?next=")


def test_admins_may_open_the_dashboard(client, make_user, sign_in):
    sign_in(client, make_user(Role.ADMIN))
    assert client.get("/secretariat/health").status_code == 200


def test_dashboard_is_linked_from_the_secretariat_menu(secretariat_client):
    html = secretariat_client.get("/secretariat/").get_data(as_text=True)
    assert 'href="/secretariat/health"' in html


def test_dashboard_answers_with_and_without_a_trailing_slash(secretariat_client):
    assert secretariat_client.get("/secretariat/health/").status_code == 200


@pytest.mark.parametrize(
    ("language", "heading"),
    [
        ("nl", "Gezondheid van het netwerk"),
        ("fr", "Santé du réseau"),
        ("de", "Zustand des Netzwerks"),
    ],
)
def test_dashboard_speaks_the_persons_language(secretariat_client, language, heading):
    html = secretariat_client.get(
        "/secretariat/health", headers={"Accept-Language": language}
    ).get_data(as_text=True)
    assert f"<h1>{heading}</h1>" in html


def test_a_referral_sent_and_accepted_through_the_relay_is_counted(
    cast, secretariat_client, db_session
):
    referral_ids = [cast.send("high") for _ in range(5)]
    for referral_id in referral_ids:
        assert cast.status(cast.intake, referral_id, "accepted").status_code == 200

    html = secretariat_client.get("/secretariat/health").get_data(as_text=True)
    assert _count(_pair_row(html, "BE", "NL")) == "5"
    assert re.search(r'id="referrals-total">5<', html)
    table = re.search(r'<table id="response-times">.*?</table>', html, re.DOTALL).group(0)
    assert 'data-urgency="high"' in table
    assert re.search(r'class="number">\d+\.\d</td>', table)  # a median from 5 referrals
