"""The secretariat's personal-data pages: erase a contact person, export what is held on someone."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, abort, g, redirect, render_template, request
from werkzeug.wrappers import Response

from accounts.models import Role

privacy = Blueprint("privacy", __name__, url_prefix="/secretariat/privacy")


@privacy.before_request
def _secretariat_only() -> Response | None:
    user = g.get("user")
    if user is None:
        return redirect("/login?next=" + quote(request.path), code=303)
    if not user.has_role(Role.SECRETARIAT):
        abort(403)
    return None


@privacy.get("/")
def index() -> str:
    """Find a contact person to erase, or a person whose data to export."""
    return render_template("secretariat/privacy.html", contacts=[], query="")
