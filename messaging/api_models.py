"""The relay API's request and response models (the one source of their OpenAPI schemas).

Byte strings are base64url without padding (spec §1); their patterns pin the length and the
zero bits of the last character, so a value that matches decodes to exactly that many bytes.
Times are UTC ``YYYY-MM-DDTHH:MM:SSZ``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from core.api_schema import TEXT_PATTERN, ApiModel
from messaging.services.inbox import BOXES, MAX_PAGE
from messaging.services.referrals import STATUSES
from messaging.services.relay import MAX_BLOBS
from messaging.services.service_levels import URGENCIES

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
TIME_PATTERN = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$"
)

Id = Annotated[str, Field(pattern=UUID_PATTERN, description="A lowercase UUID")]
Time = Annotated[str, Field(description="UTC time, YYYY-MM-DDTHH:MM:SSZ")]
TimeIn = Annotated[str, Field(pattern=TIME_PATTERN, description="UTC time, YYYY-MM-DDTHH:MM:SSZ")]
B64 = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]*$", description="base64url, no padding")]
KeyId = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9_-]{21}[AQgw]$", description="base64url of 16 bytes")
]
B64_32 = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$", description="32 bytes")
]
B64_64 = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{85}[AQgw]$", description="64 bytes")]
B64_24 = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{32}$", description="24 bytes")]
B64_48 = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{64}$", description="48 bytes")]
B64_16 = KeyId

CLAMPED = f"At most this many (at least 1; more than {MAX_PAGE} counts as {MAX_PAGE})"
ID_PARAM = {"type": "string", "pattern": UUID_PATTERN}
TEXT_PARAM = {"type": "string", "minLength": 1, "pattern": TEXT_PATTERN}
KEY_ID_PARAM = {"type": "string", "pattern": r"^[A-Za-z0-9_-]{21}[AQgw]$"}


class Out(BaseModel):
    """Base of response models (clients should ignore fields they do not know)."""

    model_config = ConfigDict(extra="allow")


# --- keys ----------------------------------------------------------------------------------------


class KeyPublication(ApiModel):
    """A new identity key with its self-signature (pub_sig over the other fields, spec §2)."""

    key_id: KeyId
    sign_pk: B64_32
    box_pk: B64_32
    created_at: TimeIn
    pub_sig: B64_64


class KeyRevocation(ApiModel):
    """A revocation signed by the key itself."""

    at: TimeIn
    sig: B64_64


class Attestation(Out):
    valid_until: str
    sig: str
    root_pk: str


class PublicKey(Out):
    """One identity key as the key directory tells it."""

    user: str
    key_id: str
    sign_pk: str
    box_pk: str
    created_at: str
    pub_sig: str
    fingerprint: str
    current: bool
    revoked_at: Time | None
    attestation: Attestation | None


class Me(Out):
    user: str
    email: str
    display_name: str
    current: PublicKey | None
    backup_version: int | None


class PersonKeys(Out):
    user: str
    display_name: str
    current: PublicKey | None
    keys: list[PublicKey]


class Recipient(Out):
    user: str
    display_name: str
    key: PublicKey | None


class OrganisationRecipients(Out):
    organization: str
    name: str
    recipients: list[Recipient]


class SignedHead(Out):
    seq: int
    head: str
    sig: str | None


class KeyLogEntry(Out):
    seq: int
    entry: str
    signed_head: SignedHead


class KeyLogPage(Out):
    log_pk: str
    entries: list[KeyLogEntry]
    head: SignedHead


class KeyLogHead(Out):
    log_pk: str
    head: SignedHead


class KeyLogQuery(ApiModel):
    since: int = Field(0, ge=0, description="Entries with a higher seq (none past the last)")
    limit: int = Field(
        1000, ge=0, description="At most this many entries (at least 1, at most 1000)"
    )


class EmailQuery(ApiModel):
    email: str = Field(
        min_length=3, max_length=254, pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+$"
    )


class BackupProtection(BaseModel):
    alg: Literal["argon2id13"]
    ops: int
    mem: int
    salt: B64_16
    nonce: B64_24
    wrapped: B64_48


class BackupRecovery(BaseModel):
    nonce: B64_24
    wrapped: B64_48


class KeyBackup(BaseModel):
    """The encrypted key bundle (spec §5), stored and returned byte for byte."""

    model_config = ConfigDict(extra="allow")

    v: Literal[1]
    user: Id
    version: int = Field(ge=1)
    nonce: B64_24
    ciphertext: B64
    pass_: BackupProtection = Field(alias="pass")
    recovery: BackupRecovery


class BackupVersion(Out):
    version: int


# --- messages ------------------------------------------------------------------------------------


class Wrap(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Id
    key_id: KeyId
    box: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{107}[AEIMQUYcgkosw048]$")]


class Envelope(BaseModel):
    """Envelope v1 (spec §3). Its checks (padding, header, signature) are the relay's strict
    parser's; this model describes its form."""

    model_config = ConfigDict(extra="forbid")

    v: Literal[1]
    header: B64
    nonce: B64_24
    ciphertext: B64
    wraps: list[Wrap] = Field(min_length=1)
    sig: B64_64


class ReferralPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    urgency: Literal[URGENCIES]  # type: ignore[valid-type]
    from_org: Id | None = None


class Submission(BaseModel):
    """An envelope with the blobs its body names and, for a referral, its plaintext part."""

    model_config = ConfigDict(extra="forbid")

    envelope: Envelope
    blobs: list[Id] = Field(default_factory=list, max_length=MAX_BLOBS)
    referral: ReferralPart | None = None


class MessagePost(RootModel[Envelope | Submission]):
    """A bare envelope, or an envelope with its blobs and referral part."""


class Posted(Out):
    id: str
    created: bool
    received_at: Time
    expires_at: Time


class RecipientStatus(Out):
    user: str
    acknowledged_at: Time | None
    read_at: Time | None


class Message(Out):
    """A copy: routing metadata, your own status and the envelope (null in a listing when it is
    larger than 256 KiB: fetch it on its own)."""

    id: str
    thread: str
    kind: str
    sender: str
    to: list[str]
    to_org: str | None
    created_at: Time
    received_at: Time
    expires_at: Time
    size: int
    box: Literal[BOXES]  # type: ignore[valid-type]
    acknowledged_at: Time | None
    read_at: Time | None
    envelope: dict[str, Any] | None
    recipients: list[RecipientStatus] | None = Field(
        None, description="Only for the sender: each recipient's acknowledged and read times"
    )


class MessagePage(Out):
    messages: list[Message]
    next: str | None = Field(description="The cursor of the next page, null on the last")


class MessagesQuery(ApiModel):
    box: Literal[BOXES] = "inbox"  # type: ignore[valid-type]
    cursor: str | None = Field(
        None, pattern=TEXT_PATTERN, description="`next` of the previous page (opaque)"
    )
    limit: int = Field(50, ge=0, description=CLAMPED)
    unacknowledged: bool = Field(False, description="Only copies not yet acknowledged")


class MessageStatus(Out):
    id: str
    acknowledged_at: Time | None
    read_at: Time | None


class ThreadSummary(Out):
    thread: str
    latest_at: Time
    messages: int
    unread: int


class Threads(Out):
    threads: list[ThreadSummary]


class ThreadsQuery(ApiModel):
    limit: int = Field(50, ge=0, description=CLAMPED)


class ThreadMessages(Out):
    thread: str
    messages: list[Message]


class BlobQuery(ApiModel):
    id: Id = Field(description="The id the attachment was sealed with")


class BlobStored(Out):
    id: str
    size: int


# --- referrals -----------------------------------------------------------------------------------


class OrganisationRef(Out):
    id: str
    name: str
    country: str


class Referral(Out):
    id: str
    thread: str
    status: Literal[STATUSES]  # type: ignore[valid-type]
    urgency: str
    from_org: OrganisationRef | None
    to_org: OrganisationRef | None
    sent_at: Time | None
    ack_due_at: Time | None
    acknowledged_at: Time | None
    accepted_at: Time | None
    decided_at: Time | None
    closed_at: Time | None
    overdue: bool
    redirected_to: OrganisationRef | None


class ReferralEvent(Out):
    at: Time
    event: str
    from_status: str | None
    to_status: str | None
    actor: str | None


class ReferralWithHistory(Referral):
    events: list[ReferralEvent]


class Referrals(Out):
    referrals: list[Referral]


class ReferralsQuery(ApiModel):
    box: Literal["incoming", "outgoing"] = "incoming"
    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]


class StatusChange(ApiModel):
    """sent → acknowledged → accepted | declined | closed (see Redirection for redirected)."""

    status: Literal[tuple(s for s in STATUSES if s != "redirected")]  # type: ignore[misc,valid-type]


class Redirection(ApiModel):
    """The receiving organisation sends the referral on to another organisation."""

    status: Literal["redirected"]
    redirect_to: Id = Field(description="The organisation it goes to")


class StatusChangeBody(RootModel[StatusChange | Redirection]):
    """A status change; only ``redirected`` names an organisation (in ``redirect_to``)."""


class UnlockKey(Out):
    """A browser session's unlock key (base64, 32 bytes); see docs/security.md."""

    key: str
