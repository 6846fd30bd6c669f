"""The Faust worker: ingests the inbound topic, projects the event log, serves HTTP."""

from services.worker.app import create_app

__all__ = ["create_app"]
