"""The bus: CloudEvents over NATS JetStream, the outbox relay, durable consumers with a dead-letter stream."""
