package chainparams

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
)

// Spec is the chain-spec JSON file that describes a custom network. Every
// field is optional except name and genesis; missing fields take the value of
// the base network (regtest unless "base" says otherwise).
//
//	{
//	  "name": "localnet",
//	  "base": "regtest",
//	  "target_spacing": "5s",
//	  "difficulty": "asert",
//	  "asert_half_life": "1h",
//	  "pow_limit_bits": "0x207fffff",
//	  "max_future_block_time": "2h",
//	  "subsidy": 50,
//	  "halving_interval": 150,
//	  "coinbase_maturity": 100,
//	  "minimum_chain_work": "0x0",
//	  "assume_valid": "<block hash>",
//	  "prune_after_height": 1000,
//	  "bech32_hrp": "lcrn",
//	  "coin_type": 1,
//	  "p2p_port": 37333, "rpc_port": 37332,
//	  "mdns": true,
//	  "genesis": {"time": 1795305600, "message": "hello", "bits": "0x1f7fffff", "nonce": 12},
//	  "activation_heights": {"bip34": 0, "bip65": 0, "bip66": 0, "csv": 0, "segwit": 0, "taproot": 0}
//	}
//
// The genesis is either built from time, message and bits (Cairn mines it
// when nonce is absent, which is deterministic) or given whole as
// {"hex": "<serialized block>"}.
type Spec struct {
	Name               string           `json:"name"`
	Base               string           `json:"base,omitempty"`
	TargetSpacing      *Duration        `json:"target_spacing,omitempty"`
	Difficulty         string           `json:"difficulty,omitempty"`
	AsertHalfLife      *Duration        `json:"asert_half_life,omitempty"`
	PowLimitBits       *Bits            `json:"pow_limit_bits,omitempty"`
	MaxFutureBlockTime *Duration        `json:"max_future_block_time,omitempty"`
	Subsidy            *json.Number     `json:"subsidy,omitempty"`
	HalvingInterval    *int32           `json:"halving_interval,omitempty"`
	CoinbaseMaturity   *int32           `json:"coinbase_maturity,omitempty"`
	MinimumChainWork   string           `json:"minimum_chain_work,omitempty"`
	AssumeValid        string           `json:"assume_valid,omitempty"`
	PruneAfterHeight   *int32           `json:"prune_after_height,omitempty"`
	Bech32HRP          string           `json:"bech32_hrp,omitempty"`
	CoinType           *uint32          `json:"coin_type,omitempty"`
	P2PPort            *uint16          `json:"p2p_port,omitempty"`
	RPCPort            *uint16          `json:"rpc_port,omitempty"`
	MDNS               *bool            `json:"mdns,omitempty"`
	Genesis            GenesisSpec      `json:"genesis"`
	ActivationHeights  map[string]int32 `json:"activation_heights,omitempty"`
}

// GenesisSpec describes a custom network's genesis block.
type GenesisSpec struct {
	Hex     string  `json:"hex,omitempty"`
	Time    int64   `json:"time,omitempty"`
	Message string  `json:"message,omitempty"`
	Bits    *Bits   `json:"bits,omitempty"`
	Nonce   *uint32 `json:"nonce,omitempty"`
}

// Duration is a time span in a chain spec: a Go duration string ("5s",
// "2h") or a number of seconds.
type Duration time.Duration

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: %w", s, err)
		}
		*d = Duration(v)
		return nil
	}
	var secs int64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("duration %s: want a string like \"5s\" or whole seconds", b)
	}
	if secs > maxDurationSecs || secs < -maxDurationSecs {
		return fmt.Errorf("duration of %d seconds is out of range", secs)
	}
	*d = Duration(time.Duration(secs) * time.Second)
	return nil
}

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// maxDurationSecs is the longest duration a time.Duration holds, in seconds.
const maxDurationSecs = math.MaxInt64 / int64(time.Second)

// Bits is a compact target in a chain spec: a hex string ("0x207fffff") or a
// number.
type Bits uint32

