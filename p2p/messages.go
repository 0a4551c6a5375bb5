package p2p

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
)

// The stream messages' decoders. Each reads at most its message's limit
// and checks every field, so that what a peer sends is either a well-formed
// message or an error, never a panic or an unbounded allocation.

// errMalformed marks a message that breaks the protocol; its sender is
// misbehaving.
var errMalformed = errors.New("malformed message")

// decodeStatus reads a status message. What the peer sent wrong (bad JSON,
// a message cut short by its end of stream, more than maxStatusBytes) is
// errMalformed; a stream that failed under it (a deadline, a reset, a
// closed connection) is not: a busy peer or a busy node is no offence.
func decodeStatus(r io.Reader) (*status, error) {
	var s status
	if err := json.NewDecoder(&capReader{r: r, n: maxStatusBytes}).Decode(&s); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		if errors.Is(err, errMalformed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
			errors.As(err, &syntax) || errors.As(err, &typ) {
			return nil, fmt.Errorf("%w: status: %v", errMalformed, err)
		}
		return nil, fmt.Errorf("status: %w", err)
	}
	if _, err := chainhash.NewHashFromStr(s.Genesis); err != nil || len(s.Genesis) != 64 {
		return nil, fmt.Errorf("%w: status genesis %q", errMalformed, s.Genesis)
	}
	if _, err := chainhash.NewHashFromStr(s.Best); err != nil || len(s.Best) != 64 {
		return nil, fmt.Errorf("%w: status best %q", errMalformed, s.Best)
	}
	if s.Height < 0 {
		return nil, fmt.Errorf("%w: status height %d", errMalformed, s.Height)
	}
	// Cumulative work of 2^256 blocks of the easiest target still fits in
	// 65 hex digits; anything longer is not work.
	if w, ok := new(big.Int).SetString(s.Work, 16); !ok || w.Sign() < 0 || len(s.Work) > 80 {
		return nil, fmt.Errorf("%w: status work %q", errMalformed, s.Work)
	}
	return &s, nil
}

// capReader reads at most n bytes of r, then fails with errMalformed:
// unlike io.LimitReader's end of stream, an over-long message is told
// apart from one cut short.
type capReader struct {
	r io.Reader
	n int
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		return 0, fmt.Errorf("%w: over %d bytes", errMalformed, maxStatusBytes)
	}
	if len(p) > c.n {
		p = p[:c.n]
	}
	k, err := c.r.Read(p)
	c.n -= k
	return k, err
}

// decodeHeadersRequest reads a headers request and returns its locator.
func decodeHeadersRequest(r io.Reader) ([]chainhash.Hash, error) {
	var req headersRequest
	if err := json.NewDecoder(io.LimitReader(r, 16<<10)).Decode(&req); err != nil {
		return nil, fmt.Errorf("%w: headers request: %v", errMalformed, err)
	}
	if len(req.Locator) > maxLocatorHashes {
		return nil, fmt.Errorf("%w: locator of %d hashes", errMalformed, len(req.Locator))
	}
	return decodeHashes(req.Locator, "locator")
}

// decodeGetBlocks reads a blocks request and returns the hashes it names.
func decodeGetBlocks(r io.Reader) ([]chainhash.Hash, error) {
	var req getBlocksRequest
	if err := json.NewDecoder(io.LimitReader(r, 4<<10)).Decode(&req); err != nil {
		return nil, fmt.Errorf("%w: blocks request: %v", errMalformed, err)
	}
	if len(req.Hashes) == 0 || len(req.Hashes) > maxBlocksPerRequest {
		return nil, fmt.Errorf("%w: blocks request of %d hashes", errMalformed, len(req.Hashes))
	}
	hashes, err := decodeHashes(req.Hashes, "block")
	if err != nil {
		return nil, err
	}
	// A hash named twice asks for the same bytes twice: no honest node
	// does that, and it would multiply what a small request costs.
	seen := make(map[chainhash.Hash]struct{}, len(hashes))
	for _, h := range hashes {
		if _, dup := seen[h]; dup {
			return nil, fmt.Errorf("%w: blocks request names %v twice", errMalformed, h)
		}
		seen[h] = struct{}{}
	}
	return hashes, nil
}

// decodeHashes parses hex hashes, each exactly 64 digits.
func decodeHashes(in []string, what string) ([]chainhash.Hash, error) {
	out := make([]chainhash.Hash, 0, len(in))
	for _, h := range in {
		hash, err := chainhash.NewHashFromStr(h)
		if err != nil || len(h) != 64 {
			return nil, fmt.Errorf("%w: %s hash %q", errMalformed, what, h)
		}
		out = append(out, *hash)
	}
	return out, nil
}

