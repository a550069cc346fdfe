"""How much a single file may cost to extract."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExtractLimits:
    """Bounds that keep one hostile or huge file from stalling or exhausting the indexer.

    `pdf_memory_mb` is the address space the PDF child may use on top of what it had after
    start-up (enforced on POSIX only). `pdf_timeout_s` is what one page (or opening the file)
    may take; a whole file gets it plus `pdf_seconds_per_page` for each of its pages (pypdf
    reads about four pages a second on one core: a 4,500-page manual gets 38 minutes).
    """

    max_bytes: int = 100 * 1024 * 1024
    pdf_timeout_s: float = 120.0
    pdf_memory_mb: int = 2048
    pdf_seconds_per_page: float = 0.5


DEFAULT_LIMITS = ExtractLimits()
