# Top-level Makefile: delegates to the extension, the daemon and the scripts
# under docker/ (local deployment) and regress/ (tests).
#   make deps   install the Debian packages the project needs (idempotent)
#   make        build the extension and gatewayd
#   make run    build, install, start a local cluster under ./.data and gatewayd
#   make test   every test suite against temporary clusters
#   make psql   psql on the local cluster
#   make bench  benchmarks (results go to docs/BENCHMARKS.md by hand)

.PHONY: all deps ext gatewayd www install run psql test bench clean

all: ext gatewayd www

deps:
	@bash docker/install-deps.sh

ext:
	$(MAKE) -C pg_aistudio

gatewayd:
	@if [ -f gatewayd/Makefile ]; then $(MAKE) -C gatewayd; fi

www:
	@if [ -f www/Makefile ]; then $(MAKE) -C www; fi

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
	$(MAKE) -C pg_aistudio clean
	@if [ -f gatewayd/Makefile ]; then $(MAKE) -C gatewayd clean; fi
