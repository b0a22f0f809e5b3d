"""Use cases: what the API handlers call. They take a Caller and the stores, and raise domain errors."""
