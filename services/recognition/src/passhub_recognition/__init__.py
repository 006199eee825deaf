"""passhub recognition service."""
