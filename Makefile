# Developer shortcuts; CI runs .ci/run.
.PHONY: help build demo test test-race lint bench bench-quick bench-go

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## build the dynpool binary into ./bin
	CGO_ENABLED=0 go build -o bin/dynpool ./cmd/dynpool

demo: ## run a deployment on dynamic workers end to end
	go run ./cmd/dynpool demo

test: ## run the tests
	go test ./...

test-race: ## run the tests with the race detector, as CI does
	go test -race ./...

lint: ## gofmt, go vet and staticcheck
	test -z "$$(gofmt -l $$(git ls-files '*.go'))"
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

bench: ## measure this machine: the dynpool bench table (a few minutes; see docs/performance.md)
	CGO_ENABLED=0 go build -o bin/dynpool ./cmd/dynpool
	./bin/dynpool bench

bench-quick: ## the dynpool bench table at CI sizes (seconds)
	CGO_ENABLED=0 go build -o bin/dynpool ./cmd/dynpool
	./bin/dynpool bench --quick

bench-go: ## run the Go benchmarks of the hot paths (compare runs with benchstat)
	go test -run '^$$' -bench . -benchmem ./...
