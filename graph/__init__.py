"""dcdr-kg: the Digital China Development Report (2020), Part 4, as a knowledge graph."""

__version__ = "0.1.0"
