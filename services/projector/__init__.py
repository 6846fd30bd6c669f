"""The live projector: folds the canonical event log into every read model, in batches.

`partition` holds the pure batch fold over one source partition's partials, `store` where they
live, `codec`-free bytes on the changelog; `service` is the thin Kafka shell around them.
"""
