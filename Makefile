# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test venv lint bench bench-diff screenshots clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	$(BIN)/python -m pip install -qq -e '.[test,lint,postgres,example]'
	@# mysqlclient compiles against libmariadb-dev; without it the MariaDB run is skipped (and said so).
	@$(BIN)/python -m pip install -qq -e '.[mysql]' >/dev/null 2>&1 \
		|| echo "note: mysqlclient did not build (install libmariadb-dev and pkg-config); MariaDB runs will be skipped"
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

test: $(STAMP)
	@VENV=$(VENV) bash scripts/test.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy config_versions tests example_project

demo: $(STAMP)
	@VENV=$(VENV) bash scripts/demo.sh

bench: $(STAMP)
	@VENV=$(VENV) bash scripts/bench.sh

bench-diff: $(STAMP)
	$(BIN)/python -m pip install -qq -e '.[bench]'
	$(BIN)/python bench/diff_bench.py

screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) .venv313 build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
