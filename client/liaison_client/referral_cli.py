"""``liaison-client referral template|check|send|list|show|status``: referrals from the command
line. The form is a JSON file checked here before anything is sent (``referral template`` writes
one to start from); the relay only ever learns its urgency."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

import click

from liaison_client.body import TLP_MARKINGS
from liaison_client.cli_support import HOME, fail, open_mailbox, refusals
from liaison_client.mailbox import Mailbox, OpenedReferral
from liaison_client.referral import FormProblem, describe, example_form, referral_form_problems
from liaison_client.results import OrganisationRef

STATUSES = ("acknowledged", "accepted", "declined", "redirected", "closed")
LANGUAGE = click.option(
    "--language", type=click.Choice(("en", "nl", "fr", "de")), default="en", show_default=True,
    help="Language of the form's labels.",
)  # fmt: skip


@click.group()
def referral() -> None:
    """Send referrals with their structured form, follow where they stand, and move them on."""


def _problem_lines(problems: list[FormProblem], language: str) -> list[str]:
    return [f"{p.field}: {p.message(language)}" for p in problems]


def _read_form(source: IO[str]) -> Any:
    try:
        return json.load(source)
    except ValueError as error:
        fail(f"the form file is not JSON: {error}", 2)


@referral.command()
@click.option("--out", type=click.File("w", encoding="utf-8"), default="-",
              help="Where to write it (default: standard output).")  # fmt: skip
@HOME
def template(out: IO[str], home: Path | None) -> None:
    """Write a valid referral form to edit (every field, with today as the consent date)."""
    del home  # accepted like every command's, not needed: nothing is read from the relay
    json.dump(example_form(), out, ensure_ascii=False, indent=2)
    out.write("\n")


@referral.command()
@click.argument("form_file", type=click.File("r", encoding="utf-8"))
@LANGUAGE
@HOME
def check(form_file: IO[str], language: str, home: Path | None) -> None:
    """Check a referral form file without sending it; every problem is named."""
    del home  # accepted like every command's, not needed: the check is local
    problems = referral_form_problems(_read_form(form_file))
    for line in _problem_lines(problems, language):
        click.echo(f"Error: {line}", err=True)
    if problems:
        fail(f"the referral form has {len(problems)} problem(s)")
    click.echo("The referral form is valid.")


@referral.command()
@click.option("--to-org", required=True, help="The receiving organisation (id or ref).")
@click.option("--to", "people", multiple=True,
              help="Only these of its contact points (e-mail or user id).")  # fmt: skip
@click.option("--form", "form_file", required=True, type=click.File("r", encoding="utf-8"),
              help="The referral form, JSON ('-' for standard input).")  # fmt: skip
@click.option("--subject", default="Referral", show_default=True)
@click.option("--body", default="", help="A covering note (the form carries the details).")
@click.option(
    "--file", "files", multiple=True, help="An attachment (repeatable).",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)  # fmt: skip
@click.option("--tlp", type=click.Choice(TLP_MARKINGS), default="TLP:AMBER", show_default=True)
@click.option("--from-org", help="Your organisation sending it (when you belong to several).")
@click.option("--accept-change", is_flag=True,
              help="Acknowledge that a contact point's key changed (after comparing).")  # fmt: skip
@HOME
def send(  # noqa: PLR0917 - one parameter per click option
    to_org: str, people: tuple[str, ...], form_file: IO[str], subject: str, body: str,
    files: tuple[Path, ...], tlp: str, from_org: str | None, accept_change: bool,
    home: Path | None,
) -> None:  # fmt: skip
    """Encrypt and send a referral to an organisation's contact points."""
    form = _read_form(form_file)
    problems = referral_form_problems(form)
    if problems:
        for line in _problem_lines(problems, "en"):
            click.echo(f"Error: {line}", err=True)
        fail("the referral form is not valid; nothing was sent")
    with refusals():
        mailbox = open_mailbox(home, unlock=True)
        organisation = mailbox.organisation(to_org, accept_change=accept_change)
        if organisation.without_keys:
            names = ", ".join(organisation.without_keys)
            click.echo(f"Not reachable yet (no keys): {names}", err=True)
        recipients = organisation.contact_points
        if people:
            chosen = [mailbox.person(who, accept_change=accept_change) for who in people]
            members = {person.user_id for person in organisation.contact_points}
            strangers = [p.display_name for p in chosen if p.user_id not in members]
            if strangers:
                fail(f"not a contact point of {organisation.name}: {', '.join(strangers)}", 2)
            recipients = chosen
        sender_org = _organisation_id(mailbox, from_org) if from_org else None
        answer = mailbox.send_referral(organisation, form, recipients=recipients,
                                       subject=subject, text=body, tlp=tlp, files=files,
                                       from_org=sender_org)  # fmt: skip
    for person in recipients:
        click.echo(f"To {person.display_name} ({person.trust.replace('-', ' ')})")
    click.echo(f"Sent referral {answer.id}")


