"""A background thread woken right after a commit that queued work (and, optionally, on a timer).

The mail outbox and the search change log both queue work in the caller's transaction and flag the
session (``session.info[flag] = True``). Registered as a SQLAlchemy ``after_commit`` listener, the
worker turns that flag into a wake-up of its thread, so the request that committed never waits for
the e-mail to be sent or the index to be updated. The queue lives in the database, so work a crash
interrupts is done by the next run (here, or by the ``liaison jobs`` process).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.orm import Session

RETRY_PAUSE_SECONDS = 0.5


class AfterCommitWorker:
    """Runs ``work`` in one daemon thread: after a commit that set ``flag`` in the session, on
    ``kick()``, and every ``every`` seconds when given (a follower that also sees other hosts'
    work). ``work`` must be safe to run again: a failure is logged and retried at the next wake."""

    def __init__(
        self,
        name: str,
        work: Callable[[], object],
        *,
        flag: str,
        logger: logging.Logger,
        failure: str,
        every: float | None = None,
    ) -> None:
        self.name = name
        self.work = work
        self.flag = flag
        self.every = every
        self._log = logger
        self._failure = failure
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._closed = False

    def after_commit(self, session: Session) -> None:
        """SQLAlchemy hook: wake the worker when this commit queued work for it."""
        if session.info.pop(self.flag, False):
            self.kick()

    def start(self) -> None:
        """Start the thread if it is not running (a closed worker stays closed)."""
        with self._lock:
            if self._closed:
                return
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._worker.start()

    def kick(self) -> None:
        """Run soon, without holding up the caller."""
        self.start()
        self._wake.set()

    @property
    def running(self) -> bool:
        """True while the thread is alive."""
        return self._worker is not None and self._worker.is_alive()

    def close(self, timeout: float = 15.0) -> None:
        """Stop the thread after the run it is doing."""
        with self._lock:
            self._closed = True
            worker = self._worker
        self._wake.set()
        if worker is not None:
            worker.join(timeout)

    def _run(self) -> None:
        while True:
            self._wake.wait(self.every)
            self._wake.clear()
            if self._closed:
                return
            try:
                self.work()
            except Exception:  # the thread must survive; the database keeps the work
                self._log.exception(self._failure)
                time.sleep(RETRY_PAUSE_SECONDS)
