"""Benchmarks of the kernel against raw baselines measured in the same run (`make bench`).

Absolute rates depend on the machine and its disk; the ratios to a raw baseline of the same work, measured
minutes apart on the same machine, are what tells whether the kernel's own logic costs too much.
"""
