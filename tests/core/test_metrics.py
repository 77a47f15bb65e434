"""The operator's Prometheus endpoint: closed to everyone without the token, true per route."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.app import close_app, create_app
from core.db import utcnow
from core.jobs import JobRun
from messaging.models import Blob

TOKEN = "t" * 40
ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("metrics_probe.py")


@pytest.fixture
def metrics_app(settings):
    app = create_app(settings.replace(metrics_token=TOKEN))
    app.config["TESTING"] = True
    yield app
    close_app(app)


def _scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return _parse(response.get_data(as_text=True))


def _parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_do_not_exist_without_a_token(client):
    assert client.get("/metrics").status_code == 404


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong-token-of-some-length", f"Basic {TOKEN}", f"Bearer {TOKEN}x"]
)
def test_metrics_refuse_a_caller_without_the_token(metrics_app, header):
    headers = {"Authorization": header} if header else {}
    response = metrics_app.test_client().get("/metrics", headers=headers)
    assert response.status_code == 401
    assert b"liaison_http" not in response.data


def test_requests_are_counted_per_route_method_and_status_class(metrics_app):
    client = metrics_app.test_client()
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert client.get("/no/such/page/42").status_code == 404
    samples = _scrape(client)
    ok = ("endpoint", "healthz"), ("method", "GET"), ("status", "2xx")
    assert samples[("liaison_http_requests_total", ok)] == 3
    missing = ("endpoint", "unmatched"), ("method", "GET"), ("status", "4xx")
    assert samples[("liaison_http_requests_total", missing)] == 1
    timed = ("endpoint", "healthz"), ("method", "GET")
    assert samples[("liaison_http_request_duration_seconds_count", timed)] == 3
    assert not any("no/such" in str(labels) for _, labels in samples)


def test_gauges_read_blob_bytes_and_job_runs_from_the_database(metrics_app, db_session):
    now = utcnow()
    db_session.add_all(
        [
            Blob(id=f"0000000{n}-0000-4000-8000-000000000000", size=size, path=f"x/{n}")
            for n, size in enumerate((1000, 2500))
        ]
    )
    db_session.add_all(
        [
            JobRun(job="purge", slot=1, claimed_by="a", started_at=now, finished_at=now),
            JobRun(job="purge", slot=2, claimed_by="a", started_at=now, finished_at=now),
            JobRun(
                job="notify", slot=1, claimed_by="a", started_at=now, finished_at=now, error="boom"
            ),
            JobRun(job="notify", slot=2, claimed_by="a", started_at=now - timedelta(seconds=5)),
            JobRun(
                job="notify",
                slot=3,
                claimed_by="a",
                started_at=now - timedelta(minutes=5),
                lease_until=now - timedelta(minutes=3),
            ),
            JobRun(
                job="notify",
                slot=4,
                claimed_by="b",
                started_at=now,
                lease_until=now + timedelta(minutes=1),
            ),
        ]
    )
    db_session.commit()
    samples = _scrape(metrics_app.test_client())
    assert samples[("liaison_blob_store_bytes", ())] == 3500
    assert samples[("liaison_blob_store_blobs", ())] == 2
    assert samples[("liaison_job_runs", (("job", "purge"), ("outcome", "ok")))] == 2
    assert samples[("liaison_job_runs", (("job", "notify"), ("outcome", "failed")))] == 1
    assert samples[("liaison_job_runs", (("job", "notify"), ("outcome", "running")))] == 2
    # A run whose lease expired without finishing: its process died.
    assert samples[("liaison_job_runs", (("job", "notify"), ("outcome", "interrupted")))] == 1
    last = samples[("liaison_job_last_success_timestamp_seconds", (("job", "purge"),))]
    assert abs(last - now.timestamp()) < 1
    assert ("liaison_job_last_success_timestamp_seconds", (("job", "notify"),)) not in samples


def test_workers_counts_add_up_in_multiprocess_mode(settings, tmp_path):
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LIAISON_")},
        "LIAISON_ENV": "test",
        "LIAISON_DATA_DIR": str(settings.data_dir),
        "LIAISON_DATABASE_URL": settings.database_url,
        "LIAISON_SECRET_KEY": settings.secret_key,
        "LIAISON_METRICS_TOKEN": TOKEN,
        "LIAISON_MAIL_SINK": "false",
        "LIAISON_RUN_SCHEDULER": "false",
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
        "PYTHONPATH": str(ROOT),
    }

    def probe(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, str(PROBE), *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    probe("requests", "3")
    probe("requests", "4")
    samples = _parse(probe("scrape", TOKEN))
    ok = ("endpoint", "healthz"), ("method", "GET"), ("status", "2xx")
    assert samples[("liaison_http_requests_total", ok)] == 7
    assert ("liaison_blob_store_bytes", ()) in samples
