# Tongban — the two commands of the README, plus the usual helpers.
GO ?= go
BIN := bin

.PHONY: demo test build vet lint bench clean

## demo: run the whole pipeline on this machine with the embedded defaults (Ctrl-C to stop)
demo:
	$(GO) run ./cmd/tongban demo

## test: run every test (starts MariaDB if it is installed but stopped)
test:
	bash scripts/test.sh

## bench: measure the hot paths against their baselines (starts MariaDB if needed); ARGS="-rows 300000"
bench:
	bash scripts/bench.sh $(ARGS)

build:
	$(GO) build -o $(BIN)/ ./cmd/...

vet:
	gofmt -l . | (! grep .) && $(GO) vet ./...

lint: vet
	$(GO) run honnef.co/go/tools/cmd/staticcheck@latest ./...

clean:
	rm -rf $(BIN) data .demo