def _organisation_id(mailbox: Mailbox, organisation: str) -> str:
    """An organisation's id from its id or ref (the relay resolves it)."""
    return str(mailbox.client.recipients(organisation)["organization"])


def _org(value: OrganisationRef | None) -> str:
    return f"{value.name} ({value.country})" if value else "-"


@referral.command("list")
@click.option("--incoming/--outgoing", default=True,
              help="Referrals to your organisations (default) or those you sent.")  # fmt: skip
@click.option("--status", type=click.Choice(("sent", *STATUSES)), help="Only this status.")
@HOME
def list_referrals(incoming: bool, status: str | None, home: Path | None) -> None:
    """List referrals with where each stands (no content: that is read with 'show')."""
    with refusals():
        rows = open_mailbox(home).referrals("incoming" if incoming else "outgoing", status)
    for row in rows:
        late = "  OVERDUE" if row.overdue else ""
        click.echo(
            f"{row.id}  {row.status:<12} {row.urgency:<6} {row.sent_at}  "
            f"{_org(row.from_org)} -> {_org(row.to_org)}{late}"
        )
    if not rows:
        click.echo("No referrals.")


def _show_form(opened: OpenedReferral, language: str) -> None:
    if opened.form is None:
        click.echo("The referral form is not valid and is not shown:")
        for line in _problem_lines(opened.problems, language):
            click.echo(f"  {line}")
        return
    rows = describe(opened.form, language)
    width = max(len(name) for name, _value in rows)
    for name, value in rows:
        click.echo(f"{name + ':':<{width + 1}} {value}")


@referral.command()
@click.argument("referral_id")
@LANGUAGE
@click.option("--accept-change", is_flag=True, help="Acknowledge a sender's changed key.")
@HOME
def show(referral_id: str, language: str, accept_change: bool, home: Path | None) -> None:
    """Where a referral stands, its history, and its decrypted form."""
    with refusals():
        mailbox: Mailbox = open_mailbox(home, unlock=True)
        state = mailbox.referral(referral_id)
        opened = mailbox.open_referral(referral_id, accept_change=accept_change)
    body = opened.message.body
    click.echo(f"Referral: {state.id}")
    click.echo(f"Status:   {state.status}{'  (OVERDUE)' if state.overdue else ''}")
    click.echo(f"From:     {_org(state.from_org)}")
    click.echo(f"To:       {_org(state.to_org)}")
    if state.redirected_to:
        click.echo(f"Redirected to: {_org(state.redirected_to)}")
    click.echo(f"Sent:     {state.sent_at}  (acknowledge by {state.ack_due_at})")
    click.echo(f"TLP:      {body['tlp']}")
    click.echo(f"Subject:  {body['subject']}")
    click.echo("")
    _show_form(opened, language)
    if body["body"]:
        click.echo("")
        click.echo(body["body"])
    for manifest in body["attachments"]:
        click.echo(f"Attachment: {manifest['blob']}  {manifest['name']} ({manifest['size']} B)")
    click.echo("")
    click.echo("History:")
    for event in state.events:
        click.echo(f"  {event.at}  {event.to_status or '':<12} by {event.actor}")


@referral.command()
@click.argument("referral_id")
@click.argument("status", type=click.Choice(STATUSES))
@click.option("--redirect-to", help="With 'redirected': the organisation (id) it goes to.")
@HOME
def status(referral_id: str, status: str, redirect_to: str | None, home: Path | None) -> None:
    """Move a referral on: acknowledged, accepted, declined, redirected or closed."""
    if (status == "redirected") != bool(redirect_to):
        fail("give --redirect-to ORGANISATION with redirected, and only then", 2)
    with refusals():
        mailbox = open_mailbox(home)
        target = _organisation_id(mailbox, redirect_to) if redirect_to else None
        answer = mailbox.set_referral_status(referral_id, status, target)
    click.echo(f"Referral {answer.id} is now {answer.status}")
