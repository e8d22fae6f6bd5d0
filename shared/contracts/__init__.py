"""The published language: events other services and integrators may rely on, one module per service.

Each event is a `shared.domain.DomainEvent`; its JSON Schema is in docs/events.md (kept complete by a test).
"""
