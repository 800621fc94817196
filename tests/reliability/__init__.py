"""Reliability: load, faults, hostile input, per-client fairness and fuzzing (issue 7)."""
