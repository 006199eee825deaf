"""passhub recruitment service."""
