"""The query stage: query spec, builder and partition routing, readers, the master DataFrame, enrichment."""