// UnmarshalJSON implements json.Unmarshaler.
func (b *Bits) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		v, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(s), "0x"), 16, 32)
		if err != nil {
			return fmt.Errorf("bits %q: want hex like \"0x207fffff\"", s)
		}
		*b = Bits(v)
		return nil
	}
	var v uint32
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("bits %s: want hex like \"0x207fffff\"", data)
	}
	*b = Bits(v)
	return nil
}

// MarshalJSON implements json.Marshaler.
func (b Bits) MarshalJSON() ([]byte, error) { return json.Marshal(fmt.Sprintf("0x%08x", uint32(b))) }

// specNameRe restricts names to what is safe in paths and protocol IDs.
var specNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// LoadSpecFile reads a chain-spec JSON file and builds its network.
func LoadSpecFile(path string) (*Network, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("chain spec: %w", err)
	}
	n, err := ParseSpec(data)
	if err != nil {
		return nil, fmt.Errorf("chain spec %s: %w", path, err)
	}
	return n, nil
}

// ParseSpec decodes a chain spec and builds its network. Unknown fields and
// impossible values are errors that name the field.
func ParseSpec(data []byte) (*Network, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Spec
	if err := dec.Decode(&s); err != nil {
		return nil, nameField(data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON object")
	}
	return s.Network()
}

// nameField returns err prefixed with the top-level field of data that
// fails to decode on its own, since encoding/json does not name the field
// for errors of custom types.
func nameField(data []byte, err error) error {
	var fields map[string]json.RawMessage
	if json.Unmarshal(data, &fields) != nil {
		return err
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		one, merr := json.Marshal(map[string]json.RawMessage{k: fields[k]})
		if merr != nil {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(one))
		dec.DisallowUnknownFields()
		var s Spec
		if ferr := dec.Decode(&s); ferr != nil {
			return fmt.Errorf("%s: %w", k, ferr)
		}
	}
	return err
}

// Network builds the network the spec describes.
func (s *Spec) Network() (*Network, error) {
	if !specNameRe.MatchString(s.Name) {
		return nil, fmt.Errorf("name %q: want 1-32 lowercase letters, digits or '-'", s.Name)
	}
	switch s.Name {
	case "main", "test", "regtest", "mainnet", "testnet":
		return nil, fmt.Errorf("name %q is a built-in network's", s.Name)
	}
	base := s.Base
	if base == "" {
		base = "regtest"
	}
	n, err := ByName(base)
	if err != nil {
		return nil, fmt.Errorf("base: %w", err)
	}
	n.Name = s.Name
	n.AllowGenerate = true
	n.MDNS = true
	n.DHT = false
	c := &n.Consensus

	switch s.Difficulty {
	case "":
	case "asert":
		c.NoRetargeting = false
	case "fixed", "none":
		c.NoRetargeting = true
	default:
		return nil, fmt.Errorf("difficulty %q: want \"asert\" or \"fixed\"", s.Difficulty)
	}
	if s.TargetSpacing != nil {
		if *s.TargetSpacing < Duration(time.Second) {
			return nil, fmt.Errorf("target_spacing %v: want at least 1s", time.Duration(*s.TargetSpacing))
		}
		c.TargetSpacing = time.Duration(*s.TargetSpacing)
		if s.Difficulty == "" {
			c.NoRetargeting = false
		}
	}
	if s.TargetSpacing != nil && s.AsertHalfLife == nil && !c.NoRetargeting {
		// A new spacing keeps the built-in ratio of half-life to
		// spacing: 288 blocks.
		c.AsertHalfLife = 288 * c.TargetSpacing
	}
	if s.AsertHalfLife != nil {
		if *s.AsertHalfLife < Duration(time.Second) {
			return nil, fmt.Errorf("asert_half_life %v: want at least 1s", time.Duration(*s.AsertHalfLife))
		}
		c.AsertHalfLife = time.Duration(*s.AsertHalfLife)
	}
	if !c.NoRetargeting {
		if c.TargetSpacing%time.Second != 0 || c.AsertHalfLife%time.Second != 0 {
			return nil, errors.New("target_spacing and asert_half_life must be whole seconds")
		}
		if c.AsertHalfLife == 0 {
			// Keep the built-in ratio of half-life to spacing (288 blocks).
			c.AsertHalfLife = 288 * c.TargetSpacing
		}
	}
	if s.MaxFutureBlockTime != nil {
		if *s.MaxFutureBlockTime < 0 {
			return nil, errors.New("max_future_block_time: must not be negative")
		}
		c.MaxFutureBlockTime = time.Duration(*s.MaxFutureBlockTime)
	}
	if s.Subsidy != nil {
		v, err := consensus.ParseCoinsJSON(string(*s.Subsidy))
		if err != nil {
			return nil, fmt.Errorf("subsidy: %w", err)
		}
		c.BaseSubsidy = v
	}
	if s.HalvingInterval != nil {
		if *s.HalvingInterval <= 0 {
			return nil, fmt.Errorf("halving_interval %d: want a positive number of blocks", *s.HalvingInterval)
		}
		c.SubsidyHalvingInterval = *s.HalvingInterval
	}
	if s.CoinbaseMaturity != nil {
		if *s.CoinbaseMaturity < 0 {
			return nil, fmt.Errorf("coinbase_maturity %d: must not be negative", *s.CoinbaseMaturity)
		}
		c.CoinbaseMaturity = *s.CoinbaseMaturity
	}
	// A custom network is a new chain: the base's minimum chain work
	// (work on another chain) means nothing on it.
	c.MinimumChainWork = nil
	if s.MinimumChainWork != "" {
		w, err := parseChainWork(s.MinimumChainWork)
		if err != nil {
			return nil, fmt.Errorf("minimum_chain_work %q: %w", s.MinimumChainWork, err)
		}
		c.MinimumChainWork = w
	}
	// The same for the assumed-valid block.
	n.AssumeValid = chainhash.Hash{}
	if s.AssumeValid != "" {
		h, err := chainhash.NewHashFromStr(s.AssumeValid)
		if err != nil || len(s.AssumeValid) != 2*chainhash.HashSize {
			return nil, fmt.Errorf("assume_valid %q: want a block hash of 64 hex digits", s.AssumeValid)
		}
		n.AssumeValid = *h
	}
	if s.PruneAfterHeight != nil {
		if *s.PruneAfterHeight < 0 {
			return nil, fmt.Errorf("prune_after_height %d: must not be negative", *s.PruneAfterHeight)
		}
		n.PruneAfterHeight = *s.PruneAfterHeight
	}
	if s.Bech32HRP != "" {
		if err := checkHRP(s.Bech32HRP); err != nil {
			return nil, fmt.Errorf("bech32_hrp: %w", err)
		}
		n.Bech32HRP = strings.ToLower(s.Bech32HRP)
	}
	if s.CoinType != nil {
		n.HDCoinType = *s.CoinType
	}
	if s.P2PPort != nil {
		n.P2PPort = *s.P2PPort
	}
	if s.RPCPort != nil {
		n.RPCPort = *s.RPCPort
	}
	if s.MDNS != nil {
		n.MDNS = *s.MDNS
	}
	for fork, h := range s.ActivationHeights {
		if h < 0 {
			return nil, fmt.Errorf("activation_heights.%s: %d is negative", fork, h)
		}
		switch fork {
		case "bip34":
			c.BIP34Height = h
		case "bip65":
			c.BIP65Height = h
		case "bip66":
			c.BIP66Height = h
		case "csv":
			c.CSVHeight = h
		case "segwit":
			c.SegwitHeight = h
		case "taproot":
			c.TaprootHeight = h
		default:
			return nil, fmt.Errorf("activation_heights: unknown soft fork %q (want bip34, bip65, bip66, csv, segwit, taproot)", fork)
		}
	}

	powBits := c.PowLimitBits
	if s.PowLimitBits != nil {
		powBits = uint32(*s.PowLimitBits)
		if limit, neg, overflow := consensus.CompactToBig(powBits); neg || overflow || limit.Sign() <= 0 {
			return nil, fmt.Errorf("pow_limit_bits %#08x: not a valid target (zero, negative or over 256 bits)", powBits)
		}
	}
	genesis, err := s.Genesis.block(powBits, c.BaseSubsidy, n.Name)
	if err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	if err := n.setGenesis(powBits, genesis); err != nil {
		return nil, fmt.Errorf("pow_limit_bits: %w", err)
	}
	if c.NoRetargeting && genesis.Header.Bits != powBits {
		return nil, fmt.Errorf("genesis bits %#08x differ from pow_limit_bits %#08x, which fixed difficulty requires",
			genesis.Header.Bits, powBits)
	}
	if err := consensus.CheckBlockHeaderSanity(&genesis.Header, c.PowLimit); err != nil {
		return nil, fmt.Errorf("genesis does not meet its proof of work: %w", err)
	}
	return n, nil
}

// block builds or decodes the genesis block.
func (g *GenesisSpec) block(powBits uint32, subsidy int64, name string) (*wire.MsgBlock, error) {
	if g.Hex != "" {
		if g.Time != 0 || g.Message != "" || g.Bits != nil || g.Nonce != nil {
			return nil, errors.New("give either hex or time/message/bits/nonce, not both")
		}
		raw, err := hex.DecodeString(strings.TrimSpace(g.Hex))
		if err != nil {
			return nil, fmt.Errorf("hex: %w", err)
		}
		b, err := consensus.DecodeBlock(raw)
		if err != nil {
			return nil, fmt.Errorf("hex does not decode as a block: %w", err)
		}
		if b.Header.PrevBlock != ([32]byte{}) {
			return nil, errors.New("hex block has a previous block; a genesis has none")
		}
		return b, nil
	}
	if g.Time <= 0 {
		return nil, errors.New("time: want a Unix time in seconds (or give hex)")
	}
	if g.Time > math.MaxUint32 {
		return nil, fmt.Errorf("time %d does not fit the header's 32-bit time field", g.Time)
	}
	msg := g.Message
	if msg == "" {
		msg = "Cairn " + name
	}
	if len(msg) > 90 {
		return nil, fmt.Errorf("message is %d bytes; at most 90 fit in a coinbase", len(msg))
	}
	bits := powBits
	if g.Bits != nil {
		bits = uint32(*g.Bits)
	}
	target, neg, overflow := consensus.CompactToBig(bits)
	if neg || overflow || target.Sign() <= 0 {
		return nil, fmt.Errorf("bits %#08x are not a valid target", bits)
	}
	var nonce uint32
	if g.Nonce != nil {
		nonce = *g.Nonce
	}
	b := NewGenesisBlock(g.Time, bits, nonce, msg, subsidy)
	if g.Nonce == nil && !MineGenesis(b) {
		return nil, fmt.Errorf("no nonce meets bits %#08x; lower the difficulty", bits)
	}
	return b, nil
}

// checkHRP applies BIP173's rules to a human-readable part: 1 to 83
// printable ASCII characters (33 to 126).
func checkHRP(hrp string) error {
	if len(hrp) < 1 || len(hrp) > 83 {
		return fmt.Errorf("%q: want 1 to 83 characters", hrp)
	}
	for _, r := range hrp {
		if r < 33 || r > 126 {
			return fmt.Errorf("%q: only printable ASCII without spaces is allowed", hrp)
		}
	}
	return nil
}

// parseChainWork reads a chain work as hex digits, with or without "0x"
// (getblockchaininfo's chainwork is 64 digits without it): at most 256
// bits, not negative.
func parseChainWork(s string) (*big.Int, error) {
	digits := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if digits == "" || len(digits) > 64 {
		return nil, errors.New("want up to 64 hex digits")
	}
	w, ok := new(big.Int).SetString(digits, 16)
	if !ok || w.Sign() < 0 || strings.ContainsAny(digits, "+-") {
		return nil, errors.New("want hex digits")
	}
	return w, nil
}
