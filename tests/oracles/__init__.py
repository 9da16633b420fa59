"""Runtime oracles: data recorded from real torch, to check docgen's static answers against."""
