"""E-mail + password + second factor in one call, for API clients that cannot go screen by screen.

The same throttling and the same non-revealing messages as the sign-in screens apply.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from accounts import login
from accounts.errors import AccountError, TooManyAttempts
from accounts.models import User
from config import Settings


class CredentialsError(Exception):
    """The credentials were refused; ``status`` is 401, or 429 while the address is paused."""

    def __init__(self, message: str, status: int, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after  # seconds, with 429


def check_credentials(
    session: Session, settings: Settings, email: str, password: str, code: str
) -> User:
    """The person whose password and TOTP (or recovery) code match; CredentialsError otherwise."""
    try:
        user = login.authenticate(session, settings, email, password)
        login.second_factor(session, settings, user, code)
    except TooManyAttempts as error:
        minutes = int(str(error.values.get("count", error.values.get("minutes", 1))))
        raise CredentialsError(error.english(), 429, minutes * 60) from None
    except AccountError:
        raise CredentialsError("the e-mail address, password or code is not correct", 401) from None
    return user
