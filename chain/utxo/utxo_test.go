package utxo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/internal/store"
)

// memBackend is an in-memory Backend. It stores entries encoded, as the
// database does, and counts the lookups that reach it.
type memBackend struct {
	mu      sync.Mutex
	entries map[wire.OutPoint][]byte
	fetches int
	err     error // returned by every call when set
}

func newMemBackend() *memBackend {
	return &memBackend{entries: make(map[wire.OutPoint][]byte)}
}

// put stores e under op directly, below the cache.
func (b *memBackend) put(op wire.OutPoint, e *Entry) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.entries[op] = AppendEntry(nil, e)
}

// FetchEntry implements Backend.
func (b *memBackend) FetchEntry(op wire.OutPoint) (*Entry, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fetches++
	if b.err != nil {
		return nil, b.err
	}
	v, ok := b.entries[op]
	if !ok {
		return nil, nil
	}
	e, rest, err := DecodeEntry(v)
	if err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("mem backend: entry %v: %v", op, err)
	}
	return e, nil
}

// ForEach implements Backend, in key order like the database.
func (b *memBackend) ForEach(fn func(op wire.OutPoint, e *Entry) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return b.err
	}
	ops := make([]wire.OutPoint, 0, len(b.entries))
	for op := range b.entries {
		ops = append(ops, op)
	}
	slices.SortFunc(ops, func(x, y wire.OutPoint) int { return bytes.Compare(Key(x), Key(y)) })
	for _, op := range ops {
		e, _, err := DecodeEntry(b.entries[op])
		if err != nil {
			return err
		}
		if err := fn(op, e); err != nil {
			return err
		}
	}
	return nil
}

// apply writes the changes recorded in w, as a database write of the batch
// would.
func (b *memBackend) apply(t *testing.T, w *recWriter) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, v := range w.puts {
		op, err := DecodeKey([]byte(k))
		if err != nil {
			t.Fatalf("flushed key %x: %v", k, err)
		}
		b.entries[op] = v
	}
	for k := range w.dels {
		op, err := DecodeKey([]byte(k))
		if err != nil {
			t.Fatalf("flushed key %x: %v", k, err)
		}
		delete(b.entries, op)
	}
}

// recWriter is a Writer that records what it receives. Like store.Batch it
// copies keys and values.
type recWriter struct {
	puts map[string][]byte
	dels map[string]bool
	ops  int
}

func newRecWriter() *recWriter {
	return &recWriter{puts: make(map[string][]byte), dels: make(map[string]bool)}
}

// Put implements Writer.
func (w *recWriter) Put(key, value []byte) {
	w.ops++
	delete(w.dels, string(key))
	w.puts[string(key)] = append([]byte(nil), value...)
}

// Delete implements Writer.
func (w *recWriter) Delete(key []byte) {
	w.ops++
	delete(w.puts, string(key))
	w.dels[string(key)] = true
}

// testOp returns a distinct outpoint for n.
func testOp(n int) wire.OutPoint {
	var h chainhash.Hash
	binary.LittleEndian.PutUint64(h[:], uint64(n)+1)
	h[31] = 0xc4
	return wire.OutPoint{Hash: h, Index: uint32(n % 3)}
}

// testEntry returns a distinct entry for n.
func testEntry(n int) *Entry {
	return &Entry{Amount: int64(1000 + n), PkScript: []byte{0x51, byte(n)}, Height: int32(n), IsCoinBase: n%2 == 0}
}

// commit applies the changes of fn, made on a fresh view, to c.
func commit(t *testing.T, c *Cache, fn func(v *View)) {
	t.Helper()
	v := c.NewView()
	fn(v)
	v.Commit()
}

