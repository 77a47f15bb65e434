"""``liaison serve``: the web server with, on the embedded default, the mail sink and scheduler."""

from __future__ import annotations

import logging

from werkzeug.serving import make_server

from config import Settings
from core.app import close_app, create_app
from core.mail import start_sink

log = logging.getLogger("liaison.serve")


def run(settings: Settings, host: str, port: int) -> None:
    """Serve until interrupted; starts and stops the embedded helpers around the server."""
    sink = start_sink(settings)
    if sink is not None:
        settings = settings.replace(smtp_port=sink.port)
    app = create_app(settings)
    scheduler = None
    if settings.run_scheduler and not settings.production:
        from core.jobs import start_scheduler

        scheduler = start_scheduler(settings)
    server = make_server(host, port, app, threaded=True)
    log.info("Liaison is serving on http://%s:%s", host, port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        close_app(app)
        if sink is not None:
            sink.stop()
