"""The client's work with a relay: publish and unlock keys, look people up with every trust
check (``pub_sig``, the key log extending the remembered head, pinned keys), send, read,
acknowledge, attachments and receipts. Nothing here trusts the server with a plaintext or a key.
"""

from __future__ import annotations

import mimetypes
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from nacl import bindings

from liaison_client.api import ApiError, Client
from liaison_client.blobs import BlobHasher, blob_size, decrypt_to_file, encrypt_stream
from liaison_client.encoding import b64, unb64
from liaison_client.errors import CryptoError, KeyLogError
from liaison_client.identity import Identity, PublicKey
from liaison_client.keylog import SignedHead, parse_signed_head, verify_extension
from liaison_client.keystore import (
    FileKeyStore,
    KeyStore,
    KeyStoreError,
    attested,
    read_public_key,
)
from liaison_client.messages import OpenedMessage, open_message, seal
from liaison_client.referral import FormProblem, check_referral_form, referral_form_problems
from liaison_client.results import (
    Grant,
    Me,
    MessagePage,
    MessageStatus,
    Posted,
    Published,
    RecipientStatus,
    Referral,
)
from liaison_client.retry import OnRetry, RetryPolicy
from liaison_client.session import LocalState


@dataclass(frozen=True)
class Person:
    """Someone to write to: a checked, pinned key and how far it is trusted."""

    user_id: str
    display_name: str
    key: PublicKey
    trust: str


@dataclass(frozen=True)
class OpenedReferral:
    """A decrypted referral: its message, its form when valid, and what is wrong otherwise."""

    message: OpenedMessage
    form: dict[str, Any] | None
    problems: list[FormProblem]


@dataclass(frozen=True)
class Organisation:
    """An organisation resolved to its contact points (those without keys are left out)."""

    organisation_id: str
    name: str
    contact_points: list[Person]
    without_keys: list[str]


