"""The live projector: folds the canonical event log into every read model, in batches.

`readmodels` binds each pure fold of `projections` to its key and its stored form (`kpi_codec`
for the KPI records), `partition` folds a batch into one source partition's partials, `store`
keeps them (RocksDB or memory), `assignor` hands partitions and the peer directory out, and
`service` is the thin Kafka shell around them: consumer, changelog, dead-letter topic.
"""
