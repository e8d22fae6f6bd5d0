"""Running the platform on its embedded default: bundled nats-server, SQLite files, every service."""
