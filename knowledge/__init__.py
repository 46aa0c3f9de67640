"""The knowledge base (ingest, index, hybrid retrieval) and the clinical NLP pipeline."""
