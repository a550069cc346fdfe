"""How much a single file may cost to extract."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExtractLimits:
    """Bounds that keep one hostile or huge file from stalling or exhausting the indexer.

    `pdf_memory_mb` is the address space the PDF child may use on top of what it had after
    start-up (enforced on POSIX only).
    """

    max_bytes: int = 100 * 1024 * 1024
    pdf_timeout_s: float = 120.0
    pdf_memory_mb: int = 2048


DEFAULT_LIMITS = ExtractLimits()
