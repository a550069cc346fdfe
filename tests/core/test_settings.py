import json

from desktop_rag.core import settings as settings_mod
from desktop_rag.core.settings import Settings


def test_missing_file_gives_defaults(tmp_path):
    loaded, problems = settings_mod.load(tmp_path / "settings.json")
    assert loaded == Settings()
    assert problems == []


def test_round_trip_keeps_unknown_keys(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"top_k": 9, "from_the_future": {"x": 1}}))
    loaded, problems = settings_mod.load(path)
    assert loaded.top_k == 9
    assert problems == []
    settings_mod.save(path, loaded.with_changes(temperature=0.7))
    data = json.loads(path.read_text())
    assert data["from_the_future"] == {"x": 1}
    assert data["temperature"] == 0.7
    assert data["top_k"] == 9


def test_bad_values_fall_back_with_a_reason(tmp_path):
    path = tmp_path / "settings.json"
    bad = {"n_gpu_layers": "lots", "top_k": -3, "temperature": "hot", "instructions": ["x"]}
    path.write_text(json.dumps(bad))
    loaded, problems = settings_mod.load(path)
    assert loaded.n_gpu_layers == "auto"
    assert loaded.top_k == Settings().top_k
    assert loaded.temperature == Settings().temperature
    assert loaded.instructions == ""
    assert len(problems) == 4
    assert any("'instructions' must be text" in p for p in problems)
    assert any("n_gpu_layers" in p for p in problems)


def test_overlap_not_smaller_than_chunk_is_reported(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"chunk_tokens": 50, "chunk_overlap": 80}))
    loaded, problems = settings_mod.load(path)
    assert loaded.chunk_overlap < loaded.chunk_tokens
    assert any("chunk_overlap" in p for p in problems)


def test_corrupt_file_gives_defaults_and_a_problem(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("{not json")
    loaded, problems = settings_mod.load(path)
    assert loaded == Settings()
    assert problems and "not valid JSON" in problems[0]


def test_manual_gpu_layers_accepted(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"n_gpu_layers": 20}))
    loaded, _ = settings_mod.load(path)
    assert loaded.n_gpu_layers == 20


def test_lora_scale_round_trips_and_takes_any_finite_number(tmp_path):
    path = tmp_path / "settings.json"
    settings_mod.save(path, Settings(lora_path="/ft/legal.gguf", lora_scale=-0.5))
    loaded, problems = settings_mod.load(path)
    assert (loaded.lora_path, loaded.lora_scale, problems) == ("/ft/legal.gguf", -0.5, [])
    path.write_text(json.dumps({"lora_scale": 2}))
    assert settings_mod.load(path)[0].lora_scale == 2.0
    for bad in ("strong", True, None):
        path.write_text(json.dumps({"lora_scale": bad}))
        loaded, problems = settings_mod.load(path)
        assert loaded.lora_scale == 1.0
        assert problems == ["setting 'lora_scale' must be a number; using the default 1.0"]
    path.write_text('{"lora_scale": Infinity}')  # Python's json reads it; a scale it is not
    assert settings_mod.load(path)[0].lora_scale == 1.0
