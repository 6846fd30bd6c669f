"""API keys: who may publish, as which source."""
