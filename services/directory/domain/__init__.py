"""The directory's pure domain: aggregates, commands and rules. No I/O, no framework."""
