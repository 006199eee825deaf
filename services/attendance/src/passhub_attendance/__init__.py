"""passhub attendance service."""
