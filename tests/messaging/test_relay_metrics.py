"""The relay's acceptances and refusals, per check, as the operator's /metrics shows them."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from core.metrics import metrics

from .conftest import sealed


def _samples(app) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics(app).exposition().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_count_accepted_envelopes_and_refusals_by_check(app, make_person):
    anna, bram = make_person("A"), make_person("B")
    envelope = sealed(anna, bram)
    assert anna.post("/api/v1/messages", json=envelope).status_code == 201
    assert anna.post("/api/v1/messages", json=envelope).status_code == 200  # the same again
    assert anna.post("/api/v1/messages", json={"v": 1}).status_code == 400
    forged = sealed(anna, bram)
    forged["sig"] = forged["sig"][:-4] + ("AAAA" if not forged["sig"].endswith("AAAA") else "BBBB")
    refused = anna.post("/api/v1/messages", json=forged)
    assert refused.status_code >= 400
    stranger = app.test_client().post(
        "/api/v1/messages", json=envelope, headers={"Authorization": "Bearer not-a-token"}
    )
    assert stranger.status_code == 401

    samples = _samples(app)
    assert samples[("liaison_relay_envelopes_accepted_total", ())] == 2
    refusals = {
        dict(labels)["check"]: value
        for (name, labels), value in samples.items()
        if name == "liaison_relay_envelopes_refused_total"
    }
    assert refusals[refused.get_json()["check"]] == 1
    assert refusals["malformed"] == 1
    assert refusals["not-signed-in"] == 1
    assert sum(refusals.values()) == 3
