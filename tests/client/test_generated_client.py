"""A client generated from ``/api/v1/openapi.json`` by openapi-python-client works against a
live relay: it signs in, looks a person's keys up, posts an envelope and pages the inbox.

The envelope itself is sealed by the client library (the generator knows the wire form, not the
cryptography); everything on the wire goes through the generated code.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import jsonschema
import requests
from liaison_client.keystore import read_public_key
from liaison_client.messages import seal

from tests.accounts.conftest import PASSWORD, code_for
from tests.client.conftest import message_body
from tests.client.relay_fixtures import account, organisations, relay  # noqa: F401

GENERATOR = Path(sys.executable).parent / "openapi-python-client"


def _generate(relay_url: str, target: Path) -> None:
    spec = target / "openapi.json"
    spec.write_bytes(requests.get(f"{relay_url}/api/v1/openapi.json", timeout=10).content)
    config = target / "config.yaml"
    config.write_text("post_hooks: []\n", encoding="utf-8")
    result = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(spec), "--meta", "none",
         "--config", str(config), "--output-path", str(target / "liaison_api")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "will not be generated" not in result.stdout + result.stderr, result.stdout


def issued_token(client) -> str:
    return str(client.token)


def _answers_match_the_document(url: str, token: str, paths: list[str]) -> None:
    """Each GET answer, with real data in it, validates against its documented schema."""
    document = requests.get(f"{url}/api/v1/openapi.json", timeout=10).json()
    for path in paths:
        answer = requests.get(
            f"{url}/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert answer.status_code == 200, (path, answer.text)
        template = _template(document, path.split("?")[0])
        content = document["paths"][template]["get"]["responses"]["200"]["content"]
        schema = {**content["application/json"]["schema"], "components": document["components"]}
        jsonschema.Draft202012Validator(schema).validate(answer.json())


def _template(document: dict, path: str) -> str:
    parts = path.strip("/").split("/")
    for template in document["paths"]:
        pieces = template.strip("/").split("/")
        if len(pieces) == len(parts) and all(
            piece == part or piece.startswith("{")
            for piece, part in zip(pieces, parts, strict=True)
        ):
            return template
    raise AssertionError(f"no documented path for {path}")


def test_a_generated_client_signs_in_looks_up_keys_posts_and_pages_the_inbox(
    account,  # noqa: F811
    relay,  # noqa: F811
    organisations,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    anna, bram = account("A"), account("B")
    _generate(relay.url, tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    api = importlib.import_module("liaison_api")
    auth = importlib.import_module("liaison_api.api.default.post_auth_token")
    lookup = importlib.import_module("liaison_api.api.default.get_users_lookup")
    post = importlib.import_module("liaison_api.api.default.post_messages")
    inbox = importlib.import_module("liaison_api.api.default.get_messages")
    models = importlib.import_module("liaison_api.models")
    base = f"{relay.url}/api/v1"

    def sign_in(person):
        request = models.TokenRequest(
            email=person.user.email, password=PASSWORD, code=code_for(person.user, 1), label="gen"
        )
        issued = auth.sync(client=api.Client(base_url=base), body=request)
        assert isinstance(issued, models.IssuedToken), issued
        assert issued.user.id == person.id
        return api.AuthenticatedClient(base_url=base, token=issued.token)

    as_anna, as_bram = sign_in(anna), sign_in(bram)

    found = lookup.sync(client=as_anna, email=bram.user.email)
    assert isinstance(found, models.PersonKeys), found
    assert found.user == bram.id
    assert found.current is not None
    bram_key = read_public_key({**found.current.to_dict(), "user_id": found.user})

    anna_identity = anna.mailbox().identities[0]
    posted_ids = []
    for number in range(3):
        envelope = seal(anna_identity, [bram_key], message_body(f"bericht {number}"))
        answer = post.sync(client=as_anna, body=models.Envelope.from_dict(envelope.to_json()))
        assert isinstance(answer, models.Posted), answer
        assert answer.created is True
        posted_ids.append(answer.id)

    seen, cursor, pages = [], None, 0
    while True:
        page = inbox.sync(client=as_bram, limit=2, **({"cursor": cursor} if cursor else {}))
        assert isinstance(page, models.MessagePage), page
        pages += 1
        seen += [message.id for message in page.messages]
        assert all(message.sender == anna.id for message in page.messages)
        if not page.next_:
            break
        cursor = page.next_
    assert pages == 2
    assert sorted(seen) == sorted(posted_ids)

    _answers_match_the_document(
        relay.url,
        issued_token(as_anna),
        [
            "/keys/me",
            "/key-log",
            "/key-log/head",
            f"/messages/{posted_ids[0]}",
            "/messages?box=sent",
            "/threads",
            f"/threads/{posted_ids[0]}",
            f"/users/{bram.id}/keys",
            f"/organizations/{organisations['B'].id}/recipients",
            "/keys/backup",
        ],
    )

    refused = inbox.sync(client=api.Client(base_url=base))
    assert refused.status == 401
    assert refused.check.value == "not-signed-in"
