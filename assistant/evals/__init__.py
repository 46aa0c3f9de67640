"""Evaluation runners (`clinassist eval`): they judge the application from above and never
share code with what they judge."""