// readHeaders reads a headers response: a count of at most
// maxHeadersPerResponse and that many 80-byte headers.
func readHeaders(r io.Reader) ([]wire.BlockHeader, error) {
	var count uint32
	if err := binary.Read(r, binary.LittleEndian, &count); err != nil {
		return nil, err
	}
	if count > maxHeadersPerResponse {
		return nil, fmt.Errorf("%w: %d headers in one answer", errMalformed, count)
	}
	headers := make([]wire.BlockHeader, count)
	raw := make([]byte, wire.MaxBlockHeaderPayload)
	for i := range headers {
		if _, err := io.ReadFull(r, raw); err != nil {
			return nil, err
		}
		if err := headers[i].Deserialize(bytes.NewReader(raw)); err != nil {
			return nil, fmt.Errorf("%w: header: %v", errMalformed, err)
		}
	}
	return headers, nil
}

// readBlockFrame reads one length-prefixed block of a blocks response; a
// nil block with a nil error is the terminating empty frame.
func readBlockFrame(r io.Reader) (*wire.MsgBlock, error) {
	var lenBuf [4]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return nil, err
	}
	size := binary.LittleEndian.Uint32(lenBuf[:])
	if size == 0 {
		return nil, nil
	}
	if size > consensus.MaxBlockBytes {
		return nil, fmt.Errorf("%w: a block of %d bytes", errMalformed, size)
	}
	raw := make([]byte, size)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, err
	}
	block, err := consensus.DecodeBlock(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	return block, nil
}

// writeInv writes a transaction announcement: a count and the wtxids.
func writeInv(w io.Writer, wtxids []chainhash.Hash) error {
	buf := make([]byte, 0, 4+32*len(wtxids))
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(wtxids)))
	for i := range wtxids {
		buf = append(buf, wtxids[i][:]...)
	}
	_, err := w.Write(buf)
	return err
}

// readInv reads a transaction announcement of 1 to maxInvEntries wtxids.
func readInv(r io.Reader) ([]chainhash.Hash, error) {
	var lenBuf [4]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return nil, err
	}
	count := binary.LittleEndian.Uint32(lenBuf[:])
	if count == 0 || count > maxInvEntries {
		return nil, fmt.Errorf("%w: an announcement of %d transactions", errMalformed, count)
	}
	out := make([]chainhash.Hash, count)
	for i := range out {
		if _, err := io.ReadFull(r, out[i][:]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// writeWant writes the indices of the announced transactions wanted.
func writeWant(w io.Writer, want []uint32) error {
	buf := make([]byte, 0, 4+4*len(want))
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(want)))
	for _, i := range want {
		buf = binary.LittleEndian.AppendUint32(buf, i)
	}
	_, err := w.Write(buf)
	return err
}

// readWant reads the answer to an announcement of announced wtxids:
// strictly increasing indices into it, so none is asked for twice.
func readWant(r io.Reader, announced int) ([]uint32, error) {
	var lenBuf [4]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return nil, err
	}
	count := binary.LittleEndian.Uint32(lenBuf[:])
	if int64(count) > int64(announced) {
		return nil, fmt.Errorf("%w: %d of %d announced transactions", errMalformed, count, announced)
	}
	out := make([]uint32, count)
	for i := range out {
		if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
			return nil, err
		}
		out[i] = binary.LittleEndian.Uint32(lenBuf[:])
		if int64(out[i]) >= int64(announced) || (i > 0 && out[i] <= out[i-1]) {
			return nil, fmt.Errorf("%w: transaction index %d after %d of %d", errMalformed, out[i], i, announced)
		}
	}
	return out, nil
}

// writeFrame writes raw with its length (uint32 LE) before it.
func writeFrame(w io.Writer, raw []byte) error {
	var lenBuf [4]byte
	binary.LittleEndian.PutUint32(lenBuf[:], uint32(len(raw)))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return err
	}
	_, err := w.Write(raw)
	return err
}

// readTxReply reads one length-prefixed transaction of an announcer's
// reply, no larger than a standard transaction may be; a nil transaction
// with a nil error is the empty frame of one it no longer has.
func readTxReply(r io.Reader) (*wire.MsgTx, error) {
	var lenBuf [4]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return nil, err
	}
	size := binary.LittleEndian.Uint32(lenBuf[:])
	if size == 0 {
		return nil, nil
	}
	if size > maxTxRelayBytes {
		return nil, fmt.Errorf("%w: a transaction of %d bytes", errMalformed, size)
	}
	raw := make([]byte, size)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, err
	}
	tx, err := consensus.DecodeTx(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	return tx, nil
}