// mustSpend spends op in v and expects it to hold want.
func mustSpend(t *testing.T, v *View, op wire.OutPoint, want *Entry) {
	t.Helper()
	got, err := v.Spend(op)
	if err != nil {
		t.Fatalf("spend %v: %v", op, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("spend %v: got %+v, want %+v", op, got, want)
	}
}

// mustFetch fetches op from c and expects want (nil: nothing).
func mustFetch(t *testing.T, c *Cache, op wire.OutPoint, want *Entry) {
	t.Helper()
	got, err := c.Fetch(op)
	if err != nil {
		t.Fatalf("fetch %v: %v", op, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fetch %v: got %+v, want %+v", op, got, want)
	}
}

// flush flushes c into a fresh recording writer, applies it to b as a
// successful database write would, and marks the cache flushed.
func flush(t *testing.T, c *Cache, b *memBackend, evict bool) *recWriter {
	t.Helper()
	w := newRecWriter()
	n := c.Flush(w)
	if n != w.ops {
		t.Fatalf("Flush returned %d, wrote %d records", n, w.ops)
	}
	b.apply(t, w)
	c.MarkFlushed(evict)
	return w
}

// TestEntryRoundTrip ensures entries survive encoding and decoding, that
// DecodeEntry returns the bytes after the entry, and that entries decode in
// sequence as undo data stores them.
func TestEntryRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		entry Entry
	}{
		{name: "zero", entry: Entry{}},
		{name: "coinbase", entry: Entry{Amount: 50e8, PkScript: []byte{0x51}, Height: 1, IsCoinBase: true}},
		{name: "max height", entry: Entry{Amount: 1, PkScript: []byte{0x51}, Height: math.MaxInt32, IsCoinBase: true}},
		{name: "max amount", entry: Entry{Amount: math.MaxInt64, PkScript: []byte{0x00, 0x14}, Height: 7}},
		{name: "long script", entry: Entry{Amount: 3, PkScript: bytes.Repeat([]byte{0xab}, 10_001), Height: 300}},
	}
	var all []byte
	for _, test := range tests {
		enc := AppendEntry(nil, &test.entry)
		all = AppendEntry(all, &test.entry)
		for _, tail := range [][]byte{nil, {0x01, 0x02}} {
			got, rest, err := DecodeEntry(append(slices.Clip(enc), tail...))
			if err != nil {
				t.Errorf("%q: decode: %v", test.name, err)
				continue
			}
			if !reflect.DeepEqual(*got, test.entry) {
				t.Errorf("%q: got %+v, want %+v", test.name, *got, test.entry)
			}
			if !bytes.Equal(rest, tail) {
				t.Errorf("%q: rest %x, want %x", test.name, rest, tail)
			}
		}
		// The decoded script must not alias the encoding.
		got, _, _ := DecodeEntry(enc)
		enc[len(enc)-1] ^= 0xff
		if len(got.PkScript) > 0 && got.PkScript[len(got.PkScript)-1] != test.entry.PkScript[len(test.entry.PkScript)-1] {
			t.Errorf("%q: decoded script aliases the encoded bytes", test.name)
		}
	}
	for i, rest := 0, all; len(rest) > 0; i++ {
		got, next, err := DecodeEntry(rest)
		if err != nil {
			t.Fatalf("entry %d of the sequence: %v", i, err)
		}
		if !reflect.DeepEqual(*got, tests[i].entry) {
			t.Fatalf("entry %d of the sequence: got %+v, want %+v", i, *got, tests[i].entry)
		}
		rest = next
	}
}

// TestDecodeEntryErrors ensures every malformed entry, truncated or with an
// out-of-range field, is refused with ErrBadEncoding and no panic.
func TestDecodeEntryErrors(t *testing.T) {
	t.Parallel()
	uv := func(vs ...uint64) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.AppendUvarint(b, v)
		}
		return b
	}
	valid := AppendEntry(nil, &Entry{Amount: 5000, PkScript: []byte{1, 2, 3, 4}, Height: 200, IsCoinBase: true})
	tests := []struct {
		name string
		b    []byte
	}{
		{name: "empty", b: nil},
		{name: "truncated header", b: []byte{0x80}},
		{name: "header varint overflow", b: bytes.Repeat([]byte{0xff}, 11)},
		{name: "height over int32", b: uv(uint64(math.MaxInt32+1)<<1, 1, 0)},
		{name: "no amount", b: uv(400)},
		{name: "truncated amount", b: append(uv(400), 0x80)},
		{name: "amount over int64", b: uv(400, math.MaxInt64+1, 0)},
		{name: "amount varint overflow", b: append(uv(400), bytes.Repeat([]byte{0xff}, 11)...)},
		{name: "no script length", b: uv(400, 5000)},
		{name: "truncated script length", b: append(uv(400, 5000), 0x80)},
		{name: "script length past the end", b: append(uv(400, 5000, 5), 1, 2, 3, 4)},
		{name: "script length oversized", b: append(uv(400, 5000, math.MaxUint64), 1, 2, 3)},
		{name: "script cut short", b: valid[:len(valid)-1]},
	}
	for _, test := range tests {
		e, rest, err := DecodeEntry(test.b)
		if !errors.Is(err, ErrBadEncoding) {
			t.Errorf("%q: got %+v, rest %x, err %v; want %v", test.name, e, rest, err, ErrBadEncoding)
		}
	}
}

