"""The encrypted body of a message (§3) and the attachment manifest inside it (§4)."""

from __future__ import annotations

from typing import Any

from liaison_client.encoding import is_uuid, unb64
from liaison_client.errors import CryptoError, EnvelopeError

TLP_MARKINGS = ("TLP:RED", "TLP:AMBER+STRICT", "TLP:AMBER", "TLP:GREEN", "TLP:CLEAR")
MESSAGE_FIELDS = {"tlp", "subject", "body", "form", "attachments", "prev"}
RECEIPT_FIELDS = {"receipt_for", "hh", "status"}
MANIFEST_FIELDS = {"blob", "name", "mime", "size", "key", "hash"}


def _fail(detail: str) -> EnvelopeError:
    return EnvelopeError("malformed-body", detail)


def check_body(kind: str, body: object) -> dict[str, Any]:
    """Check that a decrypted (or to-be-sealed) body has the shape its kind requires."""
    if not isinstance(body, dict):
        raise _fail("body is not a JSON object")
    if kind == "receipt":
        _check_receipt(body)
    else:
        _check_message(body)
    return body


def _check_receipt(body: dict[str, Any]) -> None:
    if set(body) != RECEIPT_FIELDS or body["status"] != "read" or not is_uuid(body["receipt_for"]):
        raise _fail("a receipt needs receipt_for, hh and status read")
    _b64_field(body["hh"], 32, "receipt hh")


def _check_message(body: dict[str, Any]) -> None:
    if set(body) != MESSAGE_FIELDS:
        raise _fail("body fields differ from version 1")
    if body["tlp"] not in TLP_MARKINGS:
        raise _fail("unknown TLP marking")
    if not isinstance(body["subject"], str) or not isinstance(body["body"], str):
        raise _fail("subject and body must be text")
    if body["form"] is not None and not isinstance(body["form"], dict):
        raise _fail("form must be an object or null")
    if body["prev"] is not None:
        _b64_field(body["prev"], 32, "prev")
    if not isinstance(body["attachments"], list):
        raise _fail("attachments must be a list")
    for manifest in body["attachments"]:
        check_manifest(manifest)


def check_manifest(manifest: object) -> dict[str, Any]:
    """An attachment manifest: blob id, name, type, size, key and blob hash."""
    if not isinstance(manifest, dict) or set(manifest) != MANIFEST_FIELDS:
        raise _fail("an attachment manifest needs blob, name, mime, size, key and hash")
    if not is_uuid(manifest["blob"]):
        raise _fail("attachment blob is not an id")
    if not isinstance(manifest["name"], str) or not isinstance(manifest["mime"], str):
        raise _fail("attachment name and type must be text")
    size = manifest["size"]
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _fail("attachment size must be a whole number of bytes")
    _b64_field(manifest["key"], 32, "attachment key")
    _b64_field(manifest["hash"], 32, "attachment hash")
    return manifest


def _b64_field(value: object, size: int, what: str) -> bytes:
    try:
        return unb64(value, size, what)
    except CryptoError as error:
        raise _fail(error.detail) from error
