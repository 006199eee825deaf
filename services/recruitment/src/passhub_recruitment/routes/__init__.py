"""HTTP entry points: thin adapters from requests to use cases and queries."""
