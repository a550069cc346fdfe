"""Settings applied while running: new skip patterns take effect without a restart."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from desktop_rag.core.settings import Settings
from desktop_rag.services.folder_status import FolderState
from tests.app_fakes import FakeChatEngine, build_fake_services


def test_new_skip_patterns_drop_files_and_stop_watching_them(qtbot, data_dir, tmp_path, fake_kb):
    settings = Settings()
    services = build_fake_services(data_dir, fake_kb, None, settings)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "plan.md").write_text("the plan")
    (notes / "scratch").mkdir()
    (notes / "scratch" / "idea.md").write_text("half an idea")

    def indexed() -> set[str]:
        return {Path(p).name for p in fake_kb.texts if p.startswith(str(notes.resolve()))}

    def watching(files: set[str]):
        def check():
            status = services.folders.status(str(notes.resolve()))
            assert status is not None and status.state is FolderState.WATCHING
            assert indexed() == files

        return check

    try:
        services.index.open()
        services.folders.start()
        services.folders.add(str(notes))
        qtbot.waitUntil(watching({"plan.md", "idea.md"}), timeout=30000)

        services.apply_settings(replace(settings, ignore_patterns=("scratch/",)))
        qtbot.waitUntil(watching({"plan.md"}), timeout=30000)

        (notes / "scratch" / "more.md").write_text("another half")
        (notes / "later.md").write_text("written after the change")
        qtbot.waitUntil(watching({"plan.md", "later.md"}), timeout=30000)
        qtbot.wait(500)  # the watcher's quiet period: a late scratch/ event would show by now
        assert indexed() == {"plan.md", "later.md"}
    finally:
        assert services.shutdown()


def test_answer_settings_apply_without_reloading_the_model(qtbot, data_dir, fake_kb):
    engine = FakeChatEngine(fake_kb)
    services = build_fake_services(data_dir, fake_kb, engine)
    try:
        with qtbot.waitSignal(services.chat.model_loaded, timeout=5000):
            services.start()
        loads = len(engine.gc_enabled_during_load)
        warmer = replace(
            services.settings,
            temperature=0.8,
            repeat_penalty=1.2,
            instructions="Answer in French.",
        )
        with qtbot.assertNotEmitted(services.chat.model_loading):
            services.apply_settings(warmer)
            qtbot.waitUntil(lambda: engine.reconfigured == [warmer], timeout=5000)
        assert len(engine.gc_enabled_during_load) == loads

        with qtbot.waitSignal(services.chat.model_loaded, timeout=5000):
            services.apply_settings(replace(warmer, context_size=2048))  # this one reloads
    finally:
        assert services.shutdown()
