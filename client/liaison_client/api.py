"""The relay's HTTP API on ``requests``: sign-in, keys, key log, backups, messages and blobs.

Typed results out (``liaison_client.results``); the checks that make the answers trustworthy
live in ``liaison_client.mailbox``.
Blobs travel streamed in both directions, so no attachment is ever held whole in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import requests

from liaison_client.blobs import Readable
from liaison_client.errors import ApiError
from liaison_client.results import (
    Grant,
    Me,
    MessageInfo,
    MessagePage,
    MessageStatus,
    Posted,
    Published,
    Referral,
    StoredBackup,
    StoredBlob,
)
from liaison_client.retry import OnRetry, RetryPolicy

__all__ = ["ApiError", "Client"]

TIMEOUT = 60.0


class _StreamBody:
    """A request body read piece by piece from an iterator, with its length known in advance
    (so that ``requests`` sends Content-Length instead of chunked encoding)."""

    def __init__(self, pieces: Iterable[bytes], length: int) -> None:
        self.pieces = iter(pieces)
        self.length = length
        self.buffer = b""

    def __len__(self) -> int:
        return self.length

    def read(self, size: int = -1, /) -> bytes:
        while not self.buffer:
            piece = next(self.pieces, None)
            if piece is None:
                return b""
            self.buffer = piece
        if size < 0 or size >= len(self.buffer):
            out, self.buffer = self.buffer, b""
            return out  # at most one piece at a time: the sender asks again for the rest
        out, self.buffer = self.buffer[:size], self.buffer[size:]
        return out


class Client:
    """One relay at ``base_url`` (e.g. ``https://liaison.example``), optionally with a token.

    Requests safe to repeat (reads, acknowledgements, posting an envelope) are retried through
    connection errors and 500/502/503/504 under ``retry`` (60 s by default); ``on_retry`` hears
    of each retry (the command line prints it)."""

    def __init__(
        self, base_url: str, token: str | None = None, *, timeout: float = TIMEOUT,
        retry: RetryPolicy | None = None, on_retry: OnRetry | None = None,
    ) -> None:  # fmt: skip
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.on_retry = on_retry
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "liaison-client/1"

    def _url(self, path: str) -> str:
        return f"{self.base_url}/api/v1{path}"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def request(
        self, method: str, path: str, *, retry: bool | RetryPolicy | None = None, **kwargs: Any
    ) -> requests.Response:
        """Send a request; raises ApiError for a refusal or an unreachable relay. ``retry``
        (default: for GET) tries again under the client's policy, or the one given."""
        if retry is None:
            retry = method == "GET"
        if retry is False:
            return self._send(method, path, **kwargs)
        policy = retry if isinstance(retry, RetryPolicy) else self.retry
        return policy.call(lambda: self._send(method, path, **kwargs), self.on_retry)

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self._headers(), **kwargs.pop("headers", {})}
        try:
            response = self.http.request(
                method, self._url(path), headers=headers, timeout=self.timeout, **kwargs
            )
        except requests.RequestException as error:
            raise ApiError(0, "unreachable", f"cannot reach {self.base_url}: {error}") from error
        if response.status_code >= 400:
            raise _refusal(response)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """A request whose answer is JSON."""
        response = self.request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError as error:
            raise ApiError(
                response.status_code, "not-json", "the relay answered non-JSON"
            ) from error

    # Signing in
    def login(self, email: str, password: str, totp_code: str, label: str = "") -> Grant:
        """Exchange e-mail, password and TOTP (or recovery) code for a bearer token, kept here."""
        payload = {"email": email, "password": password, "code": totp_code, "label": label}
        grant = Grant.from_json(self.json("POST", "/auth/token", json=payload))
        self.token = grant.token
        return grant

    def logout(self) -> None:
        """Revoke the token this client holds."""
        if self.token:
            self.request("DELETE", "/auth/token")
            self.token = None

    # Keys
    def me(self) -> Me:
        """Who the token belongs to, their current key and stored backup version."""
        return Me.from_json(self.json("GET", "/keys/me"))

    def publish_key(self, document: dict[str, str]) -> Published:
        """Publish a public identity (with ``pub_sig``); it becomes the current key."""
        return Published.from_json(self.json("POST", "/keys", json=document))

    def put_backup(self, bundle: dict[str, Any]) -> StoredBackup:
        """Store a new version of the encrypted key backup."""
        return StoredBackup.from_json(self.json("PUT", "/keys/backup", json=bundle))

    def get_backup(self) -> Any:
        """The stored encrypted key backup."""
        return self.json("GET", "/keys/backup")

    def keys_of(self, user_id: str) -> dict[str, Any]:
        """A person's keys as the directory serves them (unchecked)."""
        return dict(self.json("GET", f"/users/{quote(user_id, safe='')}/keys"))

    def lookup(self, email: str) -> dict[str, Any]:
        """A person's keys found by e-mail address (unchecked)."""
        return dict(self.json("GET", "/users/lookup", params={"email": email}))

    def recipients(self, organisation: str) -> dict[str, Any]:
        """An organisation's contact points with their keys (unchecked)."""
        return dict(self.json("GET", f"/organizations/{quote(organisation, safe='')}/recipients"))

    def key_log(self, since: int) -> dict[str, Any]:
        """Key-log entries after ``since`` with their signed heads, and the latest head."""
        return dict(self.json("GET", "/key-log", params={"since": since}))

    # Messages
    def post_message(
        self, envelope: dict[str, Any], blobs: Iterable[str] = (), *,
        retries: int | None = None, referral: dict[str, Any] | None = None,
    ) -> Posted:  # fmt: skip
        """Post an envelope; retried through a lost connection and server errors until the
        policy's deadline (or ``retries`` retries): the relay treats the same bytes as the same
        message, so a retry never duplicates it. A referral's envelope goes with its plaintext
        part, ``referral`` (``{"urgency": …, "from_org": …}``)."""
        blob_ids = list(blobs)
        document: dict[str, Any] = envelope
        if blob_ids or referral is not None:
            document = {"envelope": envelope, "blobs": blob_ids}
            if referral is not None:
                document["referral"] = referral
        policy = self.retry if retries is None else self.retry.limited(retries + 1)
        return Posted.from_json(self.json("POST", "/messages", json=document, retry=policy))

    def messages(
        self, box: str = "inbox", cursor: str | None = None, limit: int = 50,
        unacknowledged: bool = False,
    ) -> MessagePage:  # fmt: skip
        """One page of the inbox (or ``box="sent"``) and the cursor of the next page."""
        params: dict[str, Any] = {"box": box, "limit": limit}
        if cursor:
            params["cursor"] = cursor
        if unacknowledged:
            params["unacknowledged"] = "1"
        return MessagePage.from_json(self.json("GET", "/messages", params=params))

    def iter_messages(
        self, box: str = "inbox", unacknowledged: bool = False
    ) -> Iterator[MessageInfo]:
        """Every message of a box, following the cursor page by page."""
        cursor = None
        while True:
            page = self.messages(box, cursor, unacknowledged=unacknowledged)
            yield from page.messages
            cursor = page.next
            if not cursor:
                return

    def message(self, message_id: str) -> MessageInfo:
        """One message with its envelope (its sender also gets ``recipients``)."""
        return MessageInfo.from_json(self.json("GET", f"/messages/{quote(message_id, safe='')}"))

    def ack(self, message_id: str) -> MessageStatus:
        """Record that this client has the message."""
        path = f"/messages/{quote(message_id, safe='')}/ack"
        return MessageStatus.from_json(self.json("POST", path, retry=True))

    def mark_read(self, message_id: str) -> MessageStatus:
        """Record that the message was opened (its sender sees it)."""
        path = f"/messages/{quote(message_id, safe='')}/read"
        return MessageStatus.from_json(self.json("POST", path, retry=True))

    def delete(self, message_id: str) -> None:
        """Delete this person's own copy."""
        self.request("DELETE", f"/messages/{quote(message_id, safe='')}")

    # Referrals (status and times only: the form travels encrypted in the message)
    def referrals(self, box: str = "incoming", status: str | None = None) -> list[Referral]:
        """Referrals to the caller's organisations (``incoming``) or sent by them
        (``outgoing``), optionally of one status."""
        params = {"box": box, **({"status": status} if status else {})}
        answer = self.json("GET", "/referrals", params=params)
        found = answer.get("referrals") if isinstance(answer, dict) else None
        return [Referral.from_json(item) for item in found or []]

    def referral(self, referral_id: str) -> Referral:
        """One referral with its history of status changes."""
        return Referral.from_json(self.json("GET", f"/referrals/{quote(referral_id, safe='')}"))

    def set_referral_status(
        self, referral_id: str, status: str, redirect_to: str | None = None
    ) -> Referral:
        """Move a referral on (acknowledged, accepted, declined, redirected, closed)."""
        payload = {"status": status, **({"redirect_to": redirect_to} if redirect_to else {})}
        path = f"/referrals/{quote(referral_id, safe='')}/status"
        return Referral.from_json(self.json("POST", path, json=payload))

    # Blobs
    def upload_blob(self, blob_id: str, pieces: Iterable[bytes], length: int) -> StoredBlob:
        """Upload a blob of ``length`` bytes from an iterator of pieces, streamed."""
        body = _StreamBody(pieces, length)
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(length)}
        answer = self.json("POST", "/blobs", params={"id": blob_id}, data=body, headers=headers)
        return StoredBlob.from_json(answer)

    @contextmanager
    def download_blob(self, blob_id: str) -> Iterator[tuple[Readable, int]]:
        """The blob's bytes as a readable stream and its length (use in a ``with``)."""
        response = self.request("GET", f"/blobs/{quote(blob_id, safe='')}", stream=True)
        try:
            length = int(response.headers.get("Content-Length", "-1"))
            response.raw.decode_content = True
            yield response.raw, length
        finally:
            response.close()


def _retry_after(response: requests.Response) -> float | None:
    raw = response.headers.get("Retry-After", "").strip()
    return float(raw) if raw.isdigit() else None  # the HTTP-date form is not worth parsing


def _refusal(response: requests.Response) -> ApiError:
    try:
        answer = response.json()
    except ValueError:
        answer = None
    retry_after = _retry_after(response)
    if isinstance(answer, dict):
        check = str(answer.get("check") or _CHECKS.get(response.status_code, "refused"))
        detail = str(answer.get("detail") or answer.get("error") or "")
        return ApiError(response.status_code, check, detail, retry_after=retry_after)
    return ApiError(
        response.status_code, _CHECKS.get(response.status_code, "refused"),
        f"the relay answered {response.status_code} {response.reason}", retry_after=retry_after,
    )  # fmt: skip


_CHECKS = {400: "malformed", 401: "not-signed-in", 403: "forbidden", 404: "not-found",
           409: "conflict", 413: "too-large", 429: "rate-limited", 500: "server-error",
           502: "bad-gateway", 503: "unavailable", 504: "gateway-timeout"}  # fmt: skip
