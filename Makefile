# Top-level Makefile: delegates to the extension, the daemon and the scripts
# under docker/ (local deployment) and regress/ (tests).
#   make deps   install the Debian packages the project needs (idempotent)
#   make        build the extension, gatewayd, the plugin SDK and examples, and the documentation site
#   make plugins  the C plugin SDK (plugins/sdk) and the example plugins (plugins/examples)
#   make docs   render docs/ into build/docs (served by gatewayd on DOCS_PORT)
#   make run    build, install, start a local cluster under ./.data and gatewayd
#   make test   every test suite against temporary clusters
#   make psql   psql on the local cluster
#   make bench  benchmarks (results go to docs/BENCHMARKS.md by hand)

.PHONY: all deps ext gatewayd plugins www docs install run psql test bench clean

all: ext gatewayd plugins www docs

deps:
	@bash docker/install-deps.sh

ext:
	$(MAKE) -C pg_aistudio

gatewayd:
	@if [ -f gatewayd/Makefile ]; then $(MAKE) -C gatewayd; fi

plugins:
	$(MAKE) -C plugins/sdk
	$(MAKE) -C plugins/examples

www:
	@if [ -f www/Makefile ]; then $(MAKE) -C www; fi

# The documentation site, rendered at build time with Debian's cmark-gfm
# (tools/docsite/render.mjs); a page that fails to render, or a broken
# internal link, fails the build. Rebuilt when a document, a docs/
# directory (files added or removed) or the renderer changes.
DOCS_SRC := $(shell find docs/ \( -name '.*' -prune \) -o \( -type d -o -name '*.md' -o -name openapi.json \) -print 2>/dev/null)
DOCSITE  := $(wildcard tools/docsite/*.mjs)

docs: build/docs/index.html

build/docs/index.html: $(DOCS_SRC) $(DOCSITE)
	node tools/docsite/render.mjs docs build/docs

install: all
	$(MAKE) -C pg_aistudio install

run: deps
	$(MAKE) install
	@bash docker/local-run.sh

psql:
	@bash docker/local-run.sh psql

test: deps
	$(MAKE) install
	@bash regress/run-tests.sh

bench: deps
	$(MAKE) install
	@bash bench/run.sh

clean:
	rm -rf build
	$(MAKE) -C pg_aistudio clean
	@if [ -f gatewayd/Makefile ]; then $(MAKE) -C gatewayd clean; fi
	$(MAKE) -C plugins/sdk clean
	$(MAKE) -C plugins/examples clean
