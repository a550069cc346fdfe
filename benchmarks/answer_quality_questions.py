"""The question set of `answer_quality.py`: each question, the fact a right answer holds, the file.

`facts` lists alternatives (any one counts, case-insensitive); `all_of` lists facts that must
all be there. `file` is the file name (not the path) that holds the fact; the benchmark
checks, before it starts, that the fact really is in that file.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    question: str
    file: str
    facts: tuple[str, ...] = ()  # any of these
    all_of: tuple[str, ...] = ()  # and all of these


Q = Question
ORCHARD, RAILWAY, WELCOME = "orchard-notes.txt", "railway.rst", "welcome.md"
TYPES, CARGO = "ch03-02-data-types.md", "ch01-03-hello-cargo.md"

QUESTIONS: tuple[Question, ...] = (
    # The bundled sample (resources/sample).
    Q("How many apple trees does Hollowmere Orchard keep?", ORCHARD, ("212",)),
    Q("How many pear trees grow on the orchard's south slope?", ORCHARD, ("38",)),
    Q("What do the orchard staff call the oldest tree?", ORCHARD, ("Margery",)),
    Q("When does the apple harvest usually start at Hollowmere?", ORCHARD, ("September",)),
    Q("Who made the new oak basket for the cider press?", ORCHARD, ("cooper",)),
    Q("How many beehives stand along the east hedge?", ORCHARD, ("six", "6 ")),
    Q(
        "When did the Tansy Valley Railway open, and what did it carry?",
        RAILWAY,
        all_of=("1902", "slate"),
    ),
    Q("How long is the Tansy Valley Railway line?", RAILWAY, ("14 kilomet", "14 km")),
    Q("What is the gauge of the Tansy Valley Railway?", RAILWAY, ("600",)),
    Q("When did volunteers reopen the Tansy Valley line for visitors?", RAILWAY, ("1987",)),
    Q(
        "What is the oldest working locomotive on the Tansy Valley line called?",
        RAILWAY,
        ("Corrie",),
    ),
    Q("How long does the Tansy Valley round trip take?", RAILWAY, ("95",)),
    Q(
        "How does Desktop RAG handle deleted files, and does anything leave my computer?",
        WELCOME,
        ("nothing leaves", "not leave", "never leave", "no network", "stays on", "stay on"),
    ),
    Q("Which file formats can Desktop RAG read?", WELCOME, ("PDF",)),
    # The Rust book (../shared/corpus/rust-book).
    Q("What is the default integer type in Rust?", TYPES, ("i32",)),
    Q("What is the default floating-point type in Rust?", TYPES, ("f64",)),
    Q("How many bytes is Rust's char type?", TYPES, ("4 bytes", "four bytes")),
    Q(
        "What naming style does Rust use for function and variable names?",
        "ch03-03-how-functions-work.md",
        ("snake case", "snake_case"),
    ),
    Q(
        "What does a Rust program do by default when a panic occurs?",
        "ch09-01-unrecoverable-errors-with-panic.md",
        ("unwind",),
    ),
    Q(
        "What does the rustfmt tool do?",
        "appendix-04-useful-development-tools.md",
        ("format",),
    ),
    Q("What does Rc<T> stand for?", "ch15-04-rc.md", ("reference count",)),
    Q(
        "Which Cargo command checks that code compiles without producing an executable?",
        CARGO,
        ("cargo check",),
    ),
    Q("Where does cargo build put the executable of a debug build?", CARGO, ("target/debug",)),
    Q("What does TOML stand for?", CARGO, ("Obvious",)),
    Q("Which macro creates a new vector that holds given values?", "ch08-01-vectors.md", ("vec!",)),
    Q("Which tool installs Rust on Linux or macOS?", "ch01-01-installation.md", ("rustup",)),
    Q(
        "What kind of tool is Clippy?",
        "appendix-04-useful-development-tools.md",
        ("lint",),
    ),
    Q(
        "What function does Rust call automatically when a value goes out of scope?",
        "ch04-01-what-is-ownership.md",
        ("drop",),
    ),
    Q(
        "Which type lets you mutate data even when there are immutable references to it?",
        "ch15-05-interior-mutability.md",
        ("RefCell",),
    ),
    # NTSB accident reports (../shared/corpus/pdf/docugami_ntsb).
    Q(
        "How old was the pilot who tried to land a Piper PA-22-150 at his private airstrip?",
        "20071229X02007.pdf",
        ("85",),
    ),
    Q(
        "How many hours of total flight experience did the Piper PA-22-150 pilot report?",
        "20071229X02007.pdf",
        ("2,319", "2319"),
    ),
    Q("Which airplane had the accident in Death Valley, CA?", "20071231X02009.pdf", ("Beech",)),
    Q(
        "Near which town was the Reims F172 M destroyed?",
        "20080102X00002.pdf",
        ("Chevroux",),
    ),
    Q(
        "What did the Cessna Skyhawk do after landing on runway 04 at Wausau?",
        "20080104X00020.pdf",
        ("skid", "nosed over", "lost control"),
    ),
    Q(
        "What engine did the Cessna 210 that crashed near Arteaga, Mexico have?",
        "20080108X00029.pdf",
        ("Continental", "IO-470", "IO- 470", "260 horsepower"),
    ),
)


def holds(question: Question, text: str) -> bool:
    """True when `text` states the question's fact."""
    low = " ".join(text.lower().split())
    any_ok = not question.facts or any(f.lower() in low for f in question.facts)
    return any_ok and all(f.lower() in low for f in question.all_of)
