"""``liaison-client login|send|inbox|read|ack|delete|receipts|fetch-attachment``."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import click

from liaison_client.api import ApiError
from liaison_client.body import TLP_MARKINGS
from liaison_client.cli_support import (
    HOME,
    PASSWORD_ENV,
    RETRY_DEADLINE,
    ROOT_KEY_ENV,
    fail,
    home_of,
    open_mailbox,
    refusals,
)
from liaison_client.encoding import unb64
from liaison_client.mailbox import Mailbox, Person
from liaison_client.session import LocalState

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

ACCEPT_CHANGE = click.option(
    "--accept-change", is_flag=True,
    help="Acknowledge that a person's key changed (after comparing safety numbers).",
)  # fmt: skip


@click.command()
@click.option("--url", help="The relay, e.g. https://liaison.example (remembered).")
@click.option("--email", prompt="E-mail address")
@click.option("--code", prompt="Authenticator code", help="The TOTP (or a recovery) code.")
@click.option("--root-key", envvar=ROOT_KEY_ENV, help="The secretariat's root public key.")
@HOME
def login(url: str | None, email: str, code: str, root_key: str | None, home: Path | None) -> None:
    """Sign in with e-mail, password ($LIAISONCLIENT_PASSWORD or a prompt) and code."""
    password = os.environ.get(PASSWORD_ENV) or click.prompt("Password", hide_input=True)
    state = LocalState.load(home_of(home))
    if not url and not state.base_url:
        fail("give the relay's address with --url", 2)
    with refusals():
        if root_key:
            unb64(root_key, 32, "root key")
            state.root_pk = root_key
            state.save()
        mailbox = Mailbox.open(home_of(home), url)
        answer = mailbox.login(email, password, code)
    click.echo(f"Signed in as {answer.user.display_name} <{answer.user.email}>")
    click.echo(f"Token valid until {answer.expires_at}")


def _read_text(body: str | None, body_file: Path | None) -> str:
    if body is not None and body_file is not None:
        fail("give --body or --body-file, not both", 2)
    if body_file is not None:
        return body_file.read_text(encoding="utf-8")
    return body or ""


@click.command()
@click.option("--to", "people", multiple=True, help="A person's e-mail address or user id.")
@click.option("--org", help="An organisation (id or ref): its contact points.")
@click.option("--subject", required=True)
@click.option("--body", help="The message text.")
@click.option("--body-file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--file", "files", multiple=True, help="An attachment (repeatable).",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)  # fmt: skip
@click.option("--tlp", type=click.Choice(TLP_MARKINGS), default="TLP:AMBER", show_default=True)
@click.option(
    "--message-id",
    callback=lambda _c, _p, v: _message_id(v),
    help="Send again under the id printed by an earlier attempt (never twice).",
)
@RETRY_DEADLINE
@ACCEPT_CHANGE
@HOME
def send(  # noqa: PLR0917 - one parameter per click option
    people: tuple[str, ...], org: str | None, subject: str, body: str | None,
    body_file: Path | None, files: tuple[Path, ...], tlp: str, message_id: str,
    retry_deadline: float | None, accept_change: bool, home: Path | None,
) -> None:  # fmt: skip
    """Encrypt and send a message to people or an organisation's contact points.

    The message's id is printed first and on every outcome: after a give-up (exit 5), send
    again with --message-id ID; the relay keeps one message per id, so it never arrives twice.
    """
    if not people and not org:
        fail("give --to PERSON or --org ORGANISATION", 2)
    text = _read_text(body, body_file)
    click.echo(f"Message {message_id}", err=True)
    with refusals(message_id):
        mailbox = open_mailbox(home, unlock=True, retry_deadline=retry_deadline)
        if mailbox.sent_before(message_id):
            click.echo(f"Sent {message_id} (it had arrived before)")
            return
        recipients: list[Person] = [
            mailbox.person(who, accept_change=accept_change) for who in people
        ]
        to_org = None
        if org:
            organisation = mailbox.organisation(org, accept_change=accept_change)
            if organisation.without_keys:
                names = ", ".join(organisation.without_keys)
                click.echo(f"Not reachable yet (no keys): {names}", err=True)
            if not organisation.contact_points:
                fail(f"{organisation.name} has no contact point with keys")
            to_org = organisation.organisation_id
            seen = {person.user_id for person in recipients}
            recipients += [p for p in organisation.contact_points if p.user_id not in seen]
        sent_id = _send_once(mailbox, message_id, recipients, subject, text, tlp, files, to_org)
    for person in recipients:
        click.echo(f"To {person.display_name} ({person.trust.replace('-', ' ')})")
    click.echo(f"Sent {sent_id}")


def _message_id(value: str | None) -> str:
    if value is None:
        return str(uuid.uuid4())
    if not _UUID.fullmatch(value):
        raise click.BadParameter("a message id is a lowercase hyphenated UUID")
    return value


def _send_once(  # noqa: PLR0917 - the parts of one message
    mailbox: Mailbox, message_id: str, recipients: list[Person], subject: str, text: str,
    tlp: str, files: tuple[Path, ...], to_org: str | None,
) -> str:  # fmt: skip
    """Send; a conflict on the id means an earlier attempt of this message got through."""
    try:
        return mailbox.send(recipients, subject, text, tlp=tlp, files=files, to_org=to_org,
                            message_id=message_id).id  # fmt: skip
    except ApiError as error:
        if error.check == "id-conflict" and mailbox.sent_before(message_id):
            return message_id
        raise


@click.command()
@click.option("--sent", is_flag=True, help="Messages you sent.")
@click.option("--new", "unacknowledged", is_flag=True, help="Only messages not yet acknowledged.")
@click.option("--limit", default=50, show_default=True)
@click.option("--cursor", help="The cursor printed after the previous page.")
@HOME
def inbox(
    sent: bool, unacknowledged: bool, limit: int, cursor: str | None, home: Path | None
) -> None:
    """List messages (id, time, sender's name and organisation, status); subjects are read
    with 'read'."""
    with refusals():
        mailbox = open_mailbox(home)
        page = mailbox.inbox(
            cursor, limit, box="sent" if sent else "inbox", unacknowledged=unacknowledged
        )
    for message in page.messages:
        status = "read" if message.read_at else "acked" if message.acknowledged_at else "new"
        sender = sender_label(message.sender, message.sender_name, message.sender_organizations)
        click.echo(
            f"{message.id}  {message.received_at}  {message.kind:<8} from {sender}  {status}"
        )
    if not page.messages:
        click.echo("No messages.")
    if page.next:
        click.echo(f"More: --cursor {page.next}")


def sender_label(
    sender: str, name: str | None, organisations: tuple[str, ...] | list[str] = ()
) -> str:
    """The sender as a person reads it: name (organisations), else the user id (older relays)."""
    if not name:
        return sender
    if organisations:
        return f"{name} ({', '.join(organisations)})"
    return name


@click.command()
@click.argument("message_id")
@click.option("--receipt", is_flag=True, help="Also send the sender an encrypted read receipt.")
@ACCEPT_CHANGE
@HOME
def read(message_id: str, receipt: bool, accept_change: bool, home: Path | None) -> None:
    """Decrypt and show one message (every check of the spec first)."""
    with refusals():
        mailbox = open_mailbox(home, unlock=True)
        opened = mailbox.read(message_id, accept_change=accept_change)
        if receipt and opened.header["kind"] != "receipt":
            mailbox.send_receipt(opened)
    header, body = opened.header, opened.body
    click.echo(f"Id:      {header['id']}")
    sender = sender_label(
        str(opened.header["sender"]), opened.sender_name, opened.sender_organizations
    )
    click.echo(f"From:    {sender}")
    click.echo(f"Sent:    {header['created_at']}")
    if header["kind"] == "receipt":
        click.echo(f"Receipt: {body['receipt_for']} was {body['status']}")
        return
    click.echo(f"TLP:     {body['tlp']}")
    click.echo(f"Subject: {body['subject']}")
    for manifest in body["attachments"]:
        click.echo(f"Attachment: {manifest['blob']}  {manifest['name']} ({manifest['size']} B)")
    if header["kind"] == "referral":
        _echo_referral_form(body["form"])
    click.echo("")
    click.echo(body["body"])


def _echo_referral_form(form: object) -> None:
    from liaison_client.referral import describe, referral_form_problems

    click.echo("")
    problems = referral_form_problems(form)
    if problems:
        click.echo("The referral form is not valid and is not shown:")
        for problem in problems:
            click.echo(f"  {problem.field}: {problem.message()}")
        return
    assert isinstance(form, dict)
    for name, value in describe(form):
        click.echo(f"{name}: {value}")


@click.command()
@click.argument("message_id")
@HOME
def ack(message_id: str, home: Path | None) -> None:
    """Tell the relay this client has the message."""
    with refusals():
        answer = open_mailbox(home).ack(message_id)
    click.echo(f"Acknowledged {answer.id} at {answer.acknowledged_at}")


@click.command()
@click.argument("message_id")
@HOME
def delete(message_id: str, home: Path | None) -> None:
    """Delete your copy of a message."""
    with refusals():
        open_mailbox(home).delete(message_id)
    click.echo(f"Deleted your copy of {message_id}")


@click.command()
@click.argument("message_id")
@HOME
def receipts(message_id: str, home: Path | None) -> None:
    """For a message you sent: who acknowledged and read it."""
    with refusals():
        rows = open_mailbox(home).receipts(message_id)
    for row in rows:
        click.echo(
            f"{row.user}  acknowledged {row.acknowledged_at or '-'}  read {row.read_at or '-'}"
        )


@click.command("fetch-attachment")
@click.argument("message_id")
@click.argument("blob_id")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@HOME
def fetch_attachment(message_id: str, blob_id: str, out: Path, home: Path | None) -> None:
    """Download, decrypt and check an attachment into FILE (nothing is kept if a check fails)."""
    if out.exists():
        fail(f"{out} exists; choose another --out", 2)
    with refusals():
        size = open_mailbox(home, unlock=True).fetch_attachment(message_id, blob_id, out)
    click.echo(f"Saved {size} bytes to {out}")


COMMANDS = (login, send, inbox, read, ack, delete, receipts, fetch_attachment)
