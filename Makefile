# ampc: `make demo` runs the main job on the bundled catalog, `make test` runs every test.
# Both create .venv with a Python that durable-rules 2.0.28 builds on (3.10 to 3.12).

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# First interpreter on PATH (or under pyenv) whose version is >= 3.10 and < 3.13.
FIND_PYTHON = for p in $(PYTHON) python3.12 python3.11 python3.10 python3 \
		$(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3) \
		$(wildcard $(HOME)/.pyenv/versions/3.11*/bin/python3) \
		$(wildcard $(HOME)/.pyenv/versions/3.10*/bin/python3); do \
	  if command -v $$p >/dev/null 2>&1 && \
	     $$p -c 'import sys; sys.exit(not ((3, 10) <= sys.version_info[:2] < (3, 13)))' 2>/dev/null; then \
	    echo $$p; break; fi; done

.PHONY: demo test docs browser bench fuzz validate lint clean

$(STAMP): pyproject.toml
	@py="$$($(FIND_PYTHON))"; \
	if [ -z "$$py" ]; then \
	  echo "error: ampc needs Python 3.10, 3.11 or 3.12 (durable-rules 2.0.28 does not build on 3.13+)." >&2; \
	  echo "       Install one, or point at it: make PYTHON=/path/to/python3.12 demo" >&2; exit 1; fi; \
	echo "using $$py ($$($$py --version))"; \
	rm -rf $(VENV) && $$py -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/ampc validate
	@echo; echo "--- the inverter catalog (Part II line 3) ---"
	$(BIN)/ampc classify examples/catalog.csv --as-of 2025-06-30
	$(BIN)/ampc explain examples/catalog.csv --product INV-SUN-250 --as-of 2025-06-30
	$(BIN)/ampc explain examples/catalog.csv --product INV-480-1000 --as-of 2025-06-30
	@echo; echo "--- one product of every Part II line, and one just outside every threshold ---"
	$(BIN)/ampc classify examples/catalog_part_ii.yaml examples/catalog_minerals.yaml
	@echo; echo "--- the decision records (JSON lines, build/records.jsonl), decided again from their own inputs ---"
	@mkdir -p build
	-$(BIN)/ampc classify examples/catalog.csv examples/catalog_part_ii.yaml examples/catalog_minerals.yaml \
	  examples/catalog_with_errors.csv --as-of 2025-06-30 --format jsonl -o build/records.jsonl
	$(BIN)/ampc verify build/records.jsonl
	@echo; echo "--- the Form 7207 worksheet for 2025, from a catalog and a sales ledger ---"
	$(BIN)/ampc credit --catalog examples/credit/catalog.yaml --sales examples/credit/sales.csv --tax-year 2025
	@echo; echo "--- what the 2025 act changed, product by product ---"
	$(BIN)/ampc rules diff 2024-01 2025-12 --catalog examples/catalog_2025_amendments.yaml
	@echo; echo "--- a catalog with bad rows: each is reported with its row and fix, the rest decided (exit 1) ---"
	-$(BIN)/ampc classify examples/catalog_with_errors.csv --as-of 2025-06-30
	@echo; echo "--- a catalog as a spreadsheet writes it (headers and values in words; one typo, exit 1), to a workbook ---"
	-$(BIN)/ampc classify examples/catalog_in_words.csv --as-of 2025-06-30 -o build/decisions.xlsx
	$(BIN)/ampc credit --catalog examples/credit/catalog.yaml --sales examples/credit/sales.csv --tax-year 2025 \
	  -o build/worksheet.xlsx
	@echo; echo "--- overlaps and gaps between the class rules of each kind, each with a witness product ---"
	$(BIN)/ampc rules check | tail -n 4
	@echo; echo "--- the web page and the HTTP API: start the server with ---"
	@echo "    $(BIN)/ampc serve        # then open http://127.0.0.1:8000/ (API docs at /docs)"

test: $(STAMP) browser
	$(BIN)/ampc validate
	AMPC_REQUIRE_BROWSER=1 $(BIN)/python -m pytest
	$(MAKE) --no-print-directory docs

# The docs site: the hook in mkdocs.yml (engine/ampc/docs/hook.py) generates the pages from rules/ first.
# NO_MKDOCS_2_WARNING silences mkdocs-material's end-of-life banner (not a warning about the site).
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# Headless Chromium for the browser tests (tests/test_site.py, tests/test_web_browser.py), Debian's
# chromium and chromium-driver packages. Installing them needs root (as in the CI container) or sudo:
# as another user, run `sudo apt-get install -y chromium chromium-driver` once, or point AMPC_CHROMIUM
# at a Chromium or Chrome binary (and AMPC_CHROMEDRIVER at its driver).
browser:
	@(command -v chromium >/dev/null 2>&1 || [ -n "$$AMPC_CHROMIUM" ]) && \
	  (command -v chromedriver >/dev/null 2>&1 || [ -n "$$AMPC_CHROMEDRIVER" ]) || \
	  (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver)

validate: $(STAMP)
	$(BIN)/ampc validate

bench: $(STAMP)
	$(BIN)/python bench/classify_bench.py

# The long fuzz run: 10,000 catalog rows, 2,000 ledger rows, 1,000 rule mutations (tests/test_fuzz.py's generators).
fuzz: $(STAMP)
	$(BIN)/python bench/fuzz_bench.py

lint: $(STAMP)
	$(BIN)/ruff check engine tests bench

clean:
	rm -rf $(VENV) site .pytest_cache .hypothesis
