package wallet

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/internal/atomicfile"
)

// GapLimit is how many unused addresses past the last used one of each
// chain the wallet watches (BIP44's gap limit).
const GapLimit = 20

// immature reports whether coin c, a coinbase output, is still immature
// at tip. Consensus allows spending it in the block after depth
// CoinbaseMaturity; like Bitcoin Core's wallet the wallet waits one more
// block, so that a one-block reorganization cannot make its spend
// premature.
func (w *Wallet) immature(c Coin, tip int32) bool {
	return c.Coinbase && (c.Height == 0 || tip-c.Height+1 <= w.net.Consensus.CoinbaseMaturity)
}

// recentHashes is how many scanned block hashes the wallet keeps to find
// where a reorganization forked from its last scan.
const recentHashes = 144

// state is what the wallet file seals.
type state struct {
	Network    string `json:"network"`
	Genesis    string `json:"genesis"`
	Mnemonic   string `json:"mnemonic"`
	Passphrase string `json:"passphrase"`
	// Birthday is the first height that may hold the wallet's coins.
	Birthday int32 `json:"birthday"`
	// Next is each account chain's next unused index ("wpkh/0").
	Next map[string]uint32 `json:"next"`
	// Scanned is the last height scanned (Birthday-1 before the first
	// scan); Recent the hashes of the last scanned heights, oldest first.
	Scanned int32       `json:"scanned_height"`
	Recent  []string    `json:"recent_hashes"`
	Txs     []*TxRecord `json:"txs"`
}

// TxRecord is a transaction that pays or spends the wallet's coins.
type TxRecord struct {
	TxID string `json:"txid"`
	Raw  string `json:"raw"`
	// Height is the confirming block's height, 0 while unconfirmed.
	Height    int32  `json:"height"`
	BlockHash string `json:"blockhash,omitempty"`
	// Seen is when the wallet first saw it (unix seconds).
	Seen int64 `json:"seen"`
	// Mine: the wallet made it (it knows every input and the fee).
	Mine bool  `json:"mine"`
	Fee  int64 `json:"fee"`
	// ReplacedBy names the transaction that took its inputs: a fee bump,
	// or a conflicting transaction that confirmed (or, for a transaction
	// spending a replaced one's outputs, that replacement).
	ReplacedBy string `json:"replaced_by,omitempty"`
	// Abandoned: the node refused it again because its inputs are gone.
	Abandoned bool `json:"abandoned,omitempty"`

	tx   *wire.MsgTx
	hash chainhash.Hash // tx's txid
}

// Wallet is an open wallet file. It holds the file's lock until Close.
type Wallet struct {
	lock     *os.File
	path     string
	password []byte
	kdf      KDFParams
	net      *chainparams.Network
	params   *chaincfg.Params
	keys     *Keychain
	st       state
	// scripts maps the output scripts watched (every chain up to its next
	// index plus GapLimit) to their keys.
	scripts map[string]KeyPath
	derived map[string]uint32 // scripts derived per chain

	// Indexes of the records, kept by record, rollback and watch, so that
	// a wallet of tens of thousands of transactions is not scanned for
	// every lookup: records by txid, every output of a recorded
	// transaction by script, and the outputs paying a watched script.
	byID         map[string]*TxRecord
	outsByScript map[string][]wire.OutPoint
	owned        map[wire.OutPoint]bool
}

// chains are the four account chains the wallet watches.
var chains = []struct {
	t     AddrType
	chain uint32
}{{P2WPKH, External}, {P2WPKH, Internal}, {P2TR, External}, {P2TR, Internal}}

func chainKey(t AddrType, chain uint32) string { return fmt.Sprintf("%s/%d", t, chain) }

