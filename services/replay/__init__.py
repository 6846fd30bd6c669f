"""Replay: rebuild the read models from the canonical log with the live projector's own folds, and
compare them with the live ones (`salesledger replay`, `salesledger audit compare`; docs/audit.md)."""
