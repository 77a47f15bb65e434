"""Blob API: upload an encrypted attachment (streamed into the blob store) and download it."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from core.web import database, db_session, settings
from messaging.api_common import blueprint, caller, limit
from messaging.errors import Malformed
from messaging.services.blobs import blob_for, commit_blob, read_chunks, receive_blob


@blueprint.post("/blobs")
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
