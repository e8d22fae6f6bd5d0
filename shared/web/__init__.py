"""HTTP plumbing shared by the services: error bodies, health routes, dependencies."""
