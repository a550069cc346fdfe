"""Refuse llama.cpp libraries that use x86 instructions beyond the portable baseline.

The default build targets x86-64-v3 (AVX2, FMA, F16C, BMI2). A wheel built with
GGML_NATIVE=ON (`LLAMA_NATIVE=1`) on a newer CPU carries AVX-512, AVX-VNNI or AMX code that
dies with SIGILL on most users' computers, so an installer must never bundle one. The scan
reads the disassembly (`objdump -d`, AT&T syntax) and looks for what only those extensions
have: the zmm and mask registers, EVEX-only mnemonics, VNNI dot products and AMX tiles.

    python packaging/isa_scan.py LIB [LIB ...]    # exit 1 and the offending instructions
"""

from __future__ import annotations

import platform
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

# Extension -> pattern over one instruction (mnemonic and operands) beyond x86-64-v3.
BEYOND_BASELINE: dict[str, re.Pattern[str]] = {
    "AVX-512": re.compile(
        # zmm, mask and the 16 upper xmm/ymm registers exist only with EVEX encoding.
        r"%zmm\d|%k[0-7]\b|%[xy]mm(?:1[6-9]|2\d|3[01])\b|\{1to\d+\}|"
        r"^(?:\{evex\}\s*)?(?:vpternlog|vpermt2|vpermi2|vpcompress|"
        r"vpexpand|vcompressp|vexpandp|k(?:mov|and|or|xor|xnor|not|ortest|test|shift|add|unpck)|"
        r"vpmov\w*2m|vpmovm2|vfixupimm|vgetexp|vgetmant|vrndscale|vscalef|vrange|vreduce|"
        r"vpconflict|vplzcnt|vpopcnt|vdpbf16ps|vcvtne2ps2bf16|vcvtneps2bf16|vpermb|"
        r"vpmultishiftqb|vpshldv|vpshrdv|vpdpbusd|vpdpwssd)"
    ),
    "AVX-VNNI": re.compile(r"^\{vex\}\s*vpdp(?:bus|wss)ds?\b"),
    "AMX": re.compile(
        r"^(?:ldtilecfg|sttilecfg|tileloadd\w*|tilestored|tilerelease|tilezero|tdpb\w+|tdpfp16ps)\b"
    ),
    # In no x86-64 level at all, but in -march=native of many CPUs (Zen, Ice Lake ...).
    "AES/SHA/ADX/GFNI": re.compile(
        r"^(?:v?aes(?:enc|dec|imc|keygenassist)\w*|v?pclmul\w*|sha(?:1|256)\w+|adcx|adox|"
        r"v?gf2p8\w+)\b"
    ),
}
_INSTRUCTION = re.compile(r"^\s*[0-9a-f]+:\s+(.*)$")


@dataclass
class ScanResult:
    """Instructions beyond the baseline found in one library: extension -> (count, examples)."""

    path: Path
    found: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def portable(self) -> bool:
        return not self.found

    def summary(self) -> str:
        if self.portable:
            return f"{self.path.name}: x86-64-v3 or lower"
        parts = [
            f"{ext} ({count} instructions, e.g. {'; '.join(self.examples[ext])})"
            for ext, count in sorted(self.found.items())
        ]
        return f"{self.path.name}: uses {', '.join(parts)}"


def scan_disassembly(lines, path: Path = Path("?")) -> ScanResult:
    """Scan objdump's `-d --no-show-raw-insn` output (any iterable of lines)."""
    result = ScanResult(path)
    for line in lines:
        match = _INSTRUCTION.match(line)
        if match is None:
            continue
        insn = match.group(1).strip()
        for ext, pattern in BEYOND_BASELINE.items():
            if pattern.search(insn):
                result.found[ext] = result.found.get(ext, 0) + 1
                examples = result.examples.setdefault(ext, [])
                if len(examples) < 3:
                    examples.append(re.sub(r"\s+", " ", insn))
                break
    return result


def scan_library(path: Path) -> ScanResult:
    """Disassemble `path` with objdump and scan it (raises RuntimeError without objdump)."""
    objdump = shutil.which("objdump") or shutil.which("llvm-objdump")
    if objdump is None:
        raise RuntimeError(
            "objdump is needed to check that llama.cpp's libraries are portable "
            "(Debian/Ubuntu: sudo apt install binutils; macOS: xcode-select --install)"
        )
    with subprocess.Popen(
        [objdump, "-d", "--no-show-raw-insn", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        errors="replace",
    ) as proc:
        assert proc.stdout is not None
        result = scan_disassembly(proc.stdout, path)
    if proc.returncode != 0:
        raise RuntimeError(f"objdump could not read {path}")
    return result


def applies_here() -> bool:
    """The baseline is an x86-64 one; other machines' builds are not scanned."""
    return platform.machine().lower() in ("x86_64", "amd64")


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    results = [scan_library(Path(a)) for a in argv]
    for result in results:
        print(result.summary(), file=sys.stdout if result.portable else sys.stderr)
    return 0 if all(r.portable for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