// CreateOptions are Create's optional settings. The zero value is a
// wallet without a BIP39 passphrase, scanned from the genesis block, its
// file sealed at the default key derivation cost.
type CreateOptions struct {
	// Passphrase is the BIP39 passphrase the keys are derived with
	// besides the mnemonic.
	Passphrase string
	// Birthday is the first height to scan (a negative one is 0).
	Birthday int32
	// KDF is the Argon2id cost of deriving the file's key from the
	// password; the zero value means DefaultKDFParams. Every later save
	// keeps it.
	KDF KDFParams
}

// kdf returns the key derivation cost o asks for.
func (o CreateOptions) kdf() KDFParams {
	if o.KDF == (KDFParams{}) {
		return DefaultKDFParams()
	}
	return o.KDF
}

// Create writes a new wallet file for mnemonic (see [NewMnemonic] for a
// fresh one) and returns it open.
func Create(path string, password []byte, net *chainparams.Network, mnemonic string, o CreateOptions) (_ *Wallet, err error) {
	kdf := o.kdf()
	if !kdf.valid() {
		return nil, fmt.Errorf("wallet: key derivation parameters %+v out of bounds (%s)", kdf, kdfBounds)
	}
	lock, err := lockFile(path)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			lock.Close()
		}
	}()
	if _, err := os.Stat(path); err == nil {
		return nil, fmt.Errorf("%w: %s (restore into another file, or move it away)", ErrWalletExists, path)
	}
	if len(password) == 0 {
		return nil, errors.New("wallet: the password is empty")
	}
	mnemonic = strings.Join(splitWords(strings.ToLower(mnemonic)), " ")
	keys, err := NewKeychain(mnemonic, o.Passphrase, net.AddressParams())
	if err != nil {
		return nil, err
	}
	birthday := max(o.Birthday, 0)
	w := &Wallet{lock: lock, path: path, password: password, kdf: kdf, net: net, params: net.AddressParams(), keys: keys,
		st: state{Network: net.Name, Genesis: net.GenesisHash().String(), Mnemonic: mnemonic, Passphrase: o.Passphrase,
			Birthday: birthday, Scanned: birthday - 1, Next: make(map[string]uint32)}}
	if err := w.watch(); err != nil {
		return nil, err
	}
	return w, w.Save()
}

// Open reads and decrypts a wallet file of net.
func Open(path string, password []byte, net *chainparams.Network) (_ *Wallet, err error) {
	lock, err := lockFile(path)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			lock.Close()
		}
	}()
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s (create one with cairn wallet create, or restore)", ErrNoWallet, path)
	}
	if err != nil {
		return nil, fmt.Errorf("wallet: %w", err)
	}
	plain, kdf, err := open(raw, password)
	if err != nil {
		return nil, err
	}
	w := &Wallet{lock: lock, path: path, password: password, kdf: kdf, net: net, params: net.AddressParams()}
	if err := json.Unmarshal(plain, &w.st); err != nil {
		return nil, fmt.Errorf("wallet: the wallet's contents do not decode: %v", err)
	}
	if w.st.Network != net.Name {
		return nil, fmt.Errorf("wallet: %s is a wallet of network %s, not %s", path, w.st.Network, net.Name)
	}
	if genesis := net.GenesisHash().String(); w.st.Genesis != genesis {
		return nil, fmt.Errorf("%w: %s is a wallet of an earlier network %s, whose genesis block was %s; "+
			"%s's genesis block is now %s (the network was recreated), so the chain the wallet knew and its coins are gone. "+
			"Its keys work on the new chain: restore its mnemonic into a new file with cairn wallet restore --wallet NEW_FILE",
			ErrGenesisChanged, path, w.st.Network, w.st.Genesis, net.Name, genesis)
	}
	if w.st.Next == nil {
		w.st.Next = make(map[string]uint32)
	}
	if w.keys, err = NewKeychain(w.st.Mnemonic, w.st.Passphrase, w.params); err != nil {
		return nil, err
	}
	for _, r := range w.st.Txs {
		if r.tx, err = decodeTx(r.Raw); err != nil {
			return nil, fmt.Errorf("wallet: transaction %s: %w", r.TxID, err)
		}
		r.hash = r.tx.TxHash()
	}
	if err := w.watch(); err != nil {
		return nil, err
	}
	w.reindex()
	return w, nil
}

