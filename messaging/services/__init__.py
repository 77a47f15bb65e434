"""Relay services: plain functions taking a ``Session``; they flush, the caller commits."""
