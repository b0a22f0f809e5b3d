"""Use cases: what the handlers call. They take a Caller and the stores, and raise domain errors."""
