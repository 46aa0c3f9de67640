"""Policy: safety rules, red flags, PHI de-identification, user-facing messages and prompts.
Imports only `assistant.core`; knowledge, tools and the application build on it."""
