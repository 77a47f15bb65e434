"""Referral API: the caller's incoming and outgoing referrals, one with its history, and status
changes. Metadata only: the referral form itself travels encrypted in the thread's messages."""

from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from core.api_schema import Body, Reply, api_operation
from core.db import utcnow
from core.web import db_session
from messaging import api_models as m
from messaging.api_common import blueprint, caller, json_body
from messaging.errors import Malformed
from messaging.services import referrals

STATUS_BODY_LIMIT = 4096


@blueprint.get("/referrals")
@api_operation(
    summary="Your referrals: box=incoming (to organisations you are a contact point of) or "
    "outgoing (sent by you or your organisation), optionally of one status",
    query=m.ReferralsQuery,
    replies={200: Reply("referrals (metadata only)", m.Referrals)},
    errors={400: ["bad-box", "bad-status"]},
)
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
@api_operation(
    summary="One referral with its status history (events)",
    path={"referral_id": m.ID_PARAM},
    path_names={"referral_id": "id"},
    replies={200: Reply("the referral", m.ReferralWithHistory)},
    errors={404: ["not-found"]},
)
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
@api_operation(
    summary="Change a referral's status (redirected names the organisation in redirect_to)",
    path={"referral_id": m.ID_PARAM},
    path_names={"referral_id": "id"},
    body=Body(m.StatusChangeBody),
    replies={200: Reply("the updated referral with its history", m.ReferralWithHistory)},
    errors={
        400: ["malformed", "bad-status", "bad-redirect"],
        403: ["not-a-receiving-contact-point", "forbidden"],
        404: ["not-found"],
        409: ["bad-transition"],
        413: ["too-large"],
        422: ["bad-redirect", "same-organisation", "unknown-organisation"],
    },
)
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
