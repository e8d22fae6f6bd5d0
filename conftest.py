"""Root conftest: every test directory gets the shared fixtures with real parts."""

pytest_plugins = ["shared.testing"]
