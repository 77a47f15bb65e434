"""Outgoing e-mail over SMTP, and the local sink the embedded default delivers to.

Messages are built with ``email.message.EmailMessage`` whose header handling refuses CR/LF in
header values, so no user-supplied text can add a header. Mail is sent after the commit of the
work that caused it, through the outbox (``core.mail_outbox``).
"""

from __future__ import annotations

import logging
import smtplib
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from config import Settings
from core.db import utcnow

log = logging.getLogger("liaison.mail")


class MailError(Exception):
    """The message could not be built or handed to the SMTP server."""


@dataclass(frozen=True)
class Mail:
    """One plain-text e-mail to one recipient."""

    to: str
    subject: str
    body: str


def build_message(settings: Settings, mail: Mail) -> EmailMessage:
    """The MIME message for ``mail``; raises MailError on a header injection attempt."""
    for value in (mail.to, mail.subject):
        if "\r" in value or "\n" in value:
            raise MailError("line breaks are not allowed in e-mail headers")
    message = EmailMessage(policy=SMTP)
    message["From"] = settings.mail_from
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = utcnow().strftime("%a, %d %b %Y %H:%M:%S +0000")
    message.set_content(mail.body)
    return message


@contextmanager
def open_smtp(settings: Settings) -> Iterator[smtplib.SMTP]:
    """A connection to the configured SMTP server, logged in; raises OSError / SMTPException."""
    host = settings.smtp_host or "127.0.0.1"
    with smtplib.SMTP(host, settings.smtp_port, timeout=10) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        yield smtp


def send(settings: Settings, mails: list[Mail]) -> int:
    """Deliver the mails through the configured SMTP server at once; returns how many were sent.

    Application e-mail goes through the outbox (``core.mail_outbox.enqueue``) instead, so that it
    is sent after the commit, retried and never sent twice.
    """
    if not mails:
        return 0
    messages = [build_message(settings, mail) for mail in mails]
    host = settings.smtp_host or "127.0.0.1"
    try:
        with open_smtp(settings) as smtp:
            for message in messages:
                smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        log.warning(
            "could not send %d e-mail(s) through %s:%s: %s",
            len(mails),
            host,
            settings.smtp_port,
            error,
        )
        raise MailError(str(error)) from error
    log.info("sent %d e-mail(s) through %s:%s", len(messages), host, settings.smtp_port)
    return len(messages)


class _SinkHandler:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
        path = self.directory / f"{stamp}-{self.count:04d}.eml"
        path.write_bytes(envelope.content)
        log.info("mail sink stored a message for %s in %s", ",".join(envelope.rcpt_tos), path)
        return "250 Message accepted for delivery"


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port yet."""
    with socket.socket() as probe:
        return probe.connect_ex((host, port)) != 0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_sink(settings: Settings) -> Controller | None:
    """Start the local aiosmtpd sink writing to ``<data dir>/mail/`` (embedded default only).

    When the configured port is taken (another instance's sink, say), the sink takes a free
    port instead; the caller reads it from ``controller.port`` and sends there.
    """
    if settings.smtp_host or not settings.mail_sink:
        return None
    directory = settings.data_dir / "mail"
    directory.mkdir(parents=True, exist_ok=True)
    port = settings.smtp_port
    if not port_is_free("127.0.0.1", port):
        port = free_port()
        log.info(
            "port %s is busy (another instance?); the mail sink uses %s", settings.smtp_port, port
        )
    controller = Controller(_SinkHandler(directory), hostname="127.0.0.1", port=port)
    controller.start()
    log.info("local mail sink on 127.0.0.1:%s writes to %s", port, directory)
    return controller