// TestKeyRoundTrip ensures outpoint keys carry the UTXO prefix and decode
// to the outpoint they encode.
func TestKeyRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		op   wire.OutPoint
	}{
		{name: "index 0", op: testOp(1)},
		{name: "index 127", op: wire.OutPoint{Hash: testOp(2).Hash, Index: 127}},
		{name: "index 128", op: wire.OutPoint{Hash: testOp(3).Hash, Index: 128}},
		{name: "max index", op: wire.OutPoint{Hash: testOp(4).Hash, Index: math.MaxUint32}},
	}
	for _, test := range tests {
		k := Key(test.op)
		if !bytes.HasPrefix(k, Prefix()) {
			t.Errorf("%q: key %x lacks prefix %x", test.name, k, Prefix())
		}
		got, err := DecodeKey(k)
		if err != nil || got != test.op {
			t.Errorf("%q: got %v, %v; want %v", test.name, got, err, test.op)
		}
	}
}

// TestDecodeKeyErrors ensures a key that is not exactly Key of some
// outpoint (truncated, wrong prefix, index out of range, bytes after the
// index, or an index in a longer encoding than Key writes) is refused with
// ErrBadEncoding, so that no two keys name the same outpoint.
func TestDecodeKeyErrors(t *testing.T) {
	t.Parallel()
	op := wire.OutPoint{Hash: testOp(9).Hash, Index: 5}
	k := Key(op)
	base := k[:1+chainhash.HashSize]
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name string
		k    []byte
	}{
		{name: "empty", k: nil},
		{name: "prefix only", k: []byte{'c'}},
		{name: "short hash", k: k[:1+chainhash.HashSize-1]},
		{name: "no index", k: base},
		{name: "wrong prefix", k: cat([]byte{'d'}, k[1:])},
		{name: "truncated index", k: cat(base, []byte{0x80})},
		{name: "index over uint32", k: binary.AppendUvarint(slices.Clip(base), math.MaxUint32+1)},
		{name: "index varint overflow", k: cat(base, bytes.Repeat([]byte{0xff}, 11))},
		{name: "trailing bytes", k: cat(k, []byte{0x00})},
		{name: "non-minimal index", k: cat(base, []byte{0x85, 0x00})},
	}
	for _, test := range tests {
		got, err := DecodeKey(test.k)
		if !errors.Is(err, ErrBadEncoding) {
			t.Errorf("%q: DecodeKey(%x) = %v, %v; want %v", test.name, test.k, got, err, ErrBadEncoding)
		}
	}
}

// TestIsUnspendable ensures OP_RETURN outputs and oversized scripts are
// unspendable and nothing else is.
func TestIsUnspendable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		script []byte
		want   bool
	}{
		{name: "empty", script: nil, want: false},
		{name: "op_true", script: []byte{0x51}, want: false},
		{name: "op_return", script: []byte{0x6a, 0x01, 0x00}, want: true},
		{name: "max size", script: make([]byte, 10_000), want: false},
		{name: "oversized", script: make([]byte, 10_001), want: true},
	}
	for _, test := range tests {
		if got := IsUnspendable(test.script); got != test.want {
			t.Errorf("%q: got %v, want %v", test.name, got, test.want)
		}
	}
}

// TestCacheFreshSpendNoWrite ensures an output created and spent between two
// flushes, in the same view or in two, costs no write at all and leaves no
// entry behind.
func TestCacheFreshSpendNoWrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		sameView bool
	}{
		{name: "same view", sameView: true},
		{name: "two views", sameView: false},
	}
	for _, test := range tests {
		b := newMemBackend()
		c := NewCache(b, 1<<20)
		op, e := testOp(1), testEntry(1)
		v := c.NewView()
		v.Add(op, e)
		if !test.sameView {
			v.Commit()
			v = c.NewView()
		}
		mustSpend(t, v, op, e)
		v.Commit()

		if s := c.Stats(); s.Entries != 0 || s.Dirty != 0 || s.Bytes != 0 {
			t.Errorf("%q: stats after create and spend %+v, want an empty cache", test.name, s)
		}
		w := flush(t, c, b, false)
		if w.ops != 0 {
			t.Errorf("%q: flush wrote %d records (%v puts, %v deletes), want none", test.name, w.ops, w.puts, w.dels)
		}
		mustFetch(t, c, op, nil)
	}
}

