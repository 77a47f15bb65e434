"""Accepting an envelope: every server check of spec §3, then one row and one copy per person.

Nothing is written unless every check passes; the caller commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, or_, select, true
from sqlalchemy.orm import Session, aliased

from accounts.api_tokens import ApiToken
from accounts.models import Role, User, user_organization
from config import Settings
from core.db import utcnow
from directory.models import Organization, Visibility
from messaging import crypto
from messaging.envelopes import UUID, b64encode, parse_time
from messaging.errors import Conflict, Forbidden, Malformed, Rejected, RelayError
from messaging.models import Blob, Delivery, Envelope, IdentityKey
from messaging.services.blobs import may_download
from messaging.services.referrals import ReferralRequest, parse_referral, record_referral
from messaging.services.relay_store import Copy, store

CLOCK_SKEW = timedelta(minutes=10)
MAX_BLOBS = 100
MAX_CIPHERTEXT_BYTES = 2 * 1024 * 1024


# How the crypto module's named reasons map to HTTP statuses.
_STATUS = {
    "malformed": 400,
    "unsupported-version": 400,
    "too-large": 413,
    "wrong-sender": 403,
}


def _refusal(error: crypto.CryptoError) -> RelayError:
    status = _STATUS.get(error.reason, 422)
    return RelayError(error.detail or error.reason, check=error.reason, status=status)


@dataclass(frozen=True)
class Submission:
    """What a client posts: the envelope, the blobs its (encrypted) body names and, for a
    referral, its plaintext part (urgency and sending organisation)."""

    envelope: crypto.Envelope
    blob_ids: tuple[str, ...]
    referral: ReferralRequest | None = None


_WRAPPER_KEYS = {"envelope", "blobs", "referral"}


def parse_submission(document: Any) -> Submission:
    """A bare envelope, or ``{"envelope": …, "blobs": [ids], "referral": {…}}``."""
    blob_ids: tuple[str, ...] = ()
    referral: ReferralRequest | None = None
    if isinstance(document, dict) and document and set(document) <= _WRAPPER_KEYS:
        blobs = document.get("blobs", [])
        if not isinstance(blobs, list) or len(blobs) > MAX_BLOBS:
            raise Malformed(f"blobs must be a list of at most {MAX_BLOBS} blob ids")
        if not all(isinstance(b, str) for b in blobs) or len(set(blobs)) != len(blobs):
            raise Malformed("blobs must be distinct blob ids")
        blob_ids = tuple(blobs)
        if "referral" in document:
            referral = parse_referral(document["referral"])
        document = document.get("envelope")
    try:
        envelope = crypto.parse_envelope(document)
    except crypto.CryptoError as error:
        raise _refusal(error) from None
    if len(envelope.ciphertext) > MAX_CIPHERTEXT_BYTES:
        raise Malformed("the ciphertext is larger than the relay accepts", status=413)
    if envelope.header["kind"] == "referral":
        if referral is None:
            raise Malformed(
                "a referral is posted as {envelope, referral: {urgency, from_org}}",
                check="referral-required",
            )
    elif referral is not None:
        raise Malformed("only an envelope of kind referral carries a referral object",
                        check="unexpected-referral")  # fmt: skip
    return Submission(envelope, blob_ids, referral)


def _wire_wraps(envelope: crypto.Envelope) -> list[dict[str, str]]:
    return [{"to": w.to, "key_id": w.key_id, "box": b64encode(w.box)} for w in envelope.wraps]


def _same_bytes(stored: Envelope, parsed: crypto.Envelope) -> bool:
    def key(wrap: dict[str, Any]) -> tuple[str, str, str]:
        return (wrap["to"], wrap["key_id"], wrap["box"])

    return (
        stored.header == parsed.header_bytes
        and stored.nonce == parsed.nonce
        and stored.ciphertext == parsed.ciphertext
        and stored.sig == parsed.sig
        and sorted(map(key, stored.wraps)) == sorted(map(key, _wire_wraps(parsed)))
    )


@dataclass(frozen=True)
class TokenRow:
    """The bearer token a look-up found among the envelope's people (not yet judged usable)."""

    id: str
    user_id: str
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class Lookup:
    """What one query tells about an envelope: is its id taken, who may receive, which keys,
    and (when asked) which of its active people holds the caller's bearer token."""

    id_taken: bool
    org_exists: bool
    active: set[str]
    key_ids: dict[str, str]  # the current key id of each active person who has one
    keys: dict[str, tuple[str, str, str]]  # their sign_pk, box_pk and created_at
    token: TokenRow | None = None


