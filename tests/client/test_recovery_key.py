"""The recovery key's written form: grouped Crockford base32 with a check, read back with or
without separators and in any case, typos caught, the older base64url form still accepted; the
browser (under Node) and the Python client agree on every case."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from liaison_client.encoding import b64
from liaison_client.errors import BackupError
from liaison_client.recovery_key import ALPHABET, format_recovery_key, parse_recovery_key

SCRIPT = Path(__file__).with_name("recovery_key.mjs")
KEY = bytes((i * 7 + 1) % 256 for i in range(32))
# A fixed vector, so that a change of format on either side is seen here.
KEY_TEXT = "0440-Y5GX-4GNK-4EA0-8X75-AQ33-D9RQ-GZW6-HPA9-Q8N9-P2VV-XHEC-TFD5-H2BP"


def test_the_key_is_14_groups_of_4_unambiguous_characters():
    text = format_recovery_key(KEY)
    assert text == KEY_TEXT
    assert re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{4}-){13}[0-9A-HJKMNP-TV-Z]{4}", text)
    assert not set(text) & set("ILOU")


@pytest.mark.parametrize(
    "typed",
    [
        KEY_TEXT,
        KEY_TEXT.lower(),
        KEY_TEXT.replace("-", ""),
        KEY_TEXT.replace("-", " "),
        " " + KEY_TEXT.lower().replace("-", "  ") + "\n",
        KEY_TEXT.replace("0", "O"),  # look-alikes read as what they look like
        KEY_TEXT.replace("1", "l"),
        b64(KEY),  # the older form, still shown to people before this change
    ],
)
def test_the_key_is_read_back_however_it_was_typed(typed):
    assert parse_recovery_key(typed) == KEY


def test_every_single_character_typo_is_caught_by_the_check():
    plain = KEY_TEXT.replace("-", "")
    for index, char in enumerate(plain):
        other = ALPHABET[(ALPHABET.index(char) + 1) % len(ALPHABET)]
        with pytest.raises(BackupError) as refused:
            parse_recovery_key(plain[:index] + other + plain[index + 1 :])
        assert refused.value.reason == "recovery-key-typo", index


def test_swapped_neighbours_are_caught_by_the_check():
    plain = KEY_TEXT.replace("-", "")
    for index in range(len(plain) - 1):
        if plain[index] == plain[index + 1]:
            continue
        swapped = plain[:index] + plain[index + 1] + plain[index] + plain[index + 2 :]
        with pytest.raises(BackupError):
            parse_recovery_key(swapped)


@pytest.mark.parametrize("typed", ["", "not a key", KEY_TEXT[:-5], b64(KEY)[:-2]])
def test_other_text_is_not_a_key(typed):
    with pytest.raises(BackupError) as refused:
        parse_recovery_key(typed)
    assert refused.value.reason == "malformed"


def test_the_browser_writes_and_reads_the_same_keys():
    executable = shutil.which("node")
    assert executable, "node is required for this test"
    keys = [KEY, bytes(32), bytes([255]) * 32, bytes(range(32))]
    typo = KEY_TEXT[:-1] + ("0" if KEY_TEXT[-1] != "0" else "1")
    texts = [KEY_TEXT.lower().replace("-", ""), b64(KEY), typo, "not a key"]
    result = subprocess.run(
        [executable, str(SCRIPT)],
        input=json.dumps({"keys": [key.hex() for key in keys], "texts": texts}),
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    answer = json.loads(result.stdout)
    assert answer["formatted"] == [format_recovery_key(key) for key in keys]
    assert answer["parsed"] == [KEY.hex(), KEY.hex(), "error:recovery-key-typo", None]
