"""Load Manager's shared layer: models, validation, stores, use cases and the run lifecycle.

Direction of dependencies: handlers (functions/*) -> usecases (API) | lifecycle (state machine)
-> store / backends / adapters. Nothing here is imported at module load that a handler does not
need on its cold path.
"""
