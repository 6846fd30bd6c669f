"""Business gauges: whole-read-model numbers for Prometheus, computed off the event loop."""
