"""§1 notation: strict base64url, pack and H as every other client computes them."""

from __future__ import annotations

import hashlib

import pytest
from liaison_client.encoding import H, b64, pack, sign, unb64, verify
from liaison_client.errors import CryptoError
from liaison_client.identity import signing_keypair


@pytest.mark.parametrize(
    "text",
    ["YQ==", "YQ=", "Y+8", "Y/8", "YW Jj", "Y", "YR", "Y\n"],
    ids=["padding", "short padding", "plus", "slash", "space", "one char", "non-canonical", "nl"],
)
def test_base64_decoder_rejects_anything_but_canonical_unpadded_base64url(text: str) -> None:
    with pytest.raises(CryptoError) as error:
        unb64(text)
    assert error.value.reason == "malformed"


def test_base64_round_trips_every_length() -> None:
    for n in range(40):
        data = bytes(range(n))
        assert unb64(b64(data), n) == data
        assert "=" not in b64(data)


def test_pack_prefixes_each_field_with_its_big_endian_length() -> None:
    assert pack("ab", b"\x00") == b"\x00\x00\x00\x02ab\x00\x00\x00\x01\x00"
    assert pack("é") == b"\x00\x00\x00\x02\xc3\xa9"


def test_h_is_blake2b_256_over_pack() -> None:
    expected = hashlib.blake2b(pack("tag", b"x"), digest_size=32).digest()
    assert H("tag", b"x") == expected


def test_signature_covers_the_domain_tag() -> None:
    sign_pk, sign_sk = signing_keypair()
    signature = sign(sign_sk, "liaison/v1/attest", "x")
    assert verify(sign_pk, signature, "liaison/v1/attest", "x")
    assert not verify(sign_pk, signature, "liaison/v1/revoke", "x")
    assert not verify(sign_pk, signature[:-1], "liaison/v1/attest", "x")
