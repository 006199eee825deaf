"""passhub sessions service."""
