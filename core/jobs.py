"""Scheduled work: an APScheduler 3 background scheduler with the jobs each part declares."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from config import Settings

log = logging.getLogger("liaison.jobs")


def start_scheduler(settings: Settings) -> BackgroundScheduler:
    """Start the in-process scheduler (embedded default) and return it."""
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.start()
    log.info("in-process scheduler started")
    return scheduler
