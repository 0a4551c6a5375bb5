package testnet

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
)

// coinFactory makes many small, independent, standard transactions fast,
// for experiments that need full blocks: one key, P2WPKH outputs, one
// input and one output each (about 110 vbytes, 191 bytes).
type coinFactory struct {
	key    *btcec.PrivateKey
	script []byte
	addr   string
}

// coin is a spendable output of the factory's key.
type coin struct {
	op    wire.OutPoint
	value int64
}

// spendBytes is the serialized size of one of the factory's spends.
const spendBytes = 191

func newCoinFactory(netw *chainparams.Network) (*coinFactory, error) {
	key, err := btcec.NewPrivateKey()
	if err != nil {
		return nil, err
	}
	addr, err := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(key.PubKey().SerializeCompressed()), netw.AddressParams())
	if err != nil {
		return nil, err
	}
	script, err := txscript.PayToAddrScript(addr)
	if err != nil {
		return nil, err
	}
	return &coinFactory{key: key, script: script, addr: addr.EncodeAddress()}, nil
}

// fanOut spends c into n equal outputs of the factory's own, paying fee.
func (f *coinFactory) fanOut(c coin, n int, fee int64) (*wire.MsgTx, []coin, error) {
	each := (c.value - fee) / int64(n)
	if each <= 1000 {
		return nil, nil, fmt.Errorf("testnet: %d outputs of %d sat each are too small", n, each)
	}
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&c.op, nil, nil))
	for i := 0; i < n; i++ {
		tx.AddTxOut(wire.NewTxOut(each, f.script))
	}
	if err := f.sign(tx, c.value); err != nil {
		return nil, nil, err
	}
	hash := tx.TxHash()
	out := make([]coin, n)
	for i := range out {
		out[i] = coin{op: wire.OutPoint{Hash: hash, Index: uint32(i)}, value: each}
	}
	return tx, out, nil
}

// spend sends c back to the factory, less fee.
func (f *coinFactory) spend(c coin, fee int64) (*wire.MsgTx, error) {
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&c.op, nil, nil))
	tx.AddTxOut(wire.NewTxOut(c.value-fee, f.script))
	return tx, f.sign(tx, c.value)
}

// sign signs tx's only input, of value, with the factory's key.
func (f *coinFactory) sign(tx *wire.MsgTx, value int64) error {
	fetcher := txscript.NewCannedPrevOutputFetcher(f.script, value)
	w, err := txscript.WitnessSignature(tx, txscript.NewTxSigHashes(tx, fetcher), 0, value, f.script,
		txscript.SigHashAll, f.key, true)
	if err != nil {
		return err
	}
	tx.TxIn[0].Witness = w
	return nil
}

// txHex serializes tx for sendrawtransaction.
func txHex(tx *wire.MsgTx) string {
	var buf bytes.Buffer
	_ = tx.Serialize(&buf)
	return hex.EncodeToString(buf.Bytes())
}

// verboseBlock is what the testnet reads of getblock at verbosity 2.
type verboseBlock struct {
	Hash   string `json:"hash"`
	Height int32  `json:"height"`
	Prev   string `json:"previousblockhash"`
	Time   int64  `json:"time"`
	Tx     []struct {
		Txid string `json:"txid"`
		Vout []struct {
			Value        float64 `json:"value"`
			ScriptPubKey struct {
				Address string `json:"address"`
			} `json:"scriptPubKey"`
		} `json:"vout"`
	} `json:"tx"`
}

// payee returns the address the block's coinbase pays first, or "".
func (b *verboseBlock) payee() string {
	if len(b.Tx) == 0 || len(b.Tx[0].Vout) == 0 {
		return ""
	}
	return b.Tx[0].Vout[0].ScriptPubKey.Address
}

// coinbaseCoin returns the coinbase output of block hash on node n.
func (s *State) coinbaseCoin(n *Node, hash string) (coin, error) {
	var blk verboseBlock
	if err := s.Call(n, &blk, "getblock", hash, 2); err != nil {
		return coin{}, err
	}
	if len(blk.Tx) == 0 || len(blk.Tx[0].Vout) == 0 {
		return coin{}, fmt.Errorf("testnet: block %s has no coinbase output", hash)
	}
	h, err := chainhash.NewHashFromStr(blk.Tx[0].Txid)
	if err != nil {
		return coin{}, err
	}
	return coin{op: wire.OutPoint{Hash: *h}, value: int64(math.Round(blk.Tx[0].Vout[0].Value * btcutil.SatoshiPerBitcoin))}, nil
}