class Mailbox:
    """One person's view of a relay: the HTTP client, the local key store and remembered state."""

    def __init__(self, client: Client, store: KeyStore, state: LocalState) -> None:
        self.client = client
        self.store = store
        self.state = state
        self.identities: list[Identity] = []

    @classmethod
    def open(
        cls, home: Path, base_url: str | None = None, *, retry: RetryPolicy | None = None,
        on_retry: OnRetry | None = None,
    ) -> Mailbox:  # fmt: skip
        """The mailbox whose keys and state live under ``home``; ``retry`` is how long requests
        safe to repeat are retried (60 s by default)."""
        state = LocalState.load(home)
        if base_url:
            state.base_url = base_url
        if not state.base_url:
            raise KeyStoreError("not-signed-in", "no relay known yet: run login --url …")
        client = Client(state.base_url, state.token, retry=retry, on_retry=on_retry)
        return cls(client, FileKeyStore(home), state)

    @property
    def user_id(self) -> str:
        """Who this mailbox belongs to."""
        if not self.state.user_id:
            raise KeyStoreError("not-signed-in", "sign in first (liaison-client login)")
        return self.state.user_id

    def login(self, email: str, password: str, totp_code: str) -> Grant:
        """Sign in and remember the token and who it belongs to."""
        grant = self.client.login(email, password, totp_code, label="liaison-client")
        self.state.token = self.client.token
        self.state.user_id = grant.user.id
        self.state.email = grant.user.email or email
        self.state.save()
        return grant

    # Own keys
    def set_up_keys(self, passphrase: str, *, ops: int, mem: int) -> bytes:
        """Generate this person's identity, publish it with its backup; returns the recovery
        key (show it once)."""
        self.ensure_no_other_key()
        recovery_key = self.store.initialise(self.user_id, passphrase, ops=ops, mem=mem)
        self.publish_keys()
        return recovery_key

    def ensure_no_other_key(self, key_id: str | None = None) -> Me:
        """Refuse when the relay already has another current key of this person: publishing
        would make current a key whose secret half the stored backup lacks. Returns /keys/me."""
        me = self.client.me()
        if me.current is not None and me.current_key_id != key_id:
            raise KeyStoreError(
                "keys-exist", "you already have keys on the relay: run keys unlock instead"
            )
        return me

    def publish_keys(self) -> Published:
        """Upload the encrypted backup, then the public key with its ``pub_sig``."""
        bundle = self.store.own_backup()
        document = self.store.own_public_document()
        me = self.ensure_no_other_key(document["key_id"])
        stored = me.backup_version
        if stored is None or stored < int(bundle["version"]):
            self.client.put_backup(bundle)
        return self.client.publish_key({k: v for k, v in document.items() if k != "user_id"})

    def unlock(
        self, *, passphrase: str | None = None, recovery_key: bytes | None = None,
        from_server: bool = False,
    ) -> list[Identity]:  # fmt: skip
        """Open the key backup (the server's copy with ``from_server``) for this session."""
        bundle = self.client.get_backup() if from_server else None
        self.identities = self.store.unlock(
            passphrase=passphrase, recovery_key=recovery_key, bundle=bundle
        )
        return self.identities

    def _me(self) -> Identity:
        if not self.identities:
            raise KeyStoreError("locked", "unlock your keys first")
        return self.identities[0]

    # Other people's keys
    def sync_key_log(self) -> SignedHead:
        """Fetch the key log since the remembered head and check that it extends it."""
        current = self._head()
        answer = self.client.key_log(current.seq if current else 0)
        log_pk = str(answer["log_pk"])
        if self.state.log_pk and self.state.log_pk != log_pk:
            raise KeyLogError("log-key-changed", "the relay's key-log key changed")
        key = unb64(log_pk, 32, "log_pk")
        while True:
            entries = answer["entries"]
            if not entries:
                break
            new_head = parse_signed_head(entries[-1]["signed_head"], key)
            parsed = verify_extension(current, [unb64(e["entry"]) for e in entries], new_head)
            for entry in parsed:
                known = self.state.log_keys.get(entry["key_id"], {})
                if entry["event"] == "publish":
                    self.state.log_keys[entry["key_id"]] = {"user": entry["user"], **known}
                elif entry["event"] == "revoke":
                    self.state.log_keys[entry["key_id"]] = {**known, "revoked": True}
            current = new_head
            answer = self.client.key_log(current.seq)
        latest = answer["head"]
        if current is None:
            if latest["seq"] != 0:
                raise KeyLogError("fork", "the relay sent no entries for a non-empty log")
            return SignedHead(0, bytes(32), bytes(64))
        if latest["seq"] != current.seq or latest["head"] != b64(current.head):
            raise KeyLogError("fork", "the log's head does not extend the remembered one")
        self.state.log_pk, self.state.log_head = log_pk, current.to_json()
        self.state.save()
        return current

    def _head(self) -> SignedHead | None:
        if not self.state.log_head or not self.state.log_pk:
            return None
        return parse_signed_head(self.state.log_head, unb64(self.state.log_pk, 32))

    def _checked_key(self, document: dict[str, Any], user_id: str) -> PublicKey:
        key = read_public_key({**document, "user_id": document.get("user")})
        if key.user_id != user_id:
            raise KeyStoreError("wrong-person", "the relay served another person's key")
        logged = self.state.log_keys.get(key.key_id)
        if logged is None:
            self.sync_key_log()
            logged = self.state.log_keys.get(key.key_id)
        if logged is None or logged.get("user") != user_id:
            raise KeyLogError("not-logged", f"key {key.key_id} is not in the key log")
        return key

    def _trust(self, key: PublicKey, document: dict[str, Any]) -> str:
        root = self.state.root_pk
        if root and attested(key, document.get("attestation"), unb64(root, 32, "root key")):
            return "secretariat"
        return "unverified"

    def _person(self, answer: dict[str, Any], accept_change: bool) -> Person:
        current = answer.get("current")
        if not current:
            raise KeyStoreError("no-key", f"{answer.get('display_name')} has not set up keys yet")
        key = self._checked_key(current, str(answer["user"]))
        pin = self.store.pin(key, trust=self._trust(key, current), accept_change=accept_change)
        return Person(key.user_id, str(answer.get("display_name") or ""), key, pin.trust)

    def person(self, who: str, *, accept_change: bool = False) -> Person:
        """A person (user id or e-mail address) with their current key checked and pinned;
        a key other than the pinned one is refused unless ``accept_change``."""
        answer = self.client.lookup(who) if "@" in who else self.client.keys_of(who)
        return self._person(answer, accept_change)

    def organisation(self, organisation: str, *, accept_change: bool = False) -> Organisation:
        """An organisation (id or ref) resolved to its contact points, each key checked."""
        answer = self.client.recipients(organisation)
        people, without = [], []
        for entry in answer["recipients"]:
            if entry["user"] == self.state.user_id:
                continue  # the sender reads its own copy anyway
            if entry.get("key") is None:
                without.append(str(entry.get("display_name") or entry["user"]))
                continue
            document = {"user": entry["user"], "display_name": entry.get("display_name"),
                        "current": entry["key"]}  # fmt: skip
            people.append(self._person(document, accept_change))
        return Organisation(str(answer["organization"]), str(answer["name"]), people, without)

    # Sending
    def upload_attachment(self, path: Path, mime: str | None = None) -> dict[str, Any]:
        """Encrypt and upload a file, streamed; returns its manifest. Retried like a message,
        each time as a new blob (a new id and key): a blob no message names is purged."""
        return self.client.retry.call(lambda: self._upload(path, mime), self.client.on_retry)

    def _upload(self, path: Path, mime: str | None) -> dict[str, Any]:
        blob_id = str(uuid.uuid4())
        key = bindings.crypto_secretstream_xchacha20poly1305_keygen()
        size = path.stat().st_size
        length = blob_size(size)
        hasher = BlobHasher(length)
        with path.open("rb") as plain:

            def pieces() -> Any:
                for piece in encrypt_stream(plain, blob_id, key):
                    hasher.update(piece)
                    yield piece

            self.client.upload_blob(blob_id, pieces(), length)
        guessed = mime or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return {"blob": blob_id, "name": path.name, "mime": guessed, "size": size,
                "key": b64(key), "hash": b64(hasher.digest())}  # fmt: skip

    def sent_before(self, message_id: str) -> bool:
        """Whether the relay already holds a message of this id that this person sent (so that
        sending it again, after an answer was lost, would be a duplicate)."""
        try:
            answer = self.client.message(message_id)
        except ApiError as error:
            if error.status == 404:
                return False
            raise
        return answer.box == "sent"

    def send(
        self, recipients: Sequence[Person], subject: str, text: str, *,
        tlp: str = "TLP:AMBER", files: Sequence[Path] = (), to_org: str | None = None,
        thread: str | None = None, prev: str | None = None, message_id: str | None = None,
    ) -> Posted:  # fmt: skip
        """Seal a message to checked people (uploading attachments first) and post it."""
        body = {"tlp": tlp, "subject": subject, "body": text, "form": None, "prev": prev}
        return self._seal_and_post(recipients, body, files, to_org=to_org, thread=thread,
                                   message_id=message_id)  # fmt: skip

    def _seal_and_post(
        self, recipients: Sequence[Person], body: dict[str, Any], files: Sequence[Path], *,
        kind: str = "message", to_org: str | None = None, thread: str | None = None,
        message_id: str | None = None, referral: dict[str, Any] | None = None,
    ) -> Posted:  # fmt: skip
        me = self._me()
        manifests = [self.upload_attachment(path) for path in files]
        body = {**body, "attachments": manifests}
        keys = [person.key for person in recipients if person.user_id != me.user_id]
        envelope = seal(me, keys, body, kind=kind, to_org=to_org, thread=thread,
                        message_id=message_id)  # fmt: skip
        blob_ids = [manifest["blob"] for manifest in manifests]
        return self.client.post_message(envelope.to_json(), blob_ids, referral=referral)

    # Referrals
    def send_referral(
        self, organisation: Organisation, form: dict[str, Any], *,
        recipients: Sequence[Person] | None = None, subject: str = "Referral", text: str = "",
        tlp: str = "TLP:AMBER", files: Sequence[Path] = (), from_org: str | None = None,
        today: str | None = None,
    ) -> Posted:  # fmt: skip
        """Send a referral to an organisation's contact points (all, or ``recipients`` among
        them): the checked form travels encrypted, only its urgency goes to the relay."""
        checked = check_referral_form(form, today=today)
        people = list(recipients if recipients is not None else organisation.contact_points)
        if not people:
            raise KeyStoreError("no-recipient", f"{organisation.name} has no contact point "
                                "with keys to receive a referral")  # fmt: skip
        plain: dict[str, Any] = {"urgency": checked["urgency"]}
        if from_org:
            plain["from_org"] = from_org
        body = {"tlp": tlp, "subject": subject, "body": text, "form": checked, "prev": None}
        return self._seal_and_post(people, body, files, kind="referral",
                                   to_org=organisation.organisation_id, referral=plain)  # fmt: skip

    def referrals(self, box: str = "incoming", status: str | None = None) -> list[Referral]:
        """Referrals to this person's organisations (``incoming``) or sent (``outgoing``)."""
        return self.client.referrals(box, status)

    def referral(self, referral_id: str) -> Referral:
        """One referral's status, times and history (metadata: the relay knows no more)."""
        return self.client.referral(referral_id)

    def set_referral_status(
        self, referral_id: str, status: str, redirect_to: str | None = None
    ) -> Referral:
        """Acknowledge, accept, decline, redirect or close a referral."""
        return self.client.set_referral_status(referral_id, status, redirect_to)

    def open_referral(self, referral_id: str, *, accept_change: bool = False) -> OpenedReferral:
        """Decrypt a referral and check its form; a malformed form from a peer is reported
        in ``problems`` (and ``form`` is None) rather than raised."""
        opened = self.read(referral_id, accept_change=accept_change)
        if opened.header["kind"] != "referral":
            raise CryptoError("not-a-referral", "this message is not a referral")
        form = opened.body.get("form")
        problems = referral_form_problems(form)
        return OpenedReferral(opened, None if problems else form, problems)

    # Reading
    def inbox(
        self, cursor: str | None = None, limit: int = 50, *, box: str = "inbox",
        unacknowledged: bool = False,
    ) -> MessagePage:  # fmt: skip
        """One page of messages (metadata only: the server knows nothing more)."""
        return self.client.messages(box, cursor, limit, unacknowledged)

    def _sender_key(self, sender: str, key_id: str, accept_change: bool) -> PublicKey:
        if sender == self.state.user_id:
            own = next((i for i in self.identities if i.key_id == key_id), None)
            if own is not None:
                return own.public()
        pin = self.store.pins().get(sender)
        if pin is not None and pin.key.key_id == key_id:
            return pin.key
        answer = self.client.keys_of(sender)
        document = next((k for k in answer["keys"] if k.get("key_id") == key_id), None)
        if document is None:
            raise KeyStoreError("unknown-key", f"the sender's key {key_id} is not published")
        key = self._checked_key(document, sender)
        if document.get("current"):
            self.store.pin(key, trust=self._trust(key, document), accept_change=accept_change)
        elif pin is None:
            raise KeyStoreError("unknown-key", "the message is signed with a retired key")
        return key

    def read(self, message_id: str, *, accept_change: bool = False) -> OpenedMessage:
        """Fetch, check and decrypt one message; then tell the sender it was read."""
        me = self._me()
        answer = self.client.message(message_id)
        envelope = answer.envelope
        if envelope is None:
            raise CryptoError("malformed", "the relay sent no envelope")
        header = _header(envelope)
        sender_key = self._sender_key(
            str(header["sender"]), str(header["sender_key"]), accept_change
        )
        opened = open_message(envelope, [me, *self.identities[1:]], sender_key)
        if opened.header["id"] != message_id:
            raise CryptoError("wrong-message", "the relay sent another message")
        if answer.box == "inbox" and not answer.read_at:
            self.client.mark_read(message_id)
        if answer.sender == opened.header["sender"] and answer.sender_name:
            opened = replace(
                opened,
                sender_name=answer.sender_name,
                sender_organizations=answer.sender_organizations,
            )
        return opened

    def ack(self, message_id: str) -> MessageStatus:
        """Tell the relay this client has the message."""
        return self.client.ack(message_id)

    def delete(self, message_id: str) -> None:
        """Delete this person's copy."""
        self.client.delete(message_id)

    def receipts(self, message_id: str) -> list[RecipientStatus]:
        """For a message this person sent: who acknowledged and who read it, and when."""
        return list(self.client.message(message_id).recipients)

    def send_receipt(self, opened: OpenedMessage) -> Posted:
        """An encrypted read receipt to the sender, in the message's thread."""
        sender = self.person(str(opened.header["sender"]))
        body = {"receipt_for": opened.header["id"], "hh": b64(opened.hh), "status": "read"}
        envelope = seal(self._me(), [sender.key], body, kind="receipt",
                        thread=str(opened.header["thread"]))  # fmt: skip
        return self.client.post_message(envelope.to_json())

    def fetch_attachment(self, message_id: str, blob_id: str, target: Path) -> int:
        """Download, decrypt and check one attachment of a message into ``target``."""
        opened = self.read(message_id)
        manifest = next(
            (m for m in opened.body.get("attachments", []) if m["blob"] == blob_id), None
        )
        if manifest is None:
            raise CryptoError("unknown-blob", "the message names no such attachment")
        with self.client.download_blob(blob_id) as (stream, length):
            if length < 0:
                raise ApiError(0, "malformed", "the relay sent no length for the attachment")
            return decrypt_to_file(stream, length, manifest, target)


def _header(envelope: Mapping[str, Any]) -> dict[str, Any]:
    from liaison_client.envelope import parse_envelope

    return parse_envelope(envelope).header
