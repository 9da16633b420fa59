"""Snapshots, diffs between versions, and their reports."""
