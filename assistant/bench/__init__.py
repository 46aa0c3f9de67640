"""Benchmark runners (`clinassist bench`): speed and memory, measured from above."""
