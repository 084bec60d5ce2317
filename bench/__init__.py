"""Benchmarks: each module's ``run(quick)`` returns figures measured beside a baseline in the same process."""
