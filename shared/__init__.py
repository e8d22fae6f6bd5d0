"""The small infrastructural library every IKMO service uses: store, outbox, bus, contracts, platform.

Domain logic never lives here; a second copy of infrastructure in a service means it belongs here.
"""
