package electrum

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

// historyEntry is one entry of a script's history as the protocol shows
// it: confirmed at Height > 0, or in the pool with Height 0 (all its inputs
// confirmed) or -1 (spending an unconfirmed output), then with its Fee.
type historyEntry struct {
	TxHash chainhash.Hash
	Height int32
	Fee    int64
	Pos    uint32 // position in its block, when confirmed
}

// statusOf returns a script's status as the protocol defines it: the
// SHA-256 (once, as lowercase hex) of "txid:height:" for each entry of its
// history in order, confirmed first in block order, then the pool's; nil
// (JSON null) for a script without history. Electrum recomputes it from
// get_history's answer, so both must come from one history.
func statusOf(history []historyEntry) *string {
	if len(history) == 0 {
		return nil
	}
	h := sha256.New()
	buf := make([]byte, 0, 80)
	for _, e := range history {
		buf = appendHash(buf[:0], &e.TxHash)
		buf = append(buf, ':')
		buf = strconv.AppendInt(buf, int64(e.Height), 10)
		buf = append(buf, ':')
		h.Write(buf)
	}
	s := hex.EncodeToString(h.Sum(nil))
	return &s
}
