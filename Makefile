# ml4em: the two commands of the README (`make lab`, `make test`) and a few more.
# Every target creates .venv (Python 3.11 where available) and installs the course first.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.ml4em-installed
SHARED_DATA := $(abspath ../shared/data/real/eelsfitter)
# Tests read the real spectra from the local mirror beside the clone (never from the repository).
export ML4EM_DATA_DIR ?= $(if $(wildcard $(SHARED_DATA)),$(SHARED_DATA),)
PORT   ?= 8888
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
PYTEST_ARGS ?=

.PHONY: install lab test quick-test benchmarks grade-check clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,site,instructor,hub,sim,classical,image]"
	@touch $(STAMP)

lab: $(STAMP)
	@echo "Starting JupyterLab on the course. Open the URL printed below (with its token) in your browser."
	$(BIN)/jupyter lab --ip=127.0.0.1 --port=$(PORT) --no-browser $(ROOT_FLAG) \
		--ServerApp.root_dir=$(CURDIR) --LabApp.default_url=/lab/tree/tutorials

test: $(STAMP)
	@bash tools/setup-browser.sh
	@bash tools/setup-sandbox.sh
	@bash tools/setup-hub.sh
	ML4EM_QUICK=1 $(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

grade-check: $(STAMP)
	ML4EM_QUICK=1 $(BIN)/ml4em grade-check

# Every speed and memory figure of the course; each script prints JSON (its last line a summary).
benchmarks: $(STAMP)
	$(BIN)/python benchmarks/notebooks.py
	$(BIN)/python benchmarks/kmeans.py
	$(BIN)/python benchmarks/replicas.py
	$(BIN)/python benchmarks/images.py
	$(BIN)/python benchmarks/sandbox.py
	$(BIN)/python benchmarks/scanning.py
	$(BIN)/python benchmarks/phase_retrieval.py
	$(BIN)/python benchmarks/morphology.py
	$(BIN)/python benchmarks/classical.py
	$(BIN)/python benchmarks/bandgap_fits.py
	$(BIN)/python benchmarks/spectral_image.py
	$(BIN)/python benchmarks/map_calibration.py

clean:
	rm -rf release submitted autograded feedback gradebook.db .pytest_cache test-output

.PHONY: site slides

# The course website (lectures, student versions of the tutorials, glossary, assignment, slides) into _site/,
# built offline; open _site/index.html. The hub address of the launch links is set in site/site.cfg.
site: $(STAMP)
	$(BIN)/python -m ml4em.site build --out _site

# One reveal.js slide show per lecture (1280 x 720, works offline) into lectures/_build/slides/.
slides: $(STAMP)
	$(BIN)/python -m ml4em.site slides --out lectures/_build/slides
