"""Load Manager's shared layer: models, validation, stores and orchestration.

Direction of dependencies: handlers (functions/*) -> services -> stores/backends.
Nothing here is imported at module load that a handler does not need on its cold path.
"""
