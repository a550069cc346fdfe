"""Start the desktop app: the window first, the heavy engine in the background after it.

Nothing here (nor in ui/ or services/) imports torch, lancedb, llama_cpp or
sentence-transformers at module level: those load on the worker threads once the window
is on screen, so it appears within a second or so.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import sys
from collections.abc import Sequence

from desktop_rag.core.install.system_libs import NO_DISPLAY, check_display_libraries, no_display
from desktop_rag.core.paths import AppPaths, app_paths


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="desktop-rag-gui", description="Desktop RAG")
    parser.add_argument("--data-dir", metavar="DIR", help="where index, settings and chats live")
    parser.add_argument(
        "--self-test", action="store_true", help="check this installation end to end and exit"
    )
    # Qt's own options (-platform, -style …) pass through to QApplication.
    args, _qt_args = parser.parse_known_args(argv)
    return args


def _setup_logging(paths: AppPaths) -> None:
    handler = logging.FileHandler(paths.logs_dir / "app.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def _self_test(args: argparse.Namespace) -> int:
    try:
        from desktop_rag.core.install import selftest
    except ModuleNotFoundError:
        print("the self-test is not part of this build", file=sys.stderr)
        return 2
    return int(selftest.run() or 0)


def main(argv: Sequence[str] | None = None) -> int:
    # First: a frozen app's child processes (model host, PDF extraction) start here too.
    multiprocessing.freeze_support()
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.self_test:
        return _self_test(args)
    # Before Qt: without its display libraries, or a display, Qt aborts with one vague line.
    problem = check_display_libraries()
    if problem is not None:
        print(problem.message(), file=sys.stderr)
        return 1
    if no_display():
        print(NO_DISPLAY, file=sys.stderr)
        return 1

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from desktop_rag.core import settings as settings_mod
    from desktop_rag.services.app_services import build_services
    from desktop_rag.ui.main_window import MainWindow, app_icon
    from desktop_rag.ui.tray import install_tray

    paths = app_paths(args.data_dir).ensure()
    _setup_logging(paths)
    settings, problems = settings_mod.load(paths.settings_file)

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("Desktop RAG")
    app.setOrganizationName("DesktopRAG")
    app.setDesktopFileName("desktop_rag")
    app.setWindowIcon(app_icon())

    services = build_services(paths, settings)
    window = MainWindow(services, settings)
    window.show()
    if settings.tray_icon:
        install_tray(window)
        app.setQuitOnLastWindowClosed(False)
    for problem in problems:
        window.status.showMessage(f"Settings: {problem}", 15000)
    # After the first paint: open the index and load the model on their threads.
    QTimer.singleShot(0, services.start)
    code = app.exec()
    services.shutdown()
    from desktop_rag.services.worker import TaskRunner

    if TaskRunner.unfinished():
        # A job ignored its cancel for the whole wait. Everything saved is committed (and the
        # index repairs an interrupted write on next open); exiting the interpreter normally
        # would destroy its running QThread, which Qt answers with an abort.
        logging.getLogger(__name__).warning("exiting with a background job still running")
        logging.shutdown()
        os._exit(int(code))
    return int(code)


if __name__ == "__main__":
    raise SystemExit(main())
