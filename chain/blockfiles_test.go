package chain

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/chain/internal/blockfile"
	"github.com/cairnchain/cairn/chain/internal/store"
	"github.com/cairnchain/cairn/chain/internal/store/faultstore"
)

// v1Fixture is what testdata/v1db.json says of testdata/v1db, a database of
// schema version 1 (blocks and undo data inside goleveldb) written by the
// version before block files: 120 regtest blocks with spends, a side branch
// of two blocks, a header without its block, the tx and filter indexes.
type v1Fixture struct {
	Tip      string `json:"tip"`
	Height   int32  `json:"height"`
	UtxoHash string `json:"utxo_hash"`
	SideTip  string `json:"side_tip"`
	TxOuts   int64  `json:"txouts"`
}

// copyV1 copies the version 1 database to a new directory and returns its
// configuration.
func copyV1(t *testing.T) (Config, v1Fixture) {
	t.Helper()
	var fx v1Fixture
	raw, err := os.ReadFile(filepath.Join("testdata", "v1db.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "chain")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "v1db"))); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Dir: dir, Network: chainparams.Regtest(), TxIndex: true, BlockFilterIndex: true,
		Now: func() time.Time { return time.Now().Add(24 * time.Hour) }}
	return cfg, fx
}

// TestMigrateV1 ensures a database of schema version 1 is moved to block
// files on its first start with nothing lost: the same tip and UTXO set
// (by gettxoutsetinfo's hash), every block readable, the side branch
// kept, undo data that still disconnects blocks, the indexes intact, and
// no block left inside the database.
func TestMigrateV1(t *testing.T) {
	cfg, fx := copyV1(t)
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { c.Close() }()
	checkV1Migrated(t, c, fx)

	// Undo data that works: invalidating the tip reorganizes to the side
	// branch (two blocks disconnected), and reconsidering it back.
	tip := c.BestSnapshot().Hash
	if err := c.InvalidateBlock(tip); err != nil {
		t.Fatal(err)
	}
	if got := c.BestSnapshot().Hash.String(); got != fx.SideTip {
		t.Fatalf("after invalidating the tip the tip is %s, want the side branch's %s", got, fx.SideTip)
	}
	if err := c.ReconsiderBlock(tip); err != nil {
		t.Fatal(err)
	}

	// Nothing of the old layout is left, and a second start migrates
	// nothing again.
	for _, prefix := range []byte{prefixBlockV1, prefixUndoV1} {
		n := 0
		if err := c.db.ForEach([]byte{prefix}, func(_, _ []byte) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("%d records of prefix %q are left in the database", n, prefix)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if c, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	checkV1Migrated(t, c, fx)
	if _, err := os.Stat(filepath.Join(cfg.Dir, "blocks", "blk00000.dat")); err != nil {
		t.Fatalf("no block file: %v", err)
	}
}

// TestMigrateV1Interrupted ensures a migration that fails half way (here
// the block files cannot be synced, as on a full disk) leaves the version
// 1 database as it was, with a clear error, and the next start migrates it
// whole, over the files the failed attempt left.
func TestMigrateV1Interrupted(t *testing.T) {
	cfg, fx := copyV1(t)
	files := faultstore.NewFiles(1)
	cfg.blockFS = failingSyncFS{files}
	if _, err := New(cfg); err == nil || !errors.Is(err, errSyncFailed) {
		t.Fatalf("a migration whose files cannot be synced: error %v", err)
	}
	if names, _ := files.List(); len(names) == 0 {
		t.Fatal("the failed migration wrote no block file: the test does not interrupt it half way")
	}
	db, err := store.Open(cfg.Dir, 8)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := db.Get([]byte{keyVersion}); err != nil || v[0] != 1 {
		t.Fatalf("after the failed migration the schema version is %x (%v), want 1", v, err)
	}
	db.Close()

	cfg.blockFS = files
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	checkV1Migrated(t, c, fx)
}

var errSyncFailed = errors.New("test: no space left on device")

// failingSyncFS is a block file directory whose files cannot be synced.
type failingSyncFS struct{ blockfile.FS }

func (f failingSyncFS) Open(name string, create bool) (blockfile.File, error) {
	h, err := f.FS.Open(name, create)
	return failingSyncFile{h}, err
}

type failingSyncFile struct{ blockfile.File }

func (failingSyncFile) Sync() error { return errSyncFailed }

// checkV1Migrated checks the migrated chain against the fixture.
func checkV1Migrated(t *testing.T, c *BlockChain, fx v1Fixture) {
	t.Helper()
	best := c.BestSnapshot()
	if best.Hash.String() != fx.Tip || best.Height != fx.Height {
		t.Fatalf("tip %v at %d, want %s at %d", best.Hash, best.Height, fx.Tip, fx.Height)
	}
	st, err := c.UtxoSetStats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Hash.String() != fx.UtxoHash || st.TxOuts != fx.TxOuts {
		t.Fatalf("UTXO set hash %v with %d outputs, want %s with %d", st.Hash, st.TxOuts, fx.UtxoHash, fx.TxOuts)
	}
	for h := int32(0); h <= best.Height; h++ {
		block, err := c.BlockByHeight(h)
		if err != nil {
			t.Fatalf("block at height %d: %v", h, err)
		}
		hash := consensus.BlockHash(&block.Header)
		raw, err := c.RawBlock(hash)
		if err != nil || len(raw) != block.SerializeSize() {
			t.Fatalf("raw block at height %d: %d bytes, %v", h, len(raw), err)
		}
		for i, tx := range block.Transactions {
			_, loc, err := c.FetchTransaction(consensus.TxHash(tx))
			if h > 0 && (err != nil || loc.BlockHash != hash || loc.Index != uint32(i)) {
				t.Fatalf("tx index of transaction %d at height %d: %+v, %v", i, h, loc, err)
			}
		}
		if _, _, err := c.BlockFilter(hash); err != nil {
			t.Fatalf("filter of block at height %d: %v", h, err)
		}
	}
	side, _ := chainhash.NewHashFromStr(fx.SideTip)
	if !c.HaveBlock(*side) {
		t.Fatal("the side branch's block was lost")
	}
	if _, err := c.BlockByHash(*side); err != nil {
		t.Fatal(err)
	}
	if c.HeaderCount() != fx.Height+1 {
		t.Fatalf("best header at %d, want the stored header at %d", c.HeaderCount(), fx.Height+1)
	}
}
