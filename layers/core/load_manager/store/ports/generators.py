"""What the metrics store answers of the load generators' readings (models/generators.py), which
each sample carries beside its figures. A port of its own module, joined to MetricsStore (ports.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from load_manager.models.generators import GeneratorReading


class GeneratorReadings(Protocol):
    def generator_readings(self, account_id: str, run_id: str) -> list[tuple[int, list[GeneratorReading]]]:
        """(at, the sample's generator readings) of each of the run's samples that has any, oldest
        first. Reads only those readings, never the samples' endpoint rows."""
        ...