# The people of a look-up go in as ``slots`` plain parameters ``p0, p1, …`` (the list padded by
# repeating its last id), a power of two up to MAX_SLOTS: a handful of statements, each compiled
# once, instead of re-rendering an expanding IN list on every post. Longer lists expand.
MAX_SLOTS = 64


def _slots(count: int) -> int:
    """The number of parameter slots for ``count`` people (0: an expanding parameter)."""
    return 0 if count > MAX_SLOTS else max(4, 1 << (count - 1).bit_length())


_SENDER = aliased(User)
# ``to_org`` exists for the sender only when they may see it: published and not secretariat-only,
# or one of their own organisations, or they are the secretariat. To anyone else a hidden
# organisation is answered exactly as an unknown id.
_ORG_VISIBLE = exists().where(
    Organization.id == bindparam("to_org"),
    or_(
        and_(
            Organization.is_published.is_(True),
            Organization.visibility.in_((Visibility.PUBLIC.value, Visibility.NETWORK.value)),
        ),
        exists().where(
            user_organization.c.organization_id == Organization.id,
            user_organization.c.user_id == bindparam("sender"),
        ),
        exists().where(
            _SENDER.id == bindparam("sender"),
            _SENDER.role.in_((Role.SECRETARIAT.value, Role.ADMIN.value)),
        ),
    ),
)


@cache
def _lookup_statement(with_org: bool, with_token: bool, slots: int) -> Select[Any]:
    """Built once: active people among ``people`` with their current key (if any), plus whether
    envelope ``id`` exists, (``with_org``) whether organisation ``to_org`` exists and
    (``with_token``) the token with hash ``token_hash`` if one of these people holds it."""
    id_taken = exists().where(Envelope.id == bindparam("id"))
    org_exists = _ORG_VISIBLE if with_org else true()
    columns: list[Any] = [
        User.id,
        IdentityKey.key_id,
        IdentityKey.sign_pk,
        IdentityKey.box_pk,
        IdentityKey.created_at,
        id_taken.label("id_taken"),
        org_exists.label("org_exists"),
    ]
    if with_token:
        columns += [
            ApiToken.id.label("token_id"),
            ApiToken.expires_at,
            ApiToken.revoked_at,
            ApiToken.last_used_at,
        ]
    statement = select(*columns).outerjoin(
        IdentityKey, and_(IdentityKey.user_id == User.id, IdentityKey.current.is_(True))
    )
    if with_token:
        statement = statement.outerjoin(
            ApiToken,
            and_(ApiToken.user_id == User.id, ApiToken.token_hash == bindparam("token_hash")),
        )
    if slots:
        people: Any = [bindparam(f"p{slot}") for slot in range(slots)]
    else:
        people = bindparam("people", expanding=True)
    return statement.where(User.id.in_(people), User.is_active)


_ID_TAKEN = select(exists().where(Envelope.id == bindparam("id")))
_ORG_EXISTS = select(_ORG_VISIBLE)


