"""What the relay answers, as typed, immutable result objects.

Each is built from the relay's JSON by ``from_json``, which takes the fields the relay API
documents (``docs/relay-api.md``) and keeps the whole answer in ``raw`` for anything newer.
A malformed answer raises ``ApiError`` with check ``bad-answer``, never ``KeyError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from liaison_client.errors import ApiError

__all__ = [
    "Grant",
    "Me",
    "MessageInfo",
    "MessagePage",
    "MessageStatus",
    "OrganisationRef",
    "Posted",
    "Published",
    "RecipientStatus",
    "Referral",
    "ReferralEvent",
    "StoredBackup",
    "StoredBlob",
    "UserRef",
]


def _object(data: object, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ApiError(200, "bad-answer", f"the relay's {what} is not a JSON object")
    return data


def _str(data: Mapping[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise ApiError(200, "bad-answer", f"the relay's {what} has no {key}")
    return value


def _opt_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    return list(value) if isinstance(value, list) else []


@dataclass(frozen=True)
class UserRef:
    """A person as the relay names them."""

    id: str
    email: str | None = None
    display_name: str | None = None

    @classmethod
    def from_json(cls, data: object) -> UserRef:
        found = _object(data, "user")
        return cls(
            _str(found, "id", "user"), _opt_str(found, "email"), _opt_str(found, "display_name")
        )


@dataclass(frozen=True)
class Grant:
    """A bearer token from signing in (``POST /auth/token``)."""

    token: str
    expires_at: str | None
    user: UserRef
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: object) -> Grant:
        found = _object(data, "token answer")
        return cls(
            _str(found, "token", "token answer"),
            _opt_str(found, "expires_at"),
            UserRef.from_json(found.get("user")),
            found,
        )


@dataclass(frozen=True)
class Me:
    """Who the token belongs to, their current key and stored backup (``GET /keys/me``)."""

    user_id: str
    email: str | None
    display_name: str | None
    current: Mapping[str, Any] | None  # the current key as the key directory serves it
    backup_version: int | None

    @property
    def current_key_id(self) -> str | None:
        """The id of the current key, if there is one."""
        key_id = (self.current or {}).get("key_id")
        return key_id if isinstance(key_id, str) else None

    @classmethod
    def from_json(cls, data: object) -> Me:
        found = _object(data, "keys/me answer")
        current = found.get("current")
        version = found.get("backup_version")
        return cls(
            _str(found, "user", "keys/me answer"),
            _opt_str(found, "email"),
            _opt_str(found, "display_name"),
            current if isinstance(current, Mapping) else None,
            version if isinstance(version, int) else None,
        )


@dataclass(frozen=True)
class Published:
    """A public key as the key directory now holds it (``POST /keys``)."""

    key_id: str
    fingerprint: str | None
    current: bool
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: object) -> Published:
        found = _object(data, "key answer")
        return cls(
            _str(found, "key_id", "key answer"),
            _opt_str(found, "fingerprint"),
            bool(found.get("current", False)),
            found,
        )


@dataclass(frozen=True)
class StoredBackup:
    """The version of the key backup the relay now keeps (``PUT /keys/backup``)."""

    version: int

    @classmethod
    def from_json(cls, data: object) -> StoredBackup:
        version = _object(data, "backup answer").get("version")
        if not isinstance(version, int):
            raise ApiError(200, "bad-answer", "the relay's backup answer has no version")
        return cls(version)


@dataclass(frozen=True)
class Posted:
    """A message the relay stored (``POST /messages``): ``created`` is False for a repeat."""

    id: str
    created: bool
    received_at: str | None
    expires_at: str | None

    @classmethod
    def from_json(cls, data: object) -> Posted:
        found = _object(data, "message answer")
        return cls(
            _str(found, "id", "message answer"),
            bool(found.get("created", False)),
            _opt_str(found, "received_at"),
            _opt_str(found, "expires_at"),
        )


@dataclass(frozen=True)
class RecipientStatus:
    """For the sender: when one recipient's client acknowledged and when they read it."""

    user: str
    acknowledged_at: str | None
    read_at: str | None

    @classmethod
    def from_json(cls, data: object) -> RecipientStatus:
        found = _object(data, "recipient status")
        return cls(
            _str(found, "user", "recipient status"),
            _opt_str(found, "acknowledged_at"),
            _opt_str(found, "read_at"),
        )


