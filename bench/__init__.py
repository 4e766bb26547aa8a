"""Benchmarks: the gateway against the official soferai SDK, both in front of the sandbox."""