// Save seals the wallet into its file.
func (w *Wallet) Save() error {
	plain, err := json.Marshal(&w.st)
	if err != nil {
		return err
	}
	sealed, err := seal(plain, w.password, w.kdf)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(w.path, sealed, 0o600); err != nil {
		return fmt.Errorf("wallet: %w", err)
	}
	return nil
}

// Close releases the wallet file for other commands.
func (w *Wallet) Close() error {
	if w.lock == nil {
		return nil
	}
	err := w.lock.Close()
	w.lock = nil
	return err
}

// Network returns the wallet's network.
func (w *Wallet) Network() *chainparams.Network { return w.net }

// Mnemonic returns the wallet's recovery words.
func (w *Wallet) Mnemonic() string { return w.st.Mnemonic }

// Birthday returns the first height the wallet scans.
func (w *Wallet) Birthday() int32 { return w.st.Birthday }

// watch derives the scripts of every chain up to its next index plus the
// gap limit.
func (w *Wallet) watch() error {
	if w.scripts == nil {
		w.scripts = make(map[string]KeyPath)
		w.derived = make(map[string]uint32)
	}
	if w.byID == nil {
		w.byID = make(map[string]*TxRecord)
		w.outsByScript = make(map[string][]wire.OutPoint)
		w.owned = make(map[wire.OutPoint]bool)
	}
	for _, c := range chains {
		k := chainKey(c.t, c.chain)
		for ; w.derived[k] < w.st.Next[k]+GapLimit; w.derived[k]++ {
			p := KeyPath{Type: c.t, Chain: c.chain, Index: w.derived[k]}
			_, script, err := w.keys.Address(p)
			if err != nil {
				return err
			}
			w.scripts[string(script)] = p
			for _, op := range w.outsByScript[string(script)] {
				w.owned[op] = true
			}
		}
	}
	return nil
}

// reindex rebuilds the record indexes from the records.
func (w *Wallet) reindex() {
	w.byID = make(map[string]*TxRecord, len(w.st.Txs))
	w.outsByScript = make(map[string][]wire.OutPoint)
	w.owned = make(map[wire.OutPoint]bool)
	for _, r := range w.st.Txs {
		w.index(r)
	}
}

// index adds one record to the indexes.
func (w *Wallet) index(r *TxRecord) {
	w.byID[r.TxID] = r
	for i, out := range r.tx.TxOut {
		op := wire.OutPoint{Hash: r.hash, Index: uint32(i)}
		w.outsByScript[string(out.PkScript)] = append(w.outsByScript[string(out.PkScript)], op)
		if _, ok := w.scripts[string(out.PkScript)]; ok {
			w.owned[op] = true
		}
	}
}

// markUsed advances p's chain past p, reporting whether that widened the
// watched set.
func (w *Wallet) markUsed(p KeyPath) (bool, error) {
	k := chainKey(p.Type, p.Chain)
	if p.Index < w.st.Next[k] {
		return false, nil
	}
	w.st.Next[k] = p.Index + 1
	return true, w.watch()
}

// NewAddress hands out the next unused receive address of type t.
func (w *Wallet) NewAddress(t AddrType) (btcutil.Address, error) {
	if _, err := t.purpose(); err != nil {
		return nil, err
	}
	p := KeyPath{Type: t, Chain: External, Index: w.st.Next[chainKey(t, External)]}
	addr, _, err := w.keys.Address(p)
	if err != nil {
		return nil, err
	}
	if _, err := w.markUsed(p); err != nil {
		return nil, err
	}
	return addr, nil
}

