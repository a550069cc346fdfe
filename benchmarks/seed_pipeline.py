"""The seed's LangChain indexing pipeline, timed; run by index_throughput.py in .bench/seed-venv.

PyPDFLoader (pypdf, one Document a page) -> RecursiveCharacterTextSplitter(1000, 100) ->
HuggingFaceEmbeddings(all-MiniLM-L6-v2 from a local folder) -> Chroma persisted in a
temporary folder. Imports nothing of desktop_rag: it runs in a venv of its own.

    python seed_pipeline.py MODEL_DIR PDF_FOLDER

Prints one JSON object on stdout: `load_model_s` (not counted in the run, as the other
pipeline's model is loaded before timing too), `seconds` (load + split + embed + store),
`load_s` and `store_s` (embedding included) of those, `files`, `pages` (Documents the
loader made), `empty_pages`, `chunks`, `chars` (mean, median, min, max characters a chunk)
`tokens` (mean and max word pieces a chunk, special tokens included, and how many
exceed the model's `limit` and are cut) and the versions used.
"""

from __future__ import annotations

import os

# Before chromadb or huggingface_hub are imported: nothing leaves this machine.
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import json
import statistics
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

PACKAGES = ("langchain-community", "langchain-text-splitters", "langchain-huggingface",
            "langchain-chroma", "chromadb", "pypdf", "sentence-transformers", "torch")  # fmt: skip


def main(argv: list[str]) -> int:
    model_dir, folder = argv
    import chromadb
    from langchain_chroma import Chroma
    from langchain_community.document_loaders import PyPDFLoader
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    started = time.perf_counter()
    embeddings = HuggingFaceEmbeddings(model_name=model_dir)
    embeddings.embed_query("warm up: load the model before timing")
    load_model_s = time.perf_counter() - started

    pdfs = sorted(Path(folder).rglob("*.pdf"))
    with tempfile.TemporaryDirectory(prefix="rag-seed-chroma-") as persist:
        started = time.perf_counter()
        pages = [page for pdf in pdfs for page in PyPDFLoader(str(pdf)).load()]
        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=100)
        chunks = splitter.split_documents(pages)
        loaded = time.perf_counter()
        Chroma.from_documents(
            chunks,
            embeddings,
            persist_directory=persist,
            client_settings=chromadb.config.Settings(
                anonymized_telemetry=False, is_persistent=True, persist_directory=persist
            ),
        )
        finished = time.perf_counter()
    # Outside the timing: how many chunks run past what the model reads (the tail is lost).
    model = embeddings._client
    texts = [c.page_content for c in chunks]
    tokens = [len(ids) for ids in model.tokenizer(texts, add_special_tokens=True)["input_ids"]]
    sizes = [len(c.page_content) for c in chunks] or [0]
    result = {
        "load_model_s": load_model_s,
        "seconds": finished - started,
        "load_s": loaded - started,
        "store_s": finished - loaded,
        "files": len(pdfs),
        "pages": len(pages),
        "empty_pages": sum(not p.page_content.strip() for p in pages),
        "chunks": len(chunks),
        "chars": {
            "mean": statistics.fmean(sizes),
            "median": statistics.median(sizes),
            "min": min(sizes),
            "max": max(sizes),
        },
        "tokens": {
            "mean": statistics.fmean(tokens or [0]),
            "max": max(tokens or [0]),
            "over_limit": sum(t > model.max_seq_length for t in tokens),
            "limit": model.max_seq_length,
        },
        "versions": {name: version(name) for name in PACKAGES},
    }
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
