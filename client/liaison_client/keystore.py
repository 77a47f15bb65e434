"""Where a client keeps its keys: the encrypted key backup, the public key with its publication
proof, pinned keys of other people, and the last backup version seen. No secret key is ever
written in clear; unlocking means opening the backup with the passphrase or the recovery key.

``KeyStore`` is the protocol the mailbox needs. ``FileKeyStore`` (the default, what
``liaison-client`` uses) keeps JSON files in a directory; an integrator who keeps keys in its
own database or HSM implements ``KeyStore`` itself, or subclasses ``DocumentKeyStore`` and
provides only ``load`` and ``save`` of a few named JSON documents (``docs/python-client.md``)."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from liaison_client.backup import create_backup, open_with_passphrase, open_with_recovery_key
from liaison_client.encoding import b64, is_time, now, same, unb64
from liaison_client.errors import CryptoError
from liaison_client.identity import (
    Identity,
    PublicKey,
    generate,
    public_key_from_b64,
    verify_attestation,
    verify_publication,
)

TRUST_LEVELS = ("unverified", "secretariat", "in-person")


class KeyStoreError(CryptoError):
    """The local key files are missing, inconsistent, or a pinned key changed."""

    kind = "key-store"


def default_home() -> Path:
    """``$LIAISONCLIENT_HOME``, else ``$XDG_CONFIG_HOME/liaison-client`` (``~/.config``).

    Not a ``LIAISON_*`` name: the server refuses unknown ``LIAISON_*`` variables, and a client
    is often run from the same shell as a server."""
    if os.environ.get("LIAISONCLIENT_HOME"):
        return Path(os.environ["LIAISONCLIENT_HOME"])
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "liaison-client"


def public_key_document(identity: Identity) -> dict[str, str]:
    """The public key as published: ids, keys, creation time and ``pub_sig``."""
    return {
        "user_id": identity.user_id, "key_id": identity.key_id, "sign_pk": b64(identity.sign_pk),
        "box_pk": b64(identity.box_pk), "created_at": identity.created_at,
        "pub_sig": b64(identity.publication_signature()),
    }  # fmt: skip


def read_public_key(document: object) -> PublicKey:
    """A published key document, accepted only with a valid ``pub_sig`` and matching key id."""
    if not isinstance(document, dict):
        raise KeyStoreError("malformed", "a public key is a JSON object")
    try:
        key = public_key_from_b64(
            str(document.get("user_id") or document.get("id")), document["sign_pk"],
            document["box_pk"], document["created_at"],
        )  # fmt: skip
        pub_sig = unb64(document["pub_sig"], 64, "pub_sig")
    except KeyError as error:
        raise KeyStoreError("malformed", f"a public key needs {error}") from error
    if "key_id" in document and document["key_id"] != key.key_id:
        raise KeyStoreError("malformed", "key_id does not match the keys")
    if not verify_publication(key, pub_sig):
        raise KeyStoreError("bad-signature", "pub_sig does not verify: not this person's key")
    return key


@dataclass(frozen=True)
class Pin:
    """A key of another person this client has seen, and how far it is trusted."""

    key: PublicKey
    trust: str
    pinned_at: str


@runtime_checkable
class KeyStore(Protocol):
    """What a mailbox needs of a key store (see ``FileKeyStore`` for the default)."""

    def has_keys(self) -> bool:
        """Whether a key backup exists."""
        ...

    def initialise(self, user_id: str, passphrase: str, *, ops: int, mem: int) -> bytes:
        """Create an identity and its backup; return the recovery key (shown once)."""
        ...

    def unlock(
        self, *, passphrase: str | None = None, recovery_key: bytes | None = None,
        bundle: object = None,
    ) -> list[Identity]:  # fmt: skip
        """Open the backup (or a bundle brought from elsewhere) and return the identities."""
        ...

    def own_backup(self) -> dict[str, Any]:
        """The encrypted key backup bundle (what is uploaded to the relay)."""
        ...

    def own_public_key(self) -> PublicKey:
        """This client's current public key."""
        ...

    def own_public_document(self) -> dict[str, str]:
        """The publishable form of this client's current key."""
        ...

    def pins(self) -> dict[str, Pin]:
        """Every pinned key, by user id."""
        ...

    def pin(self, key: PublicKey, *, trust: str, accept_change: bool = False) -> Pin:
        """Remember a key for its person; a changed key needs ``accept_change``."""
        ...