def look_up(session: Session, parsed: crypto.Envelope, token_hash: str | None = None) -> Lookup:
    """In one round trip: whether the id is taken, whether ``to_org`` exists, which of the
    addressed people and the header's sender are active, their current keys and, given a
    bearer token's hash, which of them (if any) holds that token."""
    to_org = parsed.header["to_org"]
    people = sorted({*parsed.recipients, parsed.header["sender"]})
    params = {
        "id": parsed.id,
        "to_org": to_org,
        "sender": parsed.header["sender"],
        "people": people,
        "token_hash": token_hash,
    }
    slots = _slots(len(people))
    for slot in range(slots):
        params[f"p{slot}"] = people[min(slot, len(people) - 1)]
    # Core execution on the session's connection (same transaction): no ORM result handling.
    connection = session.connection()
    statement = _lookup_statement(to_org is not None, token_hash is not None, slots)
    rows = connection.execute(statement, params).all()
    if not rows:  # nobody active at all (not even the sender): ask the other two on their own
        taken = bool(connection.scalar(_ID_TAKEN, params))
        org_exists = to_org is None or bool(connection.scalar(_ORG_EXISTS, params))
        return Lookup(taken, org_exists, set(), {}, {})
    active: set[str] = set()
    key_ids: dict[str, str] = {}
    keys: dict[str, tuple[str, str, str]] = {}
    token = None
    for person, key_id, sign_pk, box_pk, created_at, _taken, _org, *held in rows:
        active.add(person)
        if key_id is not None:
            key_ids[person] = key_id
            keys[person] = (sign_pk, box_pk, created_at)
        if held and held[0] is not None:  # this person holds the token (ids are unique)
            token_id, expires_at, revoked_at, last_used_at = held
            token = TokenRow(token_id, person, expires_at, revoked_at, last_used_at)
    first = rows[0]
    return Lookup(bool(first.id_taken), bool(first.org_exists), active, key_ids, keys, token)


def _sender_key(found: Lookup, sender_id: str) -> crypto.PublicKey | None:
    if sender_id not in found.keys:
        return None
    sign_pk, box_pk, created_at = found.keys[sender_id]
    return crypto.public_key_from_b64(sender_id, sign_pk, box_pk, created_at)


def _check_recipients(parsed: crypto.Envelope, found: Lookup) -> None:
    """Every addressed person exists, is active and has a current key."""
    to = parsed.recipients
    missing = sorted(set(to) - found.active)
    if missing:
        raise Rejected(
            "no active person with the id(s) " + ", ".join(missing), check="unknown-recipient"
        )
    keyless = sorted(set(to) - set(found.key_ids))
    if keyless:
        raise Rejected(
            "no published key for " + ", ".join(keyless) + "; they cannot receive yet",
            check="recipient-cannot-receive",
        )


def _expiry(settings: Settings, parsed: crypto.Envelope, now: datetime) -> datetime:
    raw = parsed.header["expires_at"]
    if raw is None:
        return now + timedelta(days=settings.message_default_days)
    requested = parse_time(raw, "expires_at")
    if requested <= now:
        raise Rejected("expires_at is in the past", check="expired")
    if requested > now + timedelta(days=settings.message_max_days) + CLOCK_SKEW:
        raise Rejected(
            f"expires_at is more than {settings.message_max_days} days away",
            check="expiry-too-late",
        )
    return requested


def _check_receipt(session: Session, sender_id: str, parsed: crypto.Envelope) -> None:
    """A receipt may only go to people of a thread in which the sender has a copy."""
    statement = (
        select(Delivery.recipient_id)
        .join(Envelope, Envelope.id == Delivery.envelope_id)
        .where(Envelope.thread_id == parsed.header["thread"])
    )
    in_thread = set(session.scalars(statement))
    if sender_id not in in_thread or not set(parsed.recipients) <= in_thread:
        raise Rejected("a receipt must answer a message of the same thread", check="bad-receipt")