// TestCacheSpendFlushed ensures that spending an output the backend holds is
// a delete on the next flush, and that an output flushed once is no longer
// fresh: spending it later must delete it too, with or without eviction.
func TestCacheSpendFlushed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// inBackend: the output is in the backend from the start;
		// otherwise it is added and flushed first.
		inBackend bool
		evict     bool
	}{
		{name: "backend entry", inBackend: true},
		{name: "flushed fresh entry kept", evict: false},
		{name: "flushed fresh entry evicted", evict: true},
	}
	for _, test := range tests {
		b := newMemBackend()
		c := NewCache(b, 1<<20)
		op, e := testOp(2), testEntry(2)
		if test.inBackend {
			b.put(op, e)
		} else {
			commit(t, c, func(v *View) { v.Add(op, e) })
			w := flush(t, c, b, test.evict)
			if _, ok := w.puts[string(Key(op))]; !ok || w.ops != 1 {
				t.Fatalf("%q: first flush %v puts, %v deletes; want the new entry", test.name, w.puts, w.dels)
			}
		}
		commit(t, c, func(v *View) { mustSpend(t, v, op, e) })
		if s := c.Stats(); s.Dirty != 1 {
			t.Errorf("%q: dirty %d after the spend, want 1", test.name, s.Dirty)
		}
		w := flush(t, c, b, false)
		if !w.dels[string(Key(op))] || w.ops != 1 {
			t.Errorf("%q: flush wrote %v puts, %v deletes; want one delete of %v", test.name, w.puts, w.dels, op)
		}
		if s := c.Stats(); s.Entries != 0 || s.Dirty != 0 {
			t.Errorf("%q: stats after flush %+v, want no entries", test.name, s)
		}
		if e, _ := b.FetchEntry(op); e != nil {
			t.Errorf("%q: backend still holds the spent output", test.name)
		}
		mustFetch(t, c, op, nil)
	}
}

// TestCacheMarkFlushed ensures MarkFlushed with eviction empties the cache,
// and without it keeps the unspent entries as clean copies (no longer
// written) and forgets the spent ones; in both cases the cache then answers
// from the backend as before.
func TestCacheMarkFlushed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		evict       bool
		wantEntries int
	}{
		{name: "evict", evict: true, wantEntries: 0},
		{name: "keep", evict: false, wantEntries: 2},
	}
	for _, test := range tests {
		b := newMemBackend()
		c := NewCache(b, 1<<20)
		old := testOp(10)
		b.put(old, testEntry(10))
		commit(t, c, func(v *View) {
			v.Add(testOp(11), testEntry(11))
			v.Add(testOp(12), testEntry(12))
			mustSpend(t, v, old, testEntry(10))
		})
		flush(t, c, b, test.evict)
		s := c.Stats()
		if s.Entries != test.wantEntries || s.Dirty != 0 {
			t.Errorf("%q: stats %+v, want %d entries and none dirty", test.name, s, test.wantEntries)
		}
		if test.evict && s.Bytes != 0 {
			t.Errorf("%q: %d bytes after eviction", test.name, s.Bytes)
		}
		if !test.evict && s.Bytes != slotSize(testEntry(11))+slotSize(testEntry(12)) {
			t.Errorf("%q: %d bytes, want those of the two kept entries", test.name, s.Bytes)
		}
		if w := flush(t, c, b, false); w.ops != 0 {
			t.Errorf("%q: second flush wrote %d records", test.name, w.ops)
		}
		mustFetch(t, c, old, nil)
		mustFetch(t, c, testOp(11), testEntry(11))
		mustFetch(t, c, testOp(12), testEntry(12))
	}
}