class DocumentKeyStore:
    """A key store over a few named JSON documents; subclasses say where they live.

    The documents: ``backup.json`` (the encrypted key backup), ``public.json`` (the public key
    document), ``pins.json`` (other people's keys) and ``state.json`` (the last backup version
    seen). Each ``save`` must replace a document atomically.
    """

    where = "the key store"

    def load(self, name: str) -> Any:
        """The document ``name``, or None when there is none."""
        raise NotImplementedError

    def save(self, name: str, value: object) -> None:
        """Replace the document ``name`` atomically."""
        raise NotImplementedError

    def _read(self, name: str, default: Any = None) -> Any:
        value = self.load(name)
        return default if value is None else value

    def _write(self, name: str, value: object) -> None:
        self.save(name, value)

    def has_keys(self) -> bool:
        """Whether a key backup exists here."""
        return self.load("backup.json") is not None

    def initialise(self, user_id: str, passphrase: str, *, ops: int, mem: int) -> bytes:
        """Generate an identity, store its encrypted backup and public key; return the
        recovery key (to show once)."""
        if self.has_keys():
            raise KeyStoreError("exists", f"keys already exist in {self.where}")
        identity = generate(user_id)
        bundle, recovery_key = create_backup([identity], passphrase, 1, ops=ops, mem=mem)
        self._write("backup.json", bundle)
        self._write("public.json", public_key_document(identity))
        self._write("state.json", {"backup_version": 1})
        return recovery_key

    def unlock(
        self, *, passphrase: str | None = None, recovery_key: bytes | None = None,
        bundle: object = None,
    ) -> list[Identity]:  # fmt: skip
        """Open the local backup (or a bundle brought from elsewhere, which then replaces it)
        with the passphrase or the recovery key; refuses a version older than one seen."""
        state = self._read("state.json", {"backup_version": 0})
        candidate = bundle if bundle is not None else self._read("backup.json")
        if candidate is None:
            raise KeyStoreError("no-keys", f"no key backup in {self.where}: run keys init")
        last = int(state.get("backup_version", 0))
        if passphrase is not None:
            keys = open_with_passphrase(candidate, passphrase, last)
        elif recovery_key is not None:
            keys = open_with_recovery_key(candidate, recovery_key, last)
        else:
            raise KeyStoreError("no-secret", "a passphrase or a recovery key is needed")
        assert isinstance(candidate, dict)  # the backup checks made sure
        if bundle is not None:
            self._write("backup.json", candidate)
            self._write("public.json", public_key_document(keys[0]))
        self._write("state.json", {**state, "backup_version": candidate["version"]})
        return keys

    def own_backup(self) -> dict[str, Any]:
        """The encrypted key backup bundle kept here (what is uploaded to the relay)."""
        bundle = self._read("backup.json")
        if not isinstance(bundle, dict):
            raise KeyStoreError("no-keys", f"no key backup in {self.where}: run keys init")
        return bundle

    def own_public_key(self) -> PublicKey:
        """This client's current public key."""
        document = self._read("public.json")
        if document is None:
            raise KeyStoreError("no-keys", f"no keys in {self.where}: run keys init")
        return read_public_key(document)

    def own_public_document(self) -> dict[str, str]:
        """The publishable form of this client's current key."""
        self.own_public_key()
        return dict(self._read("public.json"))

    def pins(self) -> dict[str, Pin]:
        """Every pinned key, by user id."""
        raw = self._read("pins.json", {})
        return {
            user: Pin(
                public_key_from_b64(user, p["sign_pk"], p["box_pk"], p["created_at"]),
                p["trust"], p["pinned_at"],
            )
            for user, p in raw.items()
        }  # fmt: skip

    def pin(self, key: PublicKey, *, trust: str, accept_change: bool = False) -> Pin:
        """Remember ``key`` for its person. A different key than the one pinned is refused
        unless the change is acknowledged; trust never silently drops."""
        if trust not in TRUST_LEVELS:
            raise KeyStoreError("malformed", f"trust is one of {', '.join(TRUST_LEVELS)}")
        pins = self.pins()
        previous = pins.get(key.user_id)
        changed = previous is not None and previous.key.key_id != key.key_id
        if previous is not None and changed and not accept_change:
            raise KeyStoreError(
                "key-changed",
                f"{key.user_id} now has key {key.key_id}, pinned was {previous.key.key_id}",
            )
        if previous is not None and not changed:
            order = TRUST_LEVELS.index
            trust = max(trust, previous.trust, key=order)
        pins[key.user_id] = Pin(key, trust, now())
        self._write("pins.json", {
            user: {"key_id": p.key.key_id, "sign_pk": b64(p.key.sign_pk),
                   "box_pk": b64(p.key.box_pk), "created_at": p.key.created_at,
                   "trust": p.trust, "pinned_at": p.pinned_at}
            for user, p in pins.items()
        })  # fmt: skip
        return pins[key.user_id]


class FileKeyStore(DocumentKeyStore):
    """The documents as files under one client home directory (mode 0700, files 0600)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.where = str(home)

    def load(self, name: str) -> Any:
        path = self.home / name
        if not path.exists():
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    def save(self, name: str, value: object) -> None:
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.home, prefix=f".{name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(value, out, indent=2, ensure_ascii=False)
        os.chmod(temporary, 0o600)
        os.replace(temporary, self.home / name)


def attested(key: PublicKey, attestation: object, root_pk: bytes, at: str | None = None) -> bool:
    """Whether a served attestation (``valid_until``, ``sig``) verifies with the root key this
    client is configured with (never the one the server serves) and has not expired."""
    if not isinstance(attestation, dict):
        return False
    valid_until, signature = attestation.get("valid_until"), attestation.get("sig")
    if not is_time(valid_until) or not isinstance(signature, str):
        return False
    try:
        sig = unb64(signature, 64, "attestation sig")
    except CryptoError:
        return False
    return str(valid_until) > (at or now()) and verify_attestation(
        root_pk, key, str(valid_until), sig
    )


def fingerprints_match(expected: str, actual: str) -> bool:
    """Compare fingerprints as read aloud (spaces ignored), in constant time."""
    return same("".join(expected.split()).encode(), "".join(actual.split()).encode())
