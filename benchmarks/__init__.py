"""Benchmarks: docgen against its peers (pyreverse, griffe) and the ast.parse floor."""
