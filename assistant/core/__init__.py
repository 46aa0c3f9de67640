"""The bottom layer: configuration, errors, the turn/case schema, state, model registry and
loaders (embeddings, language model). Imports nothing above it (see docs/ARCHITECTURE.md)."""
