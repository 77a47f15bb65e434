"""The client's remembered connection: relay URL, bearer token, who signed in, the key log's
public key and the last signed head this client accepted. Kept in ``server.json`` beside the key
files (mode 0600: the token is a secret)."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from liaison_client.keystore import KeyStoreError

FILE = "server.json"


@dataclass
class LocalState:
    """What this client remembers about its relay between runs."""

    base_url: str = ""
    token: str | None = None
    user_id: str | None = None
    email: str | None = None
    log_pk: str | None = None
    log_head: dict[str, Any] | None = None
    log_keys: dict[str, dict[str, Any]] = field(default_factory=dict)  # key id → user, revoked
    root_pk: str | None = None
    home: Path = field(default=Path("."), compare=False)

    @classmethod
    def load(cls, home: Path) -> LocalState:
        """The state under ``home`` (empty when nothing is remembered yet)."""
        path = home / FILE
        if not path.exists():
            return cls(home=home)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as error:
            raise KeyStoreError("malformed", f"{path} is not JSON") from error
        names = ("base_url", "token", "user_id", "email", "log_pk", "log_head", "root_pk")
        known: dict[str, Any] = {name: raw.get(name) for name in names}
        return cls(**known, log_keys=dict(raw.get("log_keys") or {}), home=home)

    def save(self) -> None:
        """Write atomically, readable by this user only."""
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        values = {k: v for k, v in asdict(self).items() if k != "home"}
        fd, temporary = tempfile.mkstemp(dir=self.home, prefix=f".{FILE}.")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(values, out, indent=2)
        os.chmod(temporary, 0o600)
        os.replace(temporary, self.home / FILE)