// TestCacheFlushWithoutMark ensures that Flush alone changes nothing: until
// MarkFlushed, as after a failed database write, the next Flush writes the
// same changes again.
func TestCacheFlushWithoutMark(t *testing.T) {
	t.Parallel()
	b := newMemBackend()
	b.put(testOp(20), testEntry(20))
	c := NewCache(b, 1<<20)
	commit(t, c, func(v *View) {
		v.Add(testOp(21), testEntry(21))
		mustSpend(t, v, testOp(20), testEntry(20))
	})
	first := newRecWriter()
	c.Flush(first)
	second := newRecWriter()
	c.Flush(second)
	if !reflect.DeepEqual(first, second) || first.ops != 2 {
		t.Fatalf("flushes differ or miss changes: %+v, %+v", first, second)
	}
	if s := c.Stats(); s.Dirty != 2 {
		t.Fatalf("dirty %d after unmarked flushes, want 2", s.Dirty)
	}
}

// TestCacheNeedsFlush ensures the cache counts the bytes of its entries and
// asks to be flushed once past its budget, and no longer after an evicting
// flush.
func TestCacheNeedsFlush(t *testing.T) {
	t.Parallel()
	b := newMemBackend()
	budget := 3 * slotSize(testEntry(0))
	c := NewCache(b, budget)
	var want int64
	for i := 0; i < 4; i++ {
		if c.NeedsFlush() {
			t.Fatalf("NeedsFlush with %d entries (%d bytes of %d)", i, want, budget)
		}
		commit(t, c, func(v *View) { v.Add(testOp(30+i), testEntry(30+i)) })
		want += slotSize(testEntry(30 + i))
		if got := c.Stats().Bytes; got != want {
			t.Fatalf("bytes %d after %d entries, want %d", got, i+1, want)
		}
	}
	if !c.NeedsFlush() {
		t.Fatalf("no NeedsFlush at %d bytes of %d", want, budget)
	}
	flush(t, c, b, true)
	if c.NeedsFlush() {
		t.Fatal("NeedsFlush after an evicting flush")
	}
	// Entries loaded from the backend count too.
	for i := 0; i < 4; i++ {
		mustFetch(t, c, testOp(30+i), testEntry(30+i))
	}
	if !c.NeedsFlush() {
		t.Fatal("no NeedsFlush with the budget's worth of loaded entries")
	}
}

// TestCacheBytesCountSpentSlots ensures the byte count keeps charging the
// slots of spent outputs the backend still holds: each stays in the map
// until the next flush, to be written as a delete, so that a cache that only
// spends (as blocks spending old outputs do) must still reach its budget
// and ask to be flushed instead of growing without bound.
func TestCacheBytesCountSpentSlots(t *testing.T) {
	t.Parallel()
	b := newMemBackend()
	const n = 100
	for i := 0; i < n; i++ {
		b.put(testOp(i), testEntry(i))
	}
	// A budget below what n map slots cost, whatever they hold.
	c := NewCache(b, n*32)
	for i := 0; i < n; i++ {
		commit(t, c, func(v *View) { mustSpend(t, v, testOp(i), testEntry(i)) })
	}
	s := c.Stats()
	if s.Entries != n || s.Dirty != n {
		t.Fatalf("stats %+v, want %d spent slots", s, n)
	}
	if !c.NeedsFlush() {
		t.Fatalf("%d spent slots waiting to be written count %d bytes; no NeedsFlush with a budget of %d",
			n, s.Bytes, n*32)
	}
}

// TestCacheHitsAndMisses ensures lookups that the cache answers count as
// hits, those that reach the backend as misses, and that an output the
// backend lacks is not cached.
func TestCacheHitsAndMisses(t *testing.T) {
	t.Parallel()
	b := newMemBackend()
	b.put(testOp(40), testEntry(40))
	c := NewCache(b, 1<<20)
	if r := c.Stats().HitRate(); r != 0 {
		t.Fatalf("hit rate %v before any lookup", r)
	}
	steps := []struct {
		name         string
		op           wire.OutPoint
		want         *Entry
		hits, misses uint64
		fetches      int
	}{
		{name: "first lookup of a stored entry", op: testOp(40), want: testEntry(40), hits: 0, misses: 1, fetches: 1},
		{name: "second lookup of a stored entry", op: testOp(40), want: testEntry(40), hits: 1, misses: 1, fetches: 1},
		{name: "missing output", op: testOp(41), want: nil, hits: 1, misses: 2, fetches: 2},
		{name: "missing output again", op: testOp(41), want: nil, hits: 1, misses: 3, fetches: 3},
	}
	for _, step := range steps {
		mustFetch(t, c, step.op, step.want)
		s := c.Stats()
		if s.Hits != step.hits || s.Misses != step.misses || b.fetches != step.fetches {
			t.Fatalf("%q: hits %d misses %d backend fetches %d, want %d %d %d",
				step.name, s.Hits, s.Misses, b.fetches, step.hits, step.misses, step.fetches)
		}
	}
	if r := c.Stats().HitRate(); r != 0.25 {
		t.Fatalf("hit rate %v, want 0.25", r)
	}
	// A spent output the cache remembers is a hit.
	commit(t, c, func(v *View) { mustSpend(t, v, testOp(40), testEntry(40)) })
	before := c.Stats()
	mustFetch(t, c, testOp(40), nil)
	if s := c.Stats(); s.Hits != before.Hits+1 || s.Misses != before.Misses {
		t.Fatalf("lookup of a spent cached output: %+v, before %+v", s, before)
	}
}

