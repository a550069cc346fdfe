"""Full garbage-collector passes stay off while the engine loads, and back on after."""

from __future__ import annotations

import gc

import pytest

from tests.app_fakes import FakeChatEngine, build_fake_services


@pytest.mark.parametrize("fail_load", ["", "not a valid GGUF model file"])
def test_collection_pauses_for_the_load_and_resumes_after(qtbot, data_dir, fake_kb, fail_load):
    engine = FakeChatEngine(fake_kb, fail_load=fail_load)
    services = build_fake_services(data_dir, fake_kb, engine)
    done = services.chat.model_failed if fail_load else services.chat.model_loaded
    try:
        with qtbot.waitSignal(done, timeout=5000):
            services.start()
        assert engine.gc_enabled_during_load == [False]
        assert gc.isenabled()  # a failed load must not leave collection off for good
        assert gc.get_freeze_count() > 0
    finally:
        assert services.shutdown()
