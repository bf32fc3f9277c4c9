# Entry points for a fresh Debian machine with the Swift toolchain on PATH.
# `make demo` and `make test` install the C libraries they need when they are missing.

SWIFT ?= swift
APT_PACKAGES := libcurl4-openssl-dev libsqlite3-dev libyaml-dev pkg-config
BIN := .build/release/loadsmoke

.PHONY: deps build demo test migrations clean

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "Installing missing packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build -c release --product loadsmoke

demo: build
	$(BIN) demo

# Every test is XCTest; without Swift Testing the run does not end on an empty "0 tests" summary.
test: deps
	$(SWIFT) test --disable-swift-testing

# Regenerates Sources/Storage/EmbeddedMigrations.swift after a change in Migrations/*.sql.
migrations:
	sh Migrations/embed.sh

clean:
	rm -rf .build
