"""First run: what the app does, that nothing leaves the computer, and one button."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

WELCOME_TEXT = (
    "<h2>Chat with your own files</h2>"
    "<p>Desktop RAG reads the folders you choose (PDF, Markdown, text, code, HTML, Word) and "
    "answers questions about them, citing the file and page each answer comes from.</p>"
    "<p><b>Everything stays on this computer.</b> The index, the language model and your "
    "conversations live in a local folder; nothing is sent over the network.</p>"
    "<p>Start by adding a folder. It is indexed in the background and watched for changes; "
    "you can ask questions as soon as the first files are in.</p>"
)


class WelcomePage(QWidget):
    add_requested = Signal()
    sample_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        text = QLabel(WELCOME_TEXT)
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        # A wrapped label under an alignment flag gets no height-for-width: size it here.
        text.setFixedWidth(560)
        text.setMinimumHeight(text.heightForWidth(560))
        self.add_button = QPushButton("Add a folder…")
        self.add_button.setDefault(True)
        self.add_button.setMinimumHeight(36)
        self.sample_button = QPushButton("Try it on the sample documents")
        self.sample_button.setFlat(True)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(text, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(12)
        layout.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.sample_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)
        self.add_button.clicked.connect(self.add_requested)
        self.sample_button.clicked.connect(self.sample_requested)
