"""The knowledge base: sources, ingest, index, hybrid retrieval and their evaluation."""
