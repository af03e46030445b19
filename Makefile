# The two commands of the README, plus the pieces they are made of.
.PHONY: run test setup build lint bench crash

run:
	scripts/run.sh

test:
	scripts/test.sh

setup:
	scripts/setup.sh --test

build:
	scripts/build.sh

lint:
	cargo fmt --all --check
	cargo clippy -p app --features ssr --all-targets -- -D warnings
	cargo clippy -p havip --all-targets -- -D warnings

# speed, measured (not asserted): see BENCHMARKS.md
# (the browser's first load first: the cargo benches rebuild target/release/havip without its site)
bench: build
	cd end2end && SERVER_BIN=./target/release/havip npx playwright test --config bench.config.ts
	cargo bench -p app --features ssr --bench allocation
	cargo bench -p app --features ssr --bench observe
	cargo bench -p app --features ssr --bench replicas
	cargo bench -p havip --bench tcapi
	cargo bench -p havip --bench http
	cargo bench -p havip --bench login_flood
	cargo bench -p havip --bench push

# crash storms: SIGKILL at random moments under concurrent writes, then `havip check` and a
# comparison with every acknowledged change (make test runs 3 iterations)
crash: build
	SERVER_BIN=target/release/havip python3 end2end/crash/crash.py $(or $(ITERATIONS),20)
