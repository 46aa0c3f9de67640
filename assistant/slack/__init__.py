"""The Slack front end: a thin layer over `assistant.service.Assistant`."""
