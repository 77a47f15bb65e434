"""The deploy kit of ``docs/deploy/``, each file tried: gunicorn serves Liaison with the config,
the systemd units pass ``systemd-analyze verify``, nginx accepts the site and proxies over TLS to
gunicorn, and the environment template names every setting."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from config.settings import Settings
from core.mail import free_port

ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT / "docs" / "deploy"
VENV_BIN = ROOT / ".venv" / "bin"
UNITS = ("liaison-web.service", "liaison-jobs.service")


def _template_names() -> set[str]:
    text = (KIT / "liaison.env").read_text(encoding="utf-8")
    return set(re.findall(r"^#? ?LIAISON_([A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_the_environment_template_lists_every_setting_and_nothing_else() -> None:
    fields = {field.name.upper() for field in dataclasses.fields(Settings)}

    names = _template_names()

    assert sorted(fields - names) == [], "settings missing from docs/deploy/liaison.env"
    assert sorted(names - fields) == [], "docs/deploy/liaison.env names unknown settings"


def _unit(name: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in (KIT / name).read_text(encoding="utf-8").replace("\\\n", " ").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            values.setdefault(key.strip(), []).append(value.strip())
    return values


@pytest.mark.parametrize("name", UNITS)
def test_a_unit_runs_liaison_in_its_state_directory_with_the_environment_file(name) -> None:
    unit = _unit(name)

    assert unit["StateDirectory"] == ["liaison"]
    assert "LIAISON_DATA_DIR=/var/lib/liaison" in unit["Environment"]
    assert unit["EnvironmentFile"] == ["/etc/liaison/liaison.env"]
    assert unit["ProtectSystem"] == ["strict"]
    executable = unit["ExecStart"][0].split()[0].replace("/opt/liaison", str(ROOT))
    assert os.access(executable, os.X_OK), f"{name} starts {executable}, which is not installed"


@pytest.mark.parametrize("name", UNITS)
def test_systemd_accepts_the_unit(name, tmp_path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed here (the units were parsed above)")
    # Point the unit at this checkout so that systemd can check the program exists.
    unit = tmp_path / name
    unit.write_text((KIT / name).read_text().replace("/opt/liaison", str(ROOT)))

    checked = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert checked.returncode == 0, checked.stderr
    assert checked.stderr.strip() == "", checked.stderr


@dataclass
class Gunicorn:
    url: str
    port: int
    log: Path


def _wait_for(url: str, process: subprocess.Popen, log: Path, **kwargs) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args[0]} exited early:\n{log.read_text()}")
        try:
            requests.get(url, timeout=5, **kwargs).close()
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    pytest.fail(f"{url} never answered:\n{log.read_text()}")


def _stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    process.send_signal(sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def gunicorn(settings: Settings, tmp_path: Path) -> Iterator[Gunicorn]:
    """Liaison under gunicorn with docs/deploy/gunicorn.conf.py, on a free port, one worker."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("LIAISON_")}
    env |= {
        "LIAISON_ENV": "test",
        "LIAISON_DATA_DIR": str(settings.data_dir),
        "LIAISON_DATABASE_URL": settings.database_url,
        "LIAISON_SECRET_KEY": settings.secret_key,
        "LIAISON_MAIL_SINK": "false",
        "LIAISON_RUN_SCHEDULER": "false",
        # The documented way to override the file without editing it.
        "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port} --workers 1",
    }
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "--config", str(KIT / "gunicorn.conf.py")],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_for(f"{url}/api/v1/health", process, log)
        yield Gunicorn(url, port, log)
    finally:
        _stop(process)


def test_gunicorn_serves_liaison_with_the_kit_config_and_logs_paths_only(gunicorn) -> None:
    answer = requests.get(
        f"{gunicorn.url}/api/v1/search", params={"q": "person@example.org"}, timeout=30
    )
    page = requests.get(f"{gunicorn.url}/about", timeout=30)

    assert answer.status_code == 200
    assert page.status_code == 200
    assert "Liaison" in page.text
    log = gunicorn.log.read_text()
    assert '"GET /api/v1/search HTTP/1.1" 200' in log
    assert "person@example.org" not in log
    assert "gthread" in log  # the worker class of the config


def _nginx_config(tmp_path: Path, upstream: int, https: int, http: int) -> Path:
    """The site with this test's certificate, ports and upstream, in a minimal nginx.conf."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem"),
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    site = (KIT / "liaison-nginx.conf").read_text()
    for old, new in (
        ("/etc/ssl/liaison/fullchain.pem", str(tmp_path / "cert.pem")),
        ("/etc/ssl/liaison/privkey.pem", str(tmp_path / "key.pem")),
        ("/var/log/nginx/liaison.access.log", str(tmp_path / "access.log")),
        ("127.0.0.1:8000", f"127.0.0.1:{upstream}"),
        ("listen 443", f"listen {https}"),
        ("listen [::]:443", f"listen [::]:{https}"),
        ("listen 80", f"listen {http}"),
        ("listen [::]:80", f"listen [::]:{http}"),
        ("server_name liaison.example.org", "server_name localhost"),
    ):
        assert old in site, f"the site no longer contains {old!r}"
        site = site.replace(old, new)
    (tmp_path / "site.conf").write_text(site)
    temp = "".join(
        f"{kind}_temp_path {tmp_path / kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                           "uwsgi", "scgi")
    )  # fmt: skip
    config = tmp_path / "nginx.conf"
    config.write_text(
        f"daemon off; master_process off; pid {tmp_path / 'nginx.pid'};\n"
        f"error_log {tmp_path / 'error.log'};\nevents {{}}\n"
        f"http {{ access_log off; {temp} include {tmp_path / 'site.conf'}; }}\n"
    )
    return config


def _nginx() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if found is None and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-qq", "nginx-light"],
                       capture_output=True, timeout=600, check=False)  # fmt: skip
        found = shutil.which("nginx", path="/usr/sbin:/sbin")
    if found is None:
        pytest.skip("nginx is not installed and cannot be installed here (not root)")
    return found


def test_the_nginx_site_is_valid_allows_the_largest_attachment_and_proxies_over_tls(
    gunicorn, tmp_path
) -> None:
    nginx = _nginx()
    limit = re.search(r"client_max_body_size (\d+)m;", (KIT / "liaison-nginx.conf").read_text())
    https, http = free_port(), free_port()
    config = _nginx_config(tmp_path, gunicorn.port, https, http)

    checked = subprocess.run([nginx, "-t", "-c", str(config), "-p", str(tmp_path)],
                             capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert limit is not None
    assert int(limit.group(1)) * 1024 * 1024 > Settings.blob_max_bytes

    log = tmp_path / "nginx.log"
    with log.open("wb") as out:
        process = subprocess.Popen([nginx, "-c", str(config), "-p", str(tmp_path)],
                                   stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        cert = str(tmp_path / "cert.pem")
        _wait_for(f"https://localhost:{https}/about", process, log, verify=cert)
        page = requests.get(f"https://localhost:{https}/about", verify=cert, timeout=30)
        plain = requests.get(f"http://localhost:{http}/about", allow_redirects=False, timeout=30)
    finally:
        _stop(process, signal.SIGQUIT)

    assert page.status_code == 200
    assert "Liaison" in page.text
    assert plain.status_code == 301
    assert plain.headers["Location"] == "https://localhost/about"
    assert '"GET /about HTTP/1.1" 200' in gunicorn.log.read_text()
