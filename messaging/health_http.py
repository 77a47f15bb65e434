"""The secretariat's network-health dashboard and its CSV downloads (metadata only).

Only the secretariat and admins may open it (403 for other roles; anonymous visitors are sent
to sign in). Counts from 1 to 4 are shown as "< 5" in the page, its charts and the CSV files.
"""

from __future__ import annotations

import csv
import io
import re

from flask import Blueprint, abort, render_template, request
from werkzeug.wrappers import Response

from accounts.http_common import secretariat_only
from core.db import utcnow
from core.i18n import gettext
from core.web import db_session
from messaging.health_tables import TABLE_KEYS, Table, build_report
from messaging.stats import PERIODS, Filters

health = Blueprint("health", __name__, url_prefix="/secretariat/health")
NETWORK_COUNTRIES = ("BE", "NL", "LU")
COUNTRY = re.compile(r"^[A-Z]{2}\Z")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


health.before_request(secretariat_only)


def _filters() -> Filters:
    """The filters from the query string; anything else than the offered choices is a 400."""
    period = request.args.get("period", "12")
    country = request.args.get("country", "").strip().upper()
    if not period.isdigit() or int(period) not in PERIODS:
        abort(400, description=gettext("Choose a period from the list."))
    if country and not COUNTRY.match(country):
        abort(400, description=gettext("Choose a country from the list."))
    return Filters(months=int(period), country=country or None)


@health.get("", strict_slashes=False)
def dashboard() -> str:
    """Messages, referrals, response times, service levels, directory freshness, members."""
    filters = _filters()
    report = build_report(db_session(), utcnow(), filters, gettext)
    return render_template(
        "secretariat/health.html",
        report=report,
        periods=PERIODS,
        countries=NETWORK_COUNTRIES,
        query={"period": filters.months, "country": filters.country or ""},
    )


def safe_cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula: a leading = + - @ gets an apostrophe."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def table_csv(table: Table) -> str:
    """The table as CSV text, cells exactly as shown on the page (suppression included)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(column.label) for column in table.columns])
    for row in table.rows:
        writer.writerow([safe_cell(cell) for cell in row.cells])
    return buffer.getvalue()


@health.get("/<table>.csv")
def download(table: str) -> Response:
    """One table of the dashboard as a CSV file, with the same filters and suppression."""
    if table not in TABLE_KEYS:
        abort(404)
    filters = _filters()
    now = utcnow()
    report = build_report(db_session(), now, filters, gettext)
    suffix = f"-{filters.country.lower()}" if filters.country else ""
    name = f"liaison-{table}-{filters.months}m{suffix}-{now:%Y-%m-%d}.csv"
    return Response(
        table_csv(report.tables[table]),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
