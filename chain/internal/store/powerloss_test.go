package store

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/storage"

	"github.com/cairnchain/cairn/chain/internal/store/faultstore"
)

// TestPowerCutKeepsWhatASyncedWriteFollows ensures that a batch written
// without a sync is durable once any later batch is written with one, even
// when a journal rotation came between the two (goleveldb closes the
// rotated journal without a sync; journalSyncStorage syncs it): after a
// power cut, the database never holds the later record without the
// earlier one. This is what lets the chain write block bodies without a
// sync and rely on its synced flush to make them durable before the state
// that refers to them. Without journalSyncStorage the earlier batch is lost.
func TestPowerCutKeepsWhatASyncedWriteFollows(t *testing.T) {
	t.Parallel()
	for _, wrapped := range []bool{true, false} {
		t.Run(fmt.Sprintf("journal synced at close %v", wrapped), func(t *testing.T) {
			t.Parallel()
			fs := faultstore.New(1)
			var stor storage.Storage = fs
			if wrapped {
				stor = &journalSyncStorage{Storage: fs}
			}
			o := &opt.Options{WriteBuffer: 64 << 10, DisableSeeksCompaction: true}
			db, err := openStorage(stor, o)
			if err != nil {
				t.Fatal(err)
			}
			// The rotated memtable may not reach a table before the cut.
			defer fs.HoldTables()()

			body := NewBatch(0)
			body.Put([]byte("body"), bytes.Repeat([]byte{1}, 1000))
			if err := db.Write(body, false); err != nil {
				t.Fatal(err)
			}
			// Fill the memtable until goleveldb rotates to a new journal
			// (once: a second rotation would wait for the held table).
			journals := fs.Journals()
			for i := 0; ; i++ {
				if fs.Journals() > journals {
					break
				}
				if i > 100 {
					t.Fatal("the journal never rotated")
				}
				filler := NewBatch(0)
				filler.Put([]byte(fmt.Sprintf("filler%d", i)), bytes.Repeat([]byte{2}, 8<<10))
				if err := db.Write(filler, false); err != nil {
					t.Fatal(err)
				}
			}
			ref := NewBatch(0)
			ref.Put([]byte("ref"), []byte("body"))
			if err := db.Write(ref, true); err != nil {
				t.Fatal(err)
			}

			cut, err := fs.PowerCut()
			if err != nil {
				t.Fatal(err)
			}
			after, err := openStorage(cut, &opt.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer after.Close()
			_, refErr := after.Get([]byte("ref"))
			_, bodyErr := after.Get([]byte("body"))
			if refErr != nil {
				t.Fatalf("the synced record was lost: %v", refErr)
			}
			lost := errors.Is(bodyErr, ErrNotFound)
			if wrapped && lost {
				t.Fatal("after a power cut the synced record survived without the earlier one")
			}
			if !wrapped && !lost {
				// The check above would prove nothing if the cut did not
				// lose the unsynced journal without the wrapper.
				t.Fatal("without journalSyncStorage the earlier record survived: the power cut is not simulated")
			}
		})
	}
}
