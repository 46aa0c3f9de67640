"""Tools the agent calls: plain typed functions registered by name (see registry.py)."""
