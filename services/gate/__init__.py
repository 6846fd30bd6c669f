"""The HTTP gate: `POST /v1/events` and `POST /v1/events:batch`, through admission into the write model."""