def _check_blobs(session: Session, sender_id: str, blob_ids: tuple[str, ...]) -> list[str]:
    usable = []
    for blob_id in blob_ids:
        blob = session.get(Blob, blob_id) if UUID.match(blob_id) else None
        if blob is None or not may_download(session, sender_id, blob):
            raise Rejected(f"no blob {blob_id} you may attach", check="unknown-blob")
        usable.append(blob.id)
    return usable


@dataclass(frozen=True)
class Accepted:
    """An envelope the relay holds: new (``created``) or the same bytes posted again."""

    id: str
    received_at: datetime
    expires_at: datetime
    created: bool
    counted: int | None = None  # the rate-limit count the store returned (see ``counter``)


def accept_envelope(
    session: Session,
    settings: Settings,
    sender_id: str,
    submission: Submission,
    *,
    found: Lookup | None = None,
    now: datetime | None = None,
    counter: dict[str, Any] | None = None,
) -> Accepted:
    """Run every check and store the envelope of ``sender_id`` (the authenticated person);
    says whether it is new, when it was received and when it expires. ``found`` is this
    envelope's ``look_up`` if the caller already ran it (to check a bearer token in the same
    statement). ``counter``: a rate limiter's bind parameters, counted in the statement that
    stores the envelope where the database allows (then ``Accepted.counted`` is the count).

    The same id with identical bytes again is an idempotent success (``False``); with other
    bytes it is a conflict.
    """
    now = now or utcnow()
    parsed = submission.envelope
    header = parsed.header
    if header["sender"] != sender_id:
        raise Forbidden("the header names another sender than you", check="wrong-sender")
    if found is None:
        found = look_up(session, parsed)
    if found.id_taken:
        existing = session.get(Envelope, parsed.id)
        if existing is not None:
            if existing.sender_id == sender_id and _same_bytes(existing, parsed):
                return Accepted(existing.id, existing.received_at, existing.expires_at, False)
            raise Conflict("this message id is already used by other bytes", check="id-conflict")
    _check_recipients(parsed, found)
    sender_key = _sender_key(found, sender_id)
    if sender_key is None:
        raise Rejected("publish your key before sending", check="stale-sender-key")
    try:
        crypto.check_envelope(
            parsed,
            sender_id=sender_id,
            sender_key=sender_key,
            current_key_ids=found.key_ids,
        )
    except crypto.CryptoError as error:
        raise _refusal(error) from None
    if not found.org_exists:
        raise Rejected(
            "to_org is not an organisation of the directory", check="unknown-organisation"
        )
    if header["kind"] == "receipt":
        _check_receipt(session, sender_id, parsed)
    expires_at = _expiry(settings, parsed, now)
    blob_ids = _check_blobs(session, sender_id, submission.blob_ids)
    if submission.referral is not None:  # only kind referral (parse_submission made sure)
        sender = session.get_one(User, sender_id)  # no query on the cookie path (loaded)
        record_referral(session, settings, sender, header, submission.referral, now=now)
    row = {  # every column of the envelope table (a plain row: no ORM object to build)
        "id": parsed.id,
        "sender_id": sender_id,
        "sender_key": header["sender_key"],
        "thread_id": header["thread"],
        "kind": header["kind"],
        "to_org_id": header["to_org"],
        "header": parsed.header_bytes,
        "nonce": parsed.nonce,
        "ciphertext": parsed.ciphertext,
        "wraps": _wire_wraps(parsed),
        "sig": parsed.sig,
        "size": len(parsed.header_bytes) + len(parsed.ciphertext),
        "created_at": parse_time(header["created_at"], "created_at"),
        "received_at": now,
        "expires_at": expires_at,
    }
    copies = [Copy(wrap.to, wrap.key_id, wrap.to == sender_id) for wrap in parsed.wraps]
    receipt = header["kind"] == "receipt"
    counted = store(
        session.connection(), row, copies, blob_ids, now=now, receipt=receipt, counter=counter
    )
    return Accepted(parsed.id, now, expires_at, created=True, counted=counted)
