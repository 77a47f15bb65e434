"""Referral API: the caller's incoming and outgoing referrals, one with its history, and status
changes. Metadata only: the referral form itself travels encrypted in the thread's messages."""

from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from core.db import utcnow
from core.web import db_session
from messaging.api_common import blueprint, caller, json_body
from messaging.errors import Malformed
from messaging.services import referrals

STATUS_BODY_LIMIT = 4096


@blueprint.get("/referrals")
def list_referrals() -> ResponseReturnValue:
    """``box=incoming`` (to your organisations, for contact points) or ``outgoing``."""
    user = caller()
    session = db_session()
    found = referrals.list_referrals(
        session,
        user,
        box=request.args.get("box", "incoming"),
        status=request.args.get("status") or None,
    )
    organisations = referrals.organisations_of(session, found)
    now = utcnow()
    return jsonify({"referrals": [referrals.referral_json(r, organisations, now) for r in found]})


@blueprint.get("/referrals/<referral_id>")
def get_referral(referral_id: str) -> ResponseReturnValue:
    """One referral you sent or receive, with its status history."""
    user = caller()
    session = db_session()
    referral = referrals.get_referral(session, user, referral_id)
    body = referrals.referral_json(
        referral, referrals.organisations_of(session, [referral]), utcnow()
    )
    body["events"] = referrals.events_json(session, referral.id)
    return jsonify(body)


@blueprint.post("/referrals/<referral_id>/status")
def change_status(referral_id: str) -> ResponseReturnValue:
    """``{"status": …, "redirect_to": org id (only with redirected)}`` → the updated referral."""
    user = caller()
    document = json_body(STATUS_BODY_LIMIT)
    if not isinstance(document, dict) or not set(document) <= {"status", "redirect_to"}:
        raise Malformed('send {"status": …} and, to redirect, "redirect_to"')
    session = db_session()
    now = utcnow()
    referral = referrals.change_status(
        session,
        user,
        referral_id,
        document.get("status"),
        now=now,
        redirect_to=document.get("redirect_to"),
    )
    body = referrals.referral_json(referral, referrals.organisations_of(session, [referral]), now)
    body["events"] = referrals.events_json(session, referral.id)
    session.commit()
    return jsonify(body)
