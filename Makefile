# Godwit — run `make help` for the targets.
GO ?= go

.PHONY: help build serve generate verify lint test bench bench-cdc fuzz

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 12

build: ## build bin/godwit
	$(GO) build -o bin/godwit ./cmd/godwit

serve: ## run the server on its embedded defaults (127.0.0.1:9329, ./godwit-data)
	$(GO) run ./cmd/godwit serve

generate: ## regenerate internal/api from api/model/dms-2016-01-01.json
	$(GO) run ./tools/apigen

verify: generate ## fail if the generated code is not what the generator makes from the model
	@git diff --exit-code -- internal/api || (echo "internal/api is out of date: run make generate and commit" && exit 1)
	@test -z "$$(git status --porcelain -- internal/api)" || (echo "untracked generated files in internal/api" && exit 1)

lint: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go') && exit 1)
	$(GO) vet ./...

test: ## run every test (starts throwaway PostgreSQL and MariaDB servers)
	$(GO) test -count=1 -timeout 30m ./...

ROWS ?= 2000000
RUNS ?= 1
bench: ## full-load benchmark beside the raw pipes, same run (ROWS=, RUNS=); see docs/performance.md
	$(GO) run ./cmd/godwit bench full-load --rows $(ROWS) --runs $(RUNS) --markdown

CHANGES ?= 200000
bench-cdc: ## CDC benchmark beside the CDC limits, same run (CHANGES=, RUNS=); see docs/performance.md
	$(GO) run ./cmd/godwit bench cdc --rows 1000000 --changes $(CHANGES) --runs $(RUNS) --markdown

fuzz: ## fuzz the request decoder and validation for 60 s
	$(GO) test ./internal/awsjson -run '^$$' -fuzz FuzzDecodeAndValidate -fuzztime 60s
