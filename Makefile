# Cairn build targets. Everything runs with the machine's Go toolchain.
export GOTOOLCHAIN := local

GO        ?= go
BIN       := bin/cairn
PKGS      := ./...
# Tests that start real processes or kill children live behind the e2e tag's
# runtime check; -race covers every package.
TESTFLAGS ?= -race -count=1 -timeout 25m

.PHONY: all build test vet lint bench run soak fuzz clean

all: build

# cairn --version names the commit and the build date.
COMMIT     := $(shell git rev-parse --short=12 HEAD 2>/dev/null)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
BUILD_DATE := $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS    := -X main.commit=$(COMMIT) -X main.buildDate=$(BUILD_DATE)

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/cairn

vet:
	$(GO) vet $(PKGS)

lint: vet
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

test: lint build
	$(GO) test $(TESTFLAGS) $(PKGS)

# Whole-system benchmarks run once (each measures for a while and reports
# its own figures); micro-benchmarks run with the default benchtime.
bench:
	$(GO) test -run '^$$' -bench 'ConnectP2WPKH|MinerScaling|AcceptP2WPKH|AcceptFullPool' -benchtime 1x -timeout 60m ./chain/ ./miner/pow/ ./mempool/
	$(GO) test -run '^$$' -bench 'BlockTemplate' ./mempool/
	$(GO) test -run '^$$' -bench 'LongChain|AddrHistory' -benchtime 1x -timeout 60m ./chain/
	$(GO) test -run '^$$' -bench 'ElectrumHistory' -benchtime 1x ./electrum/
	$(GO) test -run '^$$' -bench 'ExplorerAddress' -benchtime 1x ./explorer/
	$(GO) test -run '^$$' -bench 'LargeWallet' -benchtime 1x -timeout 30m ./wallet/
	$(GO) test -run '^$$' -bench 'InitialSync' -benchtime 1x -timeout 180m ./cmd/cairn/
	$(GO) test -run '^$$' -bench 'HeaderHash|PlainDoubleSHA256|Block' ./miner/...
	$(GO) test -run '^$$' -bench 'Propagation8|BlockRelay|InitialSync10k|LowWorkHeaders|HostilePeers' -benchtime 1x ./p2p/
	$(GO) test -run '^$$' -bench 'BanList' ./p2p/

FUZZTIME ?= 30s

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeBlock$$' -fuzztime $(FUZZTIME) ./chain/consensus
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeTx$$' -fuzztime $(FUZZTIME) ./chain/consensus
	$(GO) test -run '^$$' -fuzz '^FuzzProcessBlock$$' -fuzztime $(FUZZTIME) ./chain
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeStatus$$' -fuzztime $(FUZZTIME) ./p2p
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeHeadersRequest$$' -fuzztime $(FUZZTIME) ./p2p
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeGetBlocks$$' -fuzztime $(FUZZTIME) ./p2p
	$(GO) test -run '^$$' -fuzz '^FuzzReadHeaders$$' -fuzztime $(FUZZTIME) ./p2p
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeCompactBlock$$' -fuzztime $(FUZZTIME) ./p2p
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeBlockTxnRequest$$' -fuzztime $(FUZZTIME) ./p2p
	$(GO) test -run '^$$' -fuzz '^FuzzReadTxReply$$' -fuzztime $(FUZZTIME) ./p2p
	$(GO) test -run '^$$' -fuzz '^FuzzReadInv$$' -fuzztime $(FUZZTIME) ./p2p
	$(GO) test -run '^$$' -fuzz '^FuzzReadWant$$' -fuzztime $(FUZZTIME) ./p2p
	$(GO) test -run '^$$' -fuzz '^FuzzReadBlockFrame$$' -fuzztime $(FUZZTIME) ./p2p

# A local network of three nodes, two of them mining, in ./localnet; the
# live table runs until Ctrl-C, which stops every node.
run: build
	./$(BIN) testnet up --nodes 3 --miners 2

# A long soak: a local network of SOAK_NODES nodes (two mining) under
# transaction load, split and healed, with a node killed and restarted;
# then it checks nothing was lost and prints the figures. SOAK_ARGS take
# any of `cairn testnet soak`'s flags (--duration, --rate,
# --partition-every, --partition-for, --kill, --settle, --json, ...).
SOAKDIR     ?= ./soaknet
SOAK_NODES  ?= 4
SOAK_SPACING ?= 2s
SOAK_ARGS   ?=

soak: build
	./$(BIN) testnet up --detach --force --dir $(SOAKDIR) --nodes $(SOAK_NODES) --miners 2 --spacing $(SOAK_SPACING)
	./$(BIN) testnet soak --dir $(SOAKDIR) $(SOAK_ARGS); status=$$?; \
	./$(BIN) testnet down --dir $(SOAKDIR); exit $$status

clean:
	rm -rf bin