@dataclass(frozen=True)
class MessageInfo:
    """One copy of a message: routing metadata, this person's status and the envelope.

    ``envelope`` is None in a listing when it is large: ``Client.message`` fetches it.
    ``recipients`` is filled for the sender of a message fetched one by one.
    """

    id: str
    thread: str
    kind: str
    sender: str
    to: tuple[str, ...]
    to_org: str | None
    created_at: str | None
    received_at: str | None
    expires_at: str | None
    size: int
    box: str
    acknowledged_at: str | None
    read_at: str | None
    envelope: Mapping[str, Any] | None = field(repr=False, compare=False)
    recipients: tuple[RecipientStatus, ...] = ()
    sender_name: str | None = None  # as the relay names the sender (not signed)
    sender_organizations: tuple[str, ...] = ()  # the sender's organisations the reader may see

    @classmethod
    def from_json(cls, data: object) -> MessageInfo:
        found = _object(data, "message")
        envelope = found.get("envelope")
        size = found.get("size")
        return cls(
            id=_str(found, "id", "message"),
            thread=_str(found, "thread", "message"),
            kind=_str(found, "kind", "message"),
            sender=_str(found, "sender", "message"),
            to=tuple(str(who) for who in _list(found, "to")),
            to_org=_opt_str(found, "to_org"),
            created_at=_opt_str(found, "created_at"),
            received_at=_opt_str(found, "received_at"),
            expires_at=_opt_str(found, "expires_at"),
            size=size if isinstance(size, int) else 0,
            box=_opt_str(found, "box") or "inbox",
            acknowledged_at=_opt_str(found, "acknowledged_at"),
            read_at=_opt_str(found, "read_at"),
            envelope=envelope if isinstance(envelope, Mapping) else None,
            recipients=tuple(RecipientStatus.from_json(r) for r in _list(found, "recipients")),
            sender_name=_opt_str(found, "sender_name"),
            sender_organizations=tuple(str(o) for o in _list(found, "sender_organizations")),
        )


@dataclass(frozen=True)
class MessagePage:
    """One page of a box, newest first, and the cursor of the next (None: the last page)."""

    messages: tuple[MessageInfo, ...]
    next: str | None

    @classmethod
    def from_json(cls, data: object) -> MessagePage:
        found = _object(data, "message list")
        return cls(
            tuple(MessageInfo.from_json(m) for m in _list(found, "messages")),
            _opt_str(found, "next"),
        )


@dataclass(frozen=True)
class MessageStatus:
    """This person's own status of a copy, after ``ack`` or ``mark_read``."""

    id: str
    acknowledged_at: str | None
    read_at: str | None

    @classmethod
    def from_json(cls, data: object) -> MessageStatus:
        found = _object(data, "status answer")
        return cls(
            _str(found, "id", "status answer"),
            _opt_str(found, "acknowledged_at"),
            _opt_str(found, "read_at"),
        )


@dataclass(frozen=True)
class OrganisationRef:
    """An organisation as a referral names it."""

    id: str
    name: str
    country: str | None

    @classmethod
    def from_json(cls, data: object) -> OrganisationRef | None:
        if data is None:
            return None
        found = _object(data, "organisation")
        return cls(
            _str(found, "id", "organisation"),
            _opt_str(found, "name") or "",
            _opt_str(found, "country"),
        )


@dataclass(frozen=True)
class ReferralEvent:
    """One step of a referral's history."""

    at: str
    event: str
    from_status: str | None
    to_status: str | None
    actor: str | None

    @classmethod
    def from_json(cls, data: object) -> ReferralEvent:
        found = _object(data, "referral event")
        return cls(
            _str(found, "at", "referral event"),
            _str(found, "event", "referral event"),
            _opt_str(found, "from_status"),
            _opt_str(found, "to_status"),
            _opt_str(found, "actor"),
        )


@dataclass(frozen=True)
class Referral:
    """A referral's metadata and status (its form travels encrypted in the message)."""

    id: str
    thread: str | None
    status: str
    urgency: str
    from_org: OrganisationRef | None
    to_org: OrganisationRef | None
    redirected_to: OrganisationRef | None
    sent_at: str | None
    ack_due_at: str | None
    acknowledged_at: str | None
    accepted_at: str | None
    decided_at: str | None
    closed_at: str | None
    overdue: bool
    events: tuple[ReferralEvent, ...] = ()

    @classmethod
    def from_json(cls, data: object) -> Referral:
        found = _object(data, "referral")
        return cls(
            id=_str(found, "id", "referral"),
            thread=_opt_str(found, "thread"),
            status=_str(found, "status", "referral"),
            urgency=_opt_str(found, "urgency") or "normal",
            from_org=OrganisationRef.from_json(found.get("from_org")),
            to_org=OrganisationRef.from_json(found.get("to_org")),
            redirected_to=OrganisationRef.from_json(found.get("redirected_to")),
            sent_at=_opt_str(found, "sent_at"),
            ack_due_at=_opt_str(found, "ack_due_at"),
            acknowledged_at=_opt_str(found, "acknowledged_at"),
            accepted_at=_opt_str(found, "accepted_at"),
            decided_at=_opt_str(found, "decided_at"),
            closed_at=_opt_str(found, "closed_at"),
            overdue=bool(found.get("overdue", False)),
            events=tuple(ReferralEvent.from_json(e) for e in _list(found, "events")),
        )


@dataclass(frozen=True)
class StoredBlob:
    """An uploaded attachment blob (``POST /blobs``)."""

    id: str
    size: int

    @classmethod
    def from_json(cls, data: object) -> StoredBlob:
        found = _object(data, "blob answer")
        size = found.get("size")
        return cls(_str(found, "id", "blob answer"), size if isinstance(size, int) else 0)
