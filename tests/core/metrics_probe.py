"""A gunicorn-worker stand-in for the multiprocess metrics test: serve N requests, or scrape.

Usage: metrics_probe.py requests N | metrics_probe.py scrape TOKEN. Settings come from the
environment (LIAISON_*), PROMETHEUS_MULTIPROC_DIR included.
"""

from __future__ import annotations

import sys

from core.app import close_app, create_app


def main() -> None:
    app = create_app()
    try:
        client = app.test_client()
        if sys.argv[1] == "requests":
            for _ in range(int(sys.argv[2])):
                assert client.get("/healthz").status_code == 200
        else:
            response = client.get("/metrics", headers={"Authorization": f"Bearer {sys.argv[2]}"})
            assert response.status_code == 200
            sys.stdout.write(response.get_data(as_text=True))
    finally:
        close_app(app)


if __name__ == "__main__":
    main()
