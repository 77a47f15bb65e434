"""Identity keys (§2): generation, key id, publication proof, fingerprints, safety numbers,
attestations by the secretariat and revocations."""

from __future__ import annotations

from dataclasses import dataclass

from nacl import bindings

from liaison_client.encoding import H, b64, is_time, is_uuid, now, sign, unb64, verify
from liaison_client.errors import CryptoError


@dataclass(frozen=True)
class PublicKey:
    """One published key of a person: what the key directory serves and clients pin."""

    user_id: str
    sign_pk: bytes
    box_pk: bytes
    created_at: str

    @property
    def key_id(self) -> str:
        """The key id derived from both public keys."""
        return key_id(self.sign_pk, self.box_pk)

    @property
    def fingerprint(self) -> str:
        """Six groups of five digits, to compare in person."""
        return fingerprint(self.sign_pk, self.box_pk)


@dataclass(frozen=True)
class Identity:
    """A person's identity with its secret halves; exists in clear only inside a client."""

    user_id: str
    sign_sk: bytes
    box_sk: bytes
    created_at: str

    @property
    def sign_pk(self) -> bytes:
        """The Ed25519 public key (the second half of libsodium's 64-byte secret key)."""
        return self.sign_sk[32:]

    @property
    def box_pk(self) -> bytes:
        """The X25519 public key derived from the secret key."""
        return bindings.crypto_scalarmult_base(self.box_sk)

    @property
    def key_id(self) -> str:
        """The key id derived from both public keys."""
        return key_id(self.sign_pk, self.box_pk)

    def public(self) -> PublicKey:
        """The public half, as published."""
        return PublicKey(self.user_id, self.sign_pk, self.box_pk, self.created_at)

    def publication_signature(self) -> bytes:
        """``pub_sig``: the proof the server requires before accepting this public identity."""
        return sign(
            self.sign_sk, "liaison/v1/publish", self.user_id, self.key_id, self.box_pk,
            self.created_at,
        )  # fmt: skip


def generate(user_id: str, created_at: str | None = None) -> Identity:
    """A fresh identity: two independent key pairs."""
    if not is_uuid(user_id):
        raise CryptoError("malformed", "user id must be a lowercase UUID")
    _sign_pk, sign_sk = bindings.crypto_sign_keypair()
    _box_pk, box_sk = bindings.crypto_box_keypair()
    return Identity(user_id, sign_sk, box_sk, created_at or now())


def signing_keypair() -> tuple[bytes, bytes]:
    """A bare Ed25519 pair (sign_pk, sign_sk) for the key log and the secretariat's root key."""
    sign_pk, sign_sk = bindings.crypto_sign_keypair()
    return sign_pk, sign_sk


def signing_keypair_from_seed(seed: bytes) -> tuple[bytes, bytes]:
    """The Ed25519 (sign_sk, sign_pk) of a stored 32-byte seed."""
    if len(seed) != 32:
        raise CryptoError("malformed", "a signing seed is 32 bytes")
    sign_pk, sign_sk = bindings.crypto_sign_seed_keypair(seed)
    return sign_sk, sign_pk


def identity_from_secrets(
    user_id: str, sign_sk: bytes, box_sk: bytes, created_at: str, expected_key_id: str | None = None
) -> Identity:
    """Rebuild an identity from stored secret keys, checking they are whole and consistent."""
    if len(sign_sk) != 64 or len(box_sk) != 32 or not is_time(created_at):
        raise CryptoError("malformed", "secret keys have the wrong size")
    seed_pk, _ = bindings.crypto_sign_seed_keypair(sign_sk[:32])
    if seed_pk != sign_sk[32:]:
        raise CryptoError("malformed", "signing secret key does not match its public half")
    identity = Identity(user_id, sign_sk, box_sk, created_at)
    if expected_key_id is not None and identity.key_id != expected_key_id:
        raise CryptoError("key-mismatch", "secret keys do not belong to the stated key id")
    return identity


def key_id(sign_pk: bytes, box_pk: bytes) -> str:
    """``b64(H("liaison/v1/key-id", sign_pk, box_pk)[0:16])``."""
    return b64(H("liaison/v1/key-id", sign_pk, box_pk)[:16])


def verify_publication(key: PublicKey, pub_sig: bytes) -> bool:
    """Whether ``pub_sig`` is the key's own publication proof."""
    return verify(
        key.sign_pk, pub_sig, "liaison/v1/publish", key.user_id, key.key_id, key.box_pk,
        key.created_at,
    )  # fmt: skip


def _digit_groups(digest: bytes) -> str:
    """Six groups of five digits: group i = int_be(f[5i:5i+5]) mod 100000."""
    groups = (int.from_bytes(digest[5 * i : 5 * i + 5], "big") % 100000 for i in range(6))
    return " ".join(f"{group:05d}" for group in groups)


def fingerprint(sign_pk: bytes, box_pk: bytes) -> str:
    """A person's fingerprint (spec §2), six groups of five digits."""
    return _digit_groups(H("liaison/v1/fingerprint", sign_pk, box_pk))


def key_fingerprint(public_key: bytes) -> str:
    """The fingerprint of one standalone key (the secretariat's root key, the key-log key).

    Not part of the envelope spec: it only lets a person compare a configured key with the
    one the About page shows, digit group by digit group.
    """
    return _digit_groups(H("liaison/v1/key-fingerprint", public_key))


def safety_number(fingerprint_a: str, fingerprint_b: str) -> str:
    """The two fingerprints sorted as strings and joined: 60 digits in twelve groups."""
    return " ".join(sorted([fingerprint_a, fingerprint_b]))


def attest(root_sk: bytes, key: PublicKey, valid_until: str) -> bytes:
    """The secretariat's attestation that ``key`` belongs to ``key.user_id`` until a time."""
    return sign(
        root_sk, "liaison/v1/attest", key.user_id, key.key_id, key.sign_pk, key.box_pk,
        valid_until,
    )  # fmt: skip


def verify_attestation(root_pk: bytes, key: PublicKey, valid_until: str, attest_sig: bytes) -> bool:
    """Whether the root key attested this key (expiry is the caller's to compare with now)."""
    return verify(
        root_pk, attest_sig, "liaison/v1/attest", key.user_id, key.key_id, key.sign_pk,
        key.box_pk, valid_until,
    )  # fmt: skip


def revoke(identity: Identity, at: str) -> bytes:
    """The key's own revocation signature."""
    return sign(identity.sign_sk, "liaison/v1/revoke", identity.user_id, identity.key_id, at)


def verify_revocation(key: PublicKey, at: str, signature: bytes) -> bool:
    """Whether the key revoked itself at ``at``."""
    return verify(key.sign_pk, signature, "liaison/v1/revoke", key.user_id, key.key_id, at)


def public_key_from_b64(user_id: str, sign_pk: str, box_pk: str, created_at: str) -> PublicKey:
    """A public key from its wire form (base64url fields)."""
    if not is_uuid(user_id) or not is_time(created_at):
        raise CryptoError("malformed", "public key needs a UUID user id and a UTC time")
    return PublicKey(
        user_id, unb64(sign_pk, 32, "sign_pk"), unb64(box_pk, 32, "box_pk"), created_at
    )