// TestCacheForEach ensures ForEach returns the cache's view of the set:
// backend entries not spent in the cache, plus unflushed new ones, each
// once; and that it stops at the first error of fn.
func TestCacheForEach(t *testing.T) {
	t.Parallel()
	b := newMemBackend()
	for i := 50; i < 54; i++ {
		b.put(testOp(i), testEntry(i))
	}
	c := NewCache(b, 1<<20)
	mustFetch(t, c, testOp(50), testEntry(50)) // clean copy
	commit(t, c, func(v *View) {
		mustSpend(t, v, testOp(51), testEntry(51))
		v.Add(testOp(54), testEntry(54))
		v.Add(testOp(55), testEntry(55))
	})
	commit(t, c, func(v *View) { mustSpend(t, v, testOp(55), testEntry(55)) })
	// Spent and re-added in the cache (a disconnect): one entry.
	commit(t, c, func(v *View) { mustSpend(t, v, testOp(52), testEntry(52)) })
	commit(t, c, func(v *View) { v.Add(testOp(52), testEntry(52)) })

	want := map[wire.OutPoint]Entry{
		testOp(50): *testEntry(50), testOp(52): *testEntry(52), testOp(53): *testEntry(53), testOp(54): *testEntry(54),
	}
	check := func(stage string) {
		t.Helper()
		got := make(map[wire.OutPoint]Entry)
		err := c.ForEach(func(op wire.OutPoint, e *Entry) error {
			if _, dup := got[op]; dup {
				return fmt.Errorf("%v twice", op)
			}
			got[op] = *e
			return nil
		})
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: ForEach gave %v (%v), want %v", stage, got, err, want)
		}
	}
	check("before flush")
	flush(t, c, b, false)
	check("after flush")

	stop := errors.New("stop")
	calls := 0
	err := c.ForEach(func(wire.OutPoint, *Entry) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("ForEach with a failing fn: %v after %d calls", err, calls)
	}
}

// TestViewIsolation ensures a view's changes are invisible to the cache
// until Commit, and that an uncommitted view leaves no trace.
func TestViewIsolation(t *testing.T) {
	t.Parallel()
	b := newMemBackend()
	b.put(testOp(60), testEntry(60))
	c := NewCache(b, 1<<20)
	v := c.NewView()
	v.Add(testOp(61), testEntry(61))
	mustSpend(t, v, testOp(60), testEntry(60))

	mustFetch(t, c, testOp(61), nil)
	mustFetch(t, c, testOp(60), testEntry(60))
	if got, err := v.Fetch(testOp(61)); err != nil || !reflect.DeepEqual(got, testEntry(61)) {
		t.Fatalf("view fetch of its new output: %+v, %v", got, err)
	}
	if got, err := v.Fetch(testOp(60)); err != nil || got != nil {
		t.Fatalf("view fetch of its spent output: %+v, %v", got, err)
	}
	if s := c.Stats(); s.Dirty != 0 {
		t.Fatalf("%d dirty entries before commit", s.Dirty)
	}

	discarded := c.NewView()
	discarded.Add(testOp(62), testEntry(62))
	mustSpend(t, discarded, testOp(61), nil) // not in the cache yet

	v.Commit()
	mustFetch(t, c, testOp(61), testEntry(61))
	mustFetch(t, c, testOp(60), nil)
	mustFetch(t, c, testOp(62), nil)
	if s := c.Stats(); s.Dirty != 2 {
		t.Fatalf("%d dirty entries after commit, want 2", s.Dirty)
	}
}

