# Every target creates the virtual environment on first use, from pyproject.toml alone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EVAL_INDEX ?= $(CURDIR)/.eval-index
EVAL_OUT ?= eval-out
# axe-core, the accessibility rules the browser tests run (tests/ui/test_accessibility.py): from npm at setup time,
# never at test time. Licence MPL-2.0 (.cache/axe/node_modules/axe-core/LICENSE)
AXE_VERSION ?= 4.14.1
AXE_JS := .cache/axe/node_modules/axe-core/axe.min.js

.PHONY: setup axe test test-all lint eval eval-ci eval-test eval-rerank train-router train-reranker export-encoder accept-baseline bench bench-corpus bench-ingest bench-ingest-corpus bench-growth bench-encoders bench-load bench-page serve ingest-corpus clean

$(BIN)/ofsted-qa: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

setup: $(BIN)/ofsted-qa  ## install, and build the default ONNX encoder (OFSTED_QA_ENCODER) when it is not built: offline, about 20 s once
	$(BIN)/python -m vectorstore.export_encoder --missing
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory axe; \
	else echo "note: npm not found, so axe-core is not installed: the accessibility tests skip outside CI (see make axe)"; fi

axe: $(AXE_JS)  ## axe-core for the accessibility tests, from npm (needs npm; CI installs it)

$(AXE_JS):
	npm install --prefix .cache/axe --no-save --no-audit --no-fund --loglevel=error axe-core@$(AXE_VERSION)
	test -f $@

serve: setup  ## start the chat UI (builds the index from the sample corpus on first start)
	$(BIN)/python app.py

test: setup  ## the default test run (what CI runs)
	$(BIN)/python -m pytest -q

test-all: setup  ## also the slow tests and the full-corpus tests (needs ../shared/corpus)
	$(BIN)/python -m pytest -q -m "slow or corpus or not slow"

lint: setup  ## ruff (imports, pyflakes, bugbear, pyupgrade) and mypy; fails on any finding
	$(BIN)/python -m ruff check .
	$(BIN)/python -m mypy chatbot core vectorstore ingest eval cli ui train app.py benchmarks

eval: setup  ## the Q&A regression suite against the app's index, with the two baselines side by side
	$(BIN)/ofsted-qa ingest --no-progress
	$(BIN)/ofsted-qa eval --dataset eval/datasets/dev/gold.yaml --dataset eval/datasets/dev/gold_structured.yaml --out $(EVAL_OUT) --with-baselines

eval-ci: setup  ## the regression suite on a fresh index of the sample corpus; fails on a regression
	rm -rf $(EVAL_INDEX)
	OFSTED_QA_INDEX_DIR=$(EVAL_INDEX) $(BIN)/ofsted-qa ingest --no-progress
	OFSTED_QA_INDEX_DIR=$(EVAL_INDEX) $(BIN)/ofsted-qa eval --dataset eval/datasets/dev/gold.yaml --dataset eval/datasets/dev/gold_structured.yaml --out $(EVAL_OUT) --with-baselines

eval-test: setup  ## dev, its blind rewrites, the blind test set and the routing set side by side (needs ../shared/corpus)
	$(BIN)/python -m eval.suite --out $(EVAL_OUT)-test

eval-rerank: setup  ## the reranker against the fused ranking alone, on dev and the blind test set, one run (needs ../shared/corpus)
	$(BIN)/python -m eval.rerank_compare --out $(EVAL_OUT)-rerank

train-reranker: setup  ## retrain the reranker (chatbot/data/reranker/) from ../shared/corpus: about 40 minutes on 2 cores
	$(BIN)/pip install --quiet -e '.[train]'
	$(BIN)/python -m train.reranker

export-encoder: setup  ## export the packaged MiniLM to ONNX again, fp32 and int8, for OFSTED_QA_ENCODER (into OFSTED_QA_ENCODER_DIR or ~/.cache/ofsted-qa/encoders)
	$(BIN)/python -m vectorstore.export_encoder

train-router: setup  ## refit the learned route model (chatbot/data/route_model.npz) from eval/datasets/dev/routing.yaml
	$(BIN)/python -m chatbot.intent build

accept-baseline: setup  ## record the current results as the baseline, on purpose
	rm -rf $(EVAL_INDEX)
	OFSTED_QA_INDEX_DIR=$(EVAL_INDEX) $(BIN)/ofsted-qa ingest --no-progress
	OFSTED_QA_INDEX_DIR=$(EVAL_INDEX) $(BIN)/ofsted-qa eval --dataset eval/datasets/dev/gold.yaml --dataset eval/datasets/dev/gold_structured.yaml --out $(EVAL_OUT) --accept-baseline

bench: setup  ## benchmarks: retrieval and answer latency, ingest throughput (prints ratios)
	$(BIN)/python -m benchmarks.run

bench-corpus: setup  ## benchmarks against the app's index (run `make ingest-corpus` first for the full corpus)
	$(BIN)/python -m benchmarks.run --index $${OFSTED_QA_INDEX_DIR:-data/index} --out benchmarks/results-corpus.json

bench-ingest: setup  ## ingest 10% of ../shared/corpus (83 reports): chunks/s against the encoder's own rate, peak RSS, the old one-at-a-time ingest, the cost of adding one report as the index grows (about 10 min on 2 cores)
	$(BIN)/python -m benchmarks.ingest --fraction 0.1 --serial-baseline

bench-ingest-corpus: setup  ## the same over all 829 reports from an empty index, adding one report at 10%, 50% and 100% (about 40 min on 2 cores); writes benchmarks/results-ingest-corpus.json
	$(BIN)/python -m benchmarks.ingest --fraction 1 --checkpoints 0.1,0.5,1.0 --out benchmarks/results-ingest-corpus.json

bench-growth: setup  ## question and answer p95 and a cold start (process start to first answer) at 10%, 50% and 100% of ../shared/corpus, plotted to benchmarks/growth.png (builds the full index: about 40 min on 2 cores)
	$(BIN)/python -m benchmarks.growth --fractions 0.1,0.5,1.0

bench-encoders: export-encoder  ## the encoders side by side: passages/s, query p95, cold start, RSS against torch; writes benchmarks/results-encoders.json
	$(BIN)/python -m benchmarks.encoders

bench-load: setup  ## load: 20 chat sessions for 60 s against the real app on loopback, beside one session alone (SESSIONS=, SECONDS=)
	$(BIN)/python -m benchmarks.load --sessions $(or $(SESSIONS),20) --seconds $(or $(SECONDS),60)

bench-page: setup  ## the page view: a cited page rendered with its paragraph highlighted, cold and cached, beside PyMuPDF's bare render
	$(BIN)/python -m benchmarks.page_render

ingest-corpus: setup  ## ingest the full shared corpus (829 reports)
	$(BIN)/ofsted-qa ingest ../shared/corpus/reports --manifest ../shared/corpus/manifest.csv

clean:
	rm -rf $(EVAL_INDEX) $(EVAL_OUT) $(EVAL_OUT)-test .eval-cache .pytest_cache
