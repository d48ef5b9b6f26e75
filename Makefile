# segpipe: `make demo` runs the pipeline on a synthetic company; `make test` runs every test.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
BIN      := bin/segpipe
ACCOUNTS ?= 5000
BENCH_ACCOUNTS ?= 100000

.PHONY: build demo demo-sync test test-browser report-screenshot bench vet fmt check clean

build: $(BIN)

$(BIN): FORCE
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/segpipe

FORCE:

## demo: build, then run the whole pipeline on the synthetic company into ./segpipe-data
demo: build
	./$(BIN) demo --accounts $(ACCOUNTS)

## demo-sync: the demo on the HubSpot example, ending with a sync dry run against the demo's HubSpot
demo-sync: build
	./$(BIN) demo --accounts $(ACCOUNTS) --lake segpipe-data-hubspot --config config/examples/hubspot.yaml

## test: formatting, vet and the whole test suite
test: vet
	@unformatted=$$(gofmt -l cmd jobs internal sql config); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) test -count=1 -timeout 15m ./...

## test-browser: the demo's report.html in headless Chromium (Debian: apt-get install chromium)
test-browser:
	$(GO) vet -tags browser ./cmd/segpipe/
	$(GO) test -count=1 -tags browser -run TestReportInBrowser -v ./cmd/segpipe/

## report-screenshot: the browser test, saving the top of the demo's report as docs/report.png
report-screenshot:
	SEGPIPE_REPORT_SCREENSHOT=$(CURDIR)/docs/report.png $(GO) test -count=1 -tags browser -run TestReportInBrowser ./cmd/segpipe/

## bench: time the full load and the next nightly at $(BENCH_ACCOUNTS) accounts against their floors and targets (docs/performance.md)
bench: build
	./$(BIN) bench --accounts $(BENCH_ACCOUNTS) --out bench-$(BENCH_ACCOUNTS).json

vet:
	$(GO) vet ./...

fmt:
	gofmt -w cmd jobs internal sql config

clean:
	rm -rf bin segpipe-data segpipe-data-hubspot