// TestViewSpend ensures View.Spend returns the entry it spends, nil (and
// no change) for an output that is missing or already spent, and that an
// output created and spent in one view leaves no trace.
func TestViewSpend(t *testing.T) {
	t.Parallel()
	b := newMemBackend()
	b.put(testOp(70), testEntry(70))
	c := NewCache(b, 1<<20)
	tests := []struct {
		name string
		// prep runs on the view before the spend of op.
		prep func(v *View)
		op   wire.OutPoint
		want *Entry
	}{
		{name: "missing output", prep: func(*View) {}, op: testOp(71), want: nil},
		{name: "backend output", prep: func(*View) {}, op: testOp(70), want: testEntry(70)},
		{name: "spent in the view", prep: func(v *View) { mustSpend(t, v, testOp(70), testEntry(70)) }, op: testOp(70), want: nil},
		{name: "created in the view", prep: func(v *View) { v.Add(testOp(72), testEntry(72)) }, op: testOp(72), want: testEntry(72)},
	}
	for _, test := range tests {
		v := c.NewView()
		test.prep(v)
		got, err := v.Spend(test.op)
		if err != nil || !reflect.DeepEqual(got, test.want) {
			t.Errorf("%q: Spend = %+v, %v; want %+v", test.name, got, err, test.want)
		}
	}

	// Created and spent in one view, or spent when missing: no trace.
	before := c.Stats()
	commit(t, c, func(v *View) {
		v.Add(testOp(73), testEntry(73))
		mustSpend(t, v, testOp(73), testEntry(73))
		mustSpend(t, v, testOp(74), nil)
	})
	if s := c.Stats(); s.Entries != before.Entries || s.Dirty != 0 || s.Bytes != before.Bytes {
		t.Fatalf("stats %+v after a view that created and spent an output, before %+v", s, before)
	}
	if w := flush(t, c, b, false); w.ops != 0 {
		t.Fatalf("flush wrote %d records after a view without net change", w.ops)
	}
}

// TestViewDisconnectPattern ensures the changes of a connect, a disconnect
// (which spends the block's outputs and restores those it had spent) and a
// connect again, as in a reorganization, reach the backend correctly
// whatever was flushed in between: an output the backend holds stays a
// delete when spent again after being restored.
func TestViewDisconnectPattern(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		flushConnect bool
		reconnect    bool
	}{
		{name: "connect flushed", flushConnect: true},
		{name: "connect cached", flushConnect: false},
		{name: "connect flushed, reconnect", flushConnect: true, reconnect: true},
		{name: "connect cached, reconnect", flushConnect: false, reconnect: true},
	}
	in, out := testOp(80), testOp(81)
	connect := func(c *Cache) {
		commit(t, c, func(v *View) {
			mustSpend(t, v, in, testEntry(80))
			v.Add(out, testEntry(81))
		})
	}
	for _, test := range tests {
		b := newMemBackend()
		b.put(in, testEntry(80))
		c := NewCache(b, 1<<20)
		connect(c)
		if test.flushConnect {
			flush(t, c, b, true)
		}
		commit(t, c, func(v *View) {
			mustSpend(t, v, out, testEntry(81))
			v.Add(in, testEntry(80))
		})
		want := map[wire.OutPoint]Entry{in: *testEntry(80)}
		if test.reconnect {
			connect(c)
			want = map[wire.OutPoint]Entry{out: *testEntry(81)}
		}
		flush(t, c, b, false)
		got := make(map[wire.OutPoint]Entry)
		if err := b.ForEach(func(op wire.OutPoint, e *Entry) error { got[op] = *e; return nil }); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: backend %v, want %v", test.name, got, want)
		}
	}
}

// TestCacheBackendError ensures backend failures reach the caller of Fetch,
// View.Fetch, View.Spend and ForEach, wrapped, and change nothing.
func TestCacheBackendError(t *testing.T) {
	t.Parallel()
	b := newMemBackend()
	boom := errors.New("disk on fire")
	b.err = boom
	c := NewCache(b, 1<<20)
	v := c.NewView()
	calls := []struct {
		name string
		call func() error
	}{
		{name: "Fetch", call: func() error { _, err := c.Fetch(testOp(90)); return err }},
		{name: "View.Fetch", call: func() error { _, err := v.Fetch(testOp(90)); return err }},
		{name: "View.Spend", call: func() error { _, err := v.Spend(testOp(90)); return err }},
		{name: "ForEach", call: func() error { return c.ForEach(func(wire.OutPoint, *Entry) error { return nil }) }},
	}
	for _, call := range calls {
		if err := call.call(); !errors.Is(err, boom) {
			t.Errorf("%q: got %v, want %v", call.name, err, boom)
		}
	}
	v.Commit()
	if s := c.Stats(); s.Entries != 0 || s.Dirty != 0 {
		t.Fatalf("stats %+v after failed lookups", s)
	}
}

