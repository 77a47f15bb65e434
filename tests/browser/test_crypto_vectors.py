"""The browser crypto module passes every shared vector in real Chromium (served by the live
server with its CSP) and in Node."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.client.conftest import VECTORS

ROOT = Path(__file__).resolve().parents[2]
VENDORED = ROOT / "web" / "static" / "vendor" / "libsodium-wrappers-sumo.mjs"


def _vector_count() -> int:
    from liaison_client.selftest import cases

    from tests.client.conftest import load_vectors

    return len(cases(load_vectors()))


@pytest.mark.browser
def test_browser_module_passes_every_vector_in_chromium(live_server, browser) -> None:
    assert VENDORED.exists(), "libsodium.js is not vendored: run `make install`"
    browser.get(f"{live_server.url}/static/js/crypto/selftest.html")
    picker = browser.find_element(By.ID, "vectors")
    WebDriverWait(browser, 30).until(lambda _: picker.is_enabled())
    picker.send_keys(str(VECTORS))
    summary = browser.find_element(By.ID, "summary")
    WebDriverWait(browser, 60).until(lambda _: " passed, " in summary.text)
    details = browser.find_element(By.ID, "details").text
    assert summary.text == f"{_vector_count()} passed, 0 failed", details
    assert "ok   valid: referral to two, unicode" in details
    assert "ok   backup: opens with the passphrase" in details


def test_browser_module_passes_every_vector_in_node() -> None:
    node = shutil.which("node")
    assert node, "node is required for the browser module's self-test"
    script = ROOT / "web" / "static" / "js" / "crypto" / "selftest.mjs"
    result = subprocess.run(
        [node, str(script), str(VECTORS), "--strict"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == f"{_vector_count()} passed, 0 failed"


def test_node_selftest_fails_a_doctored_vector_file(tmp_path) -> None:
    import json

    from tests.client.conftest import load_vectors

    vectors = load_vectors()
    vectors["invalid"][0]["envelope"] = vectors["valid"][0]["envelope"]
    vectors["invalid"][0]["reader"] = vectors["valid"][0]["reader"]
    dropped = len(vectors["backups"]["invalid"])
    vectors["backups"]["invalid"] = []  # each costs an Argon2id run; not what this test is about
    doctored = tmp_path / "doctored.json"
    doctored.write_text(json.dumps(vectors))
    script = ROOT / "web" / "static" / "js" / "crypto" / "selftest.mjs"
    node = shutil.which("node") or "node"
    result = subprocess.run([node, str(script), str(doctored), "-q"], capture_output=True,
                            text=True, timeout=120, check=False)  # fmt: skip
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == f"{_vector_count() - dropped - 1} passed, 1 failed"
    assert "accepted, must be rejected" in result.stdout
