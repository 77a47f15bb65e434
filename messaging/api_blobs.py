"""Blob API: upload an encrypted attachment (streamed into the blob store) and download it."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from core.api_schema import Body, Reply, api_operation
from core.web import database, db_session, settings
from messaging import api_models as m
from messaging.api_common import blueprint, caller, limit
from messaging.errors import Malformed
from messaging.services.blobs import MIN_BYTES, blob_for, commit_blob, read_chunks, receive_blob


@blueprint.post("/blobs")
@api_operation(
    summary="Upload an encrypted attachment (the raw body, streamed)",
    query=m.BlobQuery,
    body=Body(
        schema={"type": "string", "format": "binary", "minLength": MIN_BYTES},
        media_type="application/octet-stream",
        description="The sealed attachment (nonce, ciphertext and tag: at least 41 bytes)",
    ),
    replies={201: Reply("stored", m.BlobStored)},
    errors={
        400: ["malformed"],
        409: ["blob-id-conflict"],
        413: ["too-large"],
        429: ["rate-limited"],
        507: ["storage-full"],
    },
)
def upload_blob() -> ResponseReturnValue:
    """Store the request body as blob ``id`` (chosen by the client: the encryption binds it)."""
    user = caller()
    limit("send")
    blob_id = request.args.get("id") or request.headers.get("X-Blob-Id") or ""
    if not blob_id:
        raise Malformed("give the blob id as ?id=<uuid> (the id the attachment was sealed with)")
    session = db_session()
    blob = receive_blob(
        session,
        settings(),
        database(),
        user.id,
        blob_id,
        request.stream,
        declared_length=request.content_length,
    )
    commit_blob(session, settings(), database(), blob)
    return jsonify({"id": blob.id, "size": blob.size}), 201


@blueprint.get("/blobs/<blob_id>")
@api_operation(
    summary="Download an attachment (its uploader, and the people of a message naming it)",
    path={"blob_id": m.ID_PARAM},
    path_names={"blob_id": "id"},
    replies={
        200: Reply(
            "the blob's bytes",
            schema={"type": "string", "format": "binary"},
            media_type="application/octet-stream",
            headers={"Content-Disposition": "attachment", "Cache-Control": "no-store"},
        )
    },
    errors={404: ["not-found"]},
)
def download_blob(blob_id: str) -> ResponseReturnValue:
    """The blob's bytes, streamed; only for its uploader and the people of a message naming it."""
    user = caller()
    blob = blob_for(db_session(), user.id, blob_id)
    chunks = read_chunks(settings(), database(), blob)
    response = Response(chunks, mimetype="application/octet-stream")
    response.headers["Content-Length"] = str(blob.size)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Disposition"] = f'attachment; filename="{blob.id}.bin"'
    return response