// TestCacheConcurrentAccess ensures lookups may run while views commit and
// the cache flushes (run with -race).
func TestCacheConcurrentAccess(t *testing.T) {
	t.Parallel()
	b := newMemBackend()
	c := NewCache(b, 1<<20)
	var wg sync.WaitGroup
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if _, err := c.Fetch(testOp(i)); err != nil {
					t.Error(err)
					return
				}
				c.Stats()
			}
		}()
	}
	for i := 0; i < 200; i++ {
		commit(t, c, func(v *View) { v.Add(testOp(i), testEntry(i)) })
		if i%50 == 49 {
			w := newRecWriter()
			c.Flush(w)
			b.apply(t, w)
			c.MarkFlushed(i%100 == 99)
		}
	}
	wg.Wait()
	for i := 0; i < 200; i++ {
		mustFetch(t, c, testOp(i), testEntry(i))
	}
}

// TestLevelBackend ensures the database backend reads what the cache
// flushed through a store batch, walks only UTXO records in key order, and
// reports damaged records as ErrUtxoBackendCorruption.
func TestLevelBackend(t *testing.T) {
	t.Parallel()
	db, err := store.Open(t.TempDir(), 8)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	lb := NewLevelBackend(db)
	c := NewCache(lb, 1<<20)
	commit(t, c, func(v *View) {
		for i := 0; i < 5; i++ {
			v.Add(testOp(i), testEntry(i))
		}
	})
	batch := new(store.Batch)
	c.Flush(batch)
	batch.Put([]byte{'b', 1}, []byte("not a utxo")) // another prefix
	if err := db.Write(batch, false); err != nil {
		t.Fatal(err)
	}
	c.MarkFlushed(true)

	var keys [][]byte
	if err := lb.ForEach(func(op wire.OutPoint, e *Entry) error {
		keys = append(keys, Key(op))
		n := slices.Index([]wire.OutPoint{testOp(0), testOp(1), testOp(2), testOp(3), testOp(4)}, op)
		if n < 0 || !reflect.DeepEqual(e, testEntry(n)) {
			return fmt.Errorf("unexpected entry %v: %+v", op, e)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 5 || !slices.IsSortedFunc(keys, bytes.Compare) {
		t.Fatalf("walked keys %x, want the 5 entries in key order", keys)
	}
	if e, err := lb.FetchEntry(testOp(99)); e != nil || err != nil {
		t.Fatalf("missing entry: %+v, %v", e, err)
	}

	damaged := []struct {
		name       string
		key, value []byte
	}{
		{name: "trailing bytes", key: Key(testOp(100)), value: append(AppendEntry(nil, testEntry(100)), 0)},
		{name: "garbage value", key: Key(testOp(101)), value: []byte{0xff, 0xff}},
		{name: "bad key", key: []byte{'c', 1, 2, 3}, value: AppendEntry(nil, testEntry(102))},
	}
	for _, d := range damaged {
		batch := new(store.Batch)
		batch.Put(d.key, d.value)
		if err := db.Write(batch, false); err != nil {
			t.Fatal(err)
		}
		if op, kerr := DecodeKey(d.key); kerr == nil {
			if _, err := lb.FetchEntry(op); !errors.Is(err, ErrUtxoBackendCorruption) {
				t.Errorf("%q: FetchEntry: got %v, want %v", d.name, err, ErrUtxoBackendCorruption)
			}
		}
		err := lb.ForEach(func(wire.OutPoint, *Entry) error { return nil })
		if !errors.Is(err, ErrUtxoBackendCorruption) {
			t.Errorf("%q: ForEach: got %v, want %v", d.name, err, ErrUtxoBackendCorruption)
		}
		batch.Reset()
		batch.Delete(d.key)
		if err := db.Write(batch, false); err != nil {
			t.Fatal(err)
		}
	}
}

// slotSize is what one cached unspent entry costs the cache's budget.
func slotSize(e *Entry) int64 { return (&cached{entry: e}).size() }
