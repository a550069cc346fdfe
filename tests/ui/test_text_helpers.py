"""Pure helpers behind the chat view and status bar."""

from __future__ import annotations

from desktop_rag.core.llm.gpu.fit import FitPlan
from desktop_rag.ui.markdown_text import link_citations, snippet, source_label, source_link
from desktop_rag.ui.message_widget import MessageWidget
from desktop_rag.ui.status_bar import format_bytes, gpu_text, short_reason
from tests.app_fakes import fake_model_info

ANSWER = """Teal [1], see also [2] and [9].

```python
items[1] = 2
```

Use `a[2]` in code. A link [1](http://x) stays.
"""


def test_citations_become_links_outside_code_only():
    linked = link_citations(ANSWER, {1, 2})
    assert linked.splitlines()[0] == (
        "Teal [\\[1\\]](source:1), see also [\\[2\\]](source:2) and [9]."
    )
    assert "items[1] = 2" in linked and "`a[2]`" in linked
    assert "[1](http://x)" in linked
    assert source_link("source:2") == (2, None) and source_link("http://x") is None
    assert source_link("source:2:5") == (2, 5)


def test_markdown_answers_render_tables_and_code(qtbot):
    from desktop_rag.core.chats.history import Message

    widget = MessageWidget(Message(1, 1, "assistant", "| a | b |\n|---|---|\n| 1 | 2 |\n"))
    qtbot.addWidget(widget)
    from PySide6.QtGui import QTextDocument

    doc = QTextDocument()
    doc.setMarkdown(widget.body.text())
    assert "<table" in doc.toHtml()


def test_labels_and_sizes():
    assert snippet("a  b\n c") == "a b c"
    assert snippet("word " * 100, 20).endswith("…")
    assert source_label("/d/report.pdf", 3) == "report.pdf, page 3"
    assert format_bytes(512) == "512 B" and format_bytes(3 * 1024 * 1024) == "3.0 MB"


def test_gpu_text_says_cpu_only_with_the_reason():
    assert gpu_text(fake_model_info()) == ("CPU only", "no NVIDIA GPU found")
    reason = "No NVIDIA GPU found (NVML unavailable: library missing): running on the CPU"
    assert short_reason(reason) == "No NVIDIA GPU found"
    info = fake_model_info()
    gpu = type(info)(
        **{**info.__dict__, "gpu_layers": 31, "plan": FitPlan(31, 31, 1 << 30, "All 31 layers fit")}
    )
    assert gpu_text(gpu) == ("GPU 31/31 layers", "All 31 layers fit")