// changeScript returns a fresh change output script (P2WPKH) and marks it
// used.
func (w *Wallet) changeScript() ([]byte, KeyPath, error) {
	p := KeyPath{Type: P2WPKH, Chain: Internal, Index: w.st.Next[chainKey(P2WPKH, Internal)]}
	_, script, err := w.keys.Address(p)
	if err != nil {
		return nil, p, err
	}
	_, err = w.markUsed(p)
	return script, p, err
}

// Coin is an output paying the wallet.
type Coin struct {
	OutPoint wire.OutPoint
	Value    int64
	Script   []byte
	Path     KeyPath
	// Height of the paying transaction, 0 while unconfirmed.
	Height   int32
	Coinbase bool
	// SpentBy is the live transaction spending it, if any.
	SpentBy string
}

// live returns the transactions that count: confirmed ones, and pending
// ones neither replaced nor abandoned.
func (w *Wallet) live() []*TxRecord {
	var out []*TxRecord
	for _, r := range w.st.Txs {
		if r.Height > 0 || (r.ReplacedBy == "" && !r.Abandoned) {
			out = append(out, r)
		}
	}
	return out
}

// Coins returns every output paying the wallet from a live transaction,
// with what spends it.
func (w *Wallet) Coins() []Coin {
	live := w.live()
	spent := make(map[wire.OutPoint]string)
	for _, r := range live {
		if consensus.IsCoinBaseTx(r.tx) {
			continue
		}
		for _, in := range r.tx.TxIn {
			spent[in.PreviousOutPoint] = r.TxID
		}
	}
	var coins []Coin
	for _, r := range live {
		txid := r.hash
		for i, out := range r.tx.TxOut {
			p, ok := w.scripts[string(out.PkScript)]
			if !ok {
				continue
			}
			op := wire.OutPoint{Hash: txid, Index: uint32(i)}
			coins = append(coins, Coin{OutPoint: op, Value: out.Value, Script: out.PkScript, Path: p,
				Height: r.Height, Coinbase: consensus.IsCoinBaseTx(r.tx), SpentBy: spent[op]})
		}
	}
	sort.Slice(coins, func(i, j int) bool {
		a, b := &coins[i].OutPoint, &coins[j].OutPoint
		if coins[i].Height != coins[j].Height {
			return coins[i].Height < coins[j].Height
		}
		// By txid as shown (reversed bytes), then index: the order
		// OutPoint.String would give, without building strings.
		for k := chainhash.HashSize - 1; k >= 0; k-- {
			if a.Hash[k] != b.Hash[k] {
				return a.Hash[k] < b.Hash[k]
			}
		}
		return a.Index < b.Index
	})
	return coins
}

// Balance is the wallet's money in base units.
type Balance struct {
	// Confirmed: spendable confirmed coins not spent by a pending
	// transaction.
	Confirmed int64
	// Unconfirmed: coins of pending transactions (the change of the
	// wallet's own sends), not yet spent.
	Unconfirmed int64
	// Immature: coinbase coins short of maturity.
	Immature int64
}

// LastBalance is the balance as of the wallet's last scan: what the file
// says it held, without asking a node.
func (w *Wallet) LastBalance() Balance { return w.Balance(w.st.Scanned) }

// Total is the whole balance: confirmed, unconfirmed and immature.
func (b Balance) Total() int64 { return b.Confirmed + b.Unconfirmed + b.Immature }

// FormatAmount writes base units v as coins with 8 decimals followed by
// unit (a network's [chainparams.Network.Unit]), e.g. "12.50000000 rCRN".
func FormatAmount(v int64, unit string) string {
	s := consensus.FormatCoins(v)
	if unit == "" {
		return s
	}
	return s + " " + unit
}

// amount writes base units v in the wallet's network's unit.
func (w *Wallet) amount(v int64) string { return FormatAmount(v, w.net.Unit()) }

