"""Domain errors of the accounts part; each message is English text that views translate."""

from __future__ import annotations


class AccountError(Exception):
    """Base class: ``message`` is an English msgid shown to the person (translated by views)."""

    message = "Something is not right with this request."
    # For a count phrase: the plural msgid; ``message`` is then the singular and ``values`` holds
    # ``count`` (views pick the form with ngettext).
    plural: str | None = None

    def __init__(self, message: str | None = None, **values: object) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.values = values

    def english(self) -> str:
        """The message in English with its values (for logs, the CLI and the JSON API)."""
        text = self.message
        if self.plural is not None and self.values.get("count") != 1:
            text = self.plural
        return text % self.values if self.values else text


class PasswordRejected(AccountError):
    """The new password breaks the policy; ``problems`` lists each reason."""

    message = "Choose another password."

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems[0] if problems else None)
        self.problems = problems


class InvalidCredentials(AccountError):
    """E-mail or password wrong, or no such (active) account: one message for all of them."""

    message = "The e-mail address or the password is not correct."


class TooManyAttempts(AccountError):
    """Sign-in for this e-mail address is paused after repeated failures."""

    message = "Too many failed attempts. Try again in %(count)s minute."
    plural = "Too many failed attempts. Try again in %(count)s minutes."


class InvalidCode(AccountError):
    """The authenticator code or recovery code is wrong, expired or already used."""

    message = "The code is not correct or has already been used."


class CodeAlreadyUsed(InvalidCode):
    """A correct authenticator code of a time step that was already used (replay is refused)."""

    message = (
        "This code has just been used. Wait for the next code in your authenticator app"
        " (at most 30 seconds) and enter that one."
    )


class InvitationInvalid(AccountError):
    """The invitation link is unknown, used, revoked or expired."""

    message = "This invitation link is not valid: it was used, withdrawn or has expired."


class ResetInvalid(AccountError):
    """The password-reset link is unknown, used or expired."""

    message = "This password-reset link is not valid: it was used or has expired."


class NotAllowed(AccountError):
    """The person's role does not allow this action."""

    message = "You may not do this."


class InvalidInput(AccountError):
    """A form value is missing or malformed; ``field`` names it."""

    def __init__(self, field: str, message: str, **values: object) -> None:
        super().__init__(message, **values)
        self.field = field
