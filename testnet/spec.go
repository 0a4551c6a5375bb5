package testnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"runtime"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/miner/pow"
)

// Chain-spec choices of a local testnet.
const (
	networkName = "localnet"
	// regtestPowLimit is the easiest target, regtest's.
	regtestPowLimit = 0x207fffff
	// maturity is short so that mined coins are spendable within a few
	// minutes of blocks.
	maturity = 10
	// halfLifeBlocks: ASERT halves or doubles the difficulty when blocks
	// run this many spacings behind or ahead.
	halfLifeBlocks = 20
	// futureBlocks: a block may be this many spacings ahead of a node's
	// clock (the clock-skew scenario crosses it).
	futureBlocks = 12
)

// measureHashRate returns the hashes per second of threads mining at
// once on this machine.
func measureHashRate(ctx context.Context, threads int, d time.Duration) float64 {
	return pow.Benchmark(ctx, threads, d).HashesPerSec
}

// startingBits returns the compact target at which hashRate hashes per
// second find a block every spacing on average, no easier than regtest's
// limit.
func startingBits(hashRate float64, spacing time.Duration) uint32 {
	limit, _, _ := consensus.CompactToBig(regtestPowLimit)
	work := hashRate * spacing.Seconds()
	if work < 2 {
		return regtestPowLimit
	}
	// Expected hashes per block = 2^256 / (target+1).
	w, _ := new(big.Float).SetFloat64(work).Int(nil)
	target := new(big.Int).Div(new(big.Int).Lsh(big.NewInt(1), 256), w)
	if target.Cmp(limit) > 0 {
		return regtestPowLimit
	}
	return consensus.BigToCompact(target)
}

// specFile is the chain spec written for the nodes.
type specFile struct {
	Name               string      `json:"name"`
	Base               string      `json:"base"`
	TargetSpacing      string      `json:"target_spacing"`
	Difficulty         string      `json:"difficulty"`
	AsertHalfLife      string      `json:"asert_half_life,omitempty"`
	PowLimitBits       string      `json:"pow_limit_bits"`
	MaxFutureBlockTime string      `json:"max_future_block_time"`
	Subsidy            int         `json:"subsidy"`
	CoinbaseMaturity   int32       `json:"coinbase_maturity"`
	MDNS               bool        `json:"mdns"`
	Genesis            genesisSpec `json:"genesis"`
}

type genesisSpec struct {
	Time    int64  `json:"time"`
	Message string `json:"message"`
	Bits    string `json:"bits"`
	Nonce   uint32 `json:"nonce"`
}

// makeSpec returns a fresh network's chain spec: ASERT at spacing, the
// genesis at bits, mined here once (on every core) so that no node mines
// it again; or, with fixed, a fixed difficulty at the proof-of-work limit
// (bits must be that limit), for emulated hash rate.
func makeSpec(ctx context.Context, spacing time.Duration, bits uint32, now time.Time, fixed bool) ([]byte, *chainparams.Network, error) {
	message := fmt.Sprintf("Cairn localnet %s", now.UTC().Format(time.RFC3339))
	subsidy := int64(50 * btcutil.SatoshiPerBitcoin)
	var genesis *wire.MsgBlock
	for t := now.Unix(); ; t++ {
		genesis = chainparams.NewGenesisBlock(t, bits, 0, message, subsidy)
		err := pow.Solve(ctx, genesis, 1<<32)
		if err == nil {
			break
		}
		if !errors.Is(err, pow.ErrMaxTries) {
			return nil, nil, fmt.Errorf("testnet: mine the genesis block: %w", err)
		}
	}
	difficulty, halfLife := "asert", (spacing * halfLifeBlocks).String()
	if fixed {
		difficulty, halfLife = "fixed", ""
	}
	spec := specFile{
		Name: networkName, Base: "regtest", TargetSpacing: spacing.String(), Difficulty: difficulty,
		AsertHalfLife:      halfLife,
		PowLimitBits:       fmt.Sprintf("0x%08x", regtestPowLimit),
		MaxFutureBlockTime: (spacing * futureBlocks).String(),
		Subsidy:            50, CoinbaseMaturity: maturity,
		Genesis: genesisSpec{Time: genesis.Header.Timestamp.Unix(), Message: message,
			Bits: fmt.Sprintf("0x%08x", bits), Nonce: genesis.Header.Nonce},
	}
	raw, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	net, err := chainparams.ParseSpec(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("testnet: the chain spec written does not parse: %w", err)
	}
	return raw, net, nil
}

// minerThreads is how many threads each of m miners gets on this machine.
func minerThreads(m int) int { return max(1, runtime.NumCPU()/max(m, 1)) }