// Balance sums the unspent coins at tip height.
func (w *Wallet) Balance(tip int32) Balance {
	var b Balance
	for _, c := range w.Coins() {
		switch {
		case c.SpentBy != "":
		case c.Height == 0:
			b.Unconfirmed += c.Value
		case w.immature(c, tip):
			b.Immature += c.Value
		default:
			b.Confirmed += c.Value
		}
	}
	return b
}

// HistoryEntry is a transaction as the wallet sees it.
type HistoryEntry struct {
	TxID string
	// Amount is what it paid the wallet minus what it took from it, not
	// counting the fee of the wallet's own sends (Fee).
	Amount int64
	// Fee is known for the wallet's own transactions, -1 otherwise.
	Fee        int64
	Height     int32
	Seen       time.Time
	ReplacedBy string
	Abandoned  bool
}

// History lists the wallet's transactions, oldest first.
func (w *Wallet) History() []HistoryEntry {
	values := make(map[wire.OutPoint]int64)
	for _, c := range w.Coins() {
		values[c.OutPoint] = c.Value
	}
	// Coins of replaced transactions are not in Coins; neither are
	// their spends counted.
	var out []HistoryEntry
	for _, r := range w.st.Txs {
		e := HistoryEntry{TxID: r.TxID, Fee: -1, Height: r.Height, Seen: time.Unix(r.Seen, 0), ReplacedBy: r.ReplacedBy, Abandoned: r.Abandoned}
		if r.Mine {
			e.Fee = r.Fee
		}
		for _, out := range r.tx.TxOut {
			if _, ok := w.scripts[string(out.PkScript)]; ok {
				e.Amount += out.Value
			}
		}
		if !consensus.IsCoinBaseTx(r.tx) {
			for _, in := range r.tx.TxIn {
				e.Amount -= w.valueOf(in.PreviousOutPoint)
			}
		}
		if r.Mine && r.Fee > 0 {
			e.Amount += r.Fee // shown apart, as Core's listtransactions does
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool {
		hi, hj := out[i].Height, out[j].Height
		if hi == 0 {
			hi = 1 << 30
		}
		if hj == 0 {
			hj = 1 << 30
		}
		if hi != hj {
			return hi < hj
		}
		return out[i].Seen.Before(out[j].Seen)
	})
	return out
}

// valueOf returns the value of op if it pays the wallet, else 0.
func (w *Wallet) valueOf(op wire.OutPoint) int64 {
	r := w.find(op.Hash.String())
	if r == nil || int(op.Index) >= len(r.tx.TxOut) {
		return 0
	}
	out := r.tx.TxOut[op.Index]
	if _, ok := w.scripts[string(out.PkScript)]; !ok {
		return 0
	}
	return out.Value
}

// find returns the record of txid, or nil.
func (w *Wallet) find(txid string) *TxRecord { return w.byID[txid] }

// record adds tx (or updates its confirmation) and returns its record.
func (w *Wallet) record(tx *wire.MsgTx, height int32, block string) *TxRecord {
	txid := tx.TxHash().String()
	if r := w.find(txid); r != nil {
		r.Height, r.BlockHash = height, block
		if height > 0 {
			// Whatever replaced it, the chain has it: it stands.
			r.ReplacedBy, r.Abandoned = "", false
		}
		return r
	}
	var buf bytes.Buffer
	_ = tx.Serialize(&buf)
	r := &TxRecord{TxID: txid, Raw: hex.EncodeToString(buf.Bytes()), Height: height, BlockHash: block,
		Seen: time.Now().Unix(), Fee: -1, tx: tx, hash: tx.TxHash()}
	w.st.Txs = append(w.st.Txs, r)
	w.index(r)
	return r
}

// decodeTx parses a hex transaction through the consensus decoder.
func decodeTx(s string) (*wire.MsgTx, error) {
	raw, err := hex.DecodeString(s)
	if err != nil {
		return nil, err
	}
	return consensus.DecodeTx(raw)
}
