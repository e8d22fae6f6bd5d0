"""The events service's pure domain: the event aggregate with its registrations, commands and rules."""
