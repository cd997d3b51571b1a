"""What the record builders of one chunk share."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from credit_engine.data import SourceContract
from credit_engine.simulation._calendar import MonthGrid
from credit_engine.simulation._dynamics import Dynamics
from credit_engine.simulation._effects import RingChunk
from credit_engine.simulation._population import Population
from credit_engine.simulation._types import FloatArray, IntArray


@dataclass
class ChunkContext:
    """Inputs of the record builders for one chunk of enterprises.

    Attributes
    ----------
    pop : Population
        The chunk's enterprises.
    zone_uscc : pyarrow.Array
        USCCs of every enterprise of the zone (counterparty links cross chunks).
    grid : MonthGrid
        Simulated months.
    dyn : Dynamics
        Phase-A result of the chunk.
    rng : numpy.random.Generator
        The chunk's record stream.
    contracts : dict
        Record contracts by table name.
    serial_base : dict
        First free serial number of each table (ids stay unique across chunks).
    flows : dict
        Monthly aggregates shared between departments (declared and true trade).
    """

    pop: Population
    zone_uscc: pa.Array
    grid: MonthGrid
    dyn: Dynamics
    rng: np.random.Generator
    contracts: dict[str, SourceContract]
    serial_base: dict[str, int]
    flows: dict[str, FloatArray] = field(default_factory=dict)

    def serials(self, table: str, k: int) -> IntArray:
        """Reserve ``k`` serial numbers for ``table``."""
        start = self.serial_base.get(table, 0)
        self.serial_base[table] = start + k
        return np.arange(start, start + k, dtype=np.int64)

    @property
    def ring(self) -> RingChunk | None:
        """The refund ring's members in this chunk, if a ring scenario runs."""
        return None if self.dyn.effects is None else self.dyn.effects.ring

    def uscc(self, ent: IntArray) -> pa.Array:
        """USCC column for chunk-local enterprise indices."""
        return pa.array(self.pop.uscc, pa.string()).take(pa.array(ent))
