package rpc

import (
	"reflect"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chaintest"
)

// TestTipCallsWaitForPool ensures submitblock, generateblock and
// invalidateblock return with the pool already valid on the new tip, as
// Core's is (its pool is updated within ActivateBestChain): here the pool
// hears of each block 300 ms late, as on a busy node, and getrawmempool
// right after the call must not show a transaction the submitted or
// generated block confirmed, nor miss one the invalidated block gave back.
func TestTipCallsWaitForPool(t *testing.T) {
	n := newPoolNode(t, 1)
	tx := n.spend(t, []chaintest.SpendableOut{n.coinbase(0)}, 1, 1000)
	n.send(t, tx)
	lateNotice := func() chan struct{} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			time.Sleep(300 * time.Millisecond)
			select {
			case note := <-n.sub.C():
				n.pool.HandleNotification(note)
			case <-time.After(settleTimeout):
			}
		}()
		return done
	}

	parent := n.g.TipName()
	b := n.g.NextBlock("c0", nil, []*wire.MsgTx{tx})
	done := lateNotice()
	if res := mustCall(t, n.srv, "submitblock", blockHex(b)); string(res) != "null" {
		t.Fatalf("submitblock: %s", res)
	}
	if got := txidSet(t, "getrawmempool", mustCall(t, n.srv, "getrawmempool")); len(got) != 0 {
		t.Errorf("getrawmempool right after submitblock = %v, want the confirmed transaction gone", got)
	}
	<-done

	done = lateNotice()
	mustCall(t, n.srv, "invalidateblock", b.BlockHash().String())
	if got := txidSet(t, "getrawmempool", mustCall(t, n.srv, "getrawmempool")); !reflect.DeepEqual(got, sortedIDs(tx)) {
		t.Errorf("getrawmempool right after invalidateblock = %v, want %v back", got, sortedIDs(tx))
	}
	<-done

	// generateblock, with the transaction the invalidation gave back, on
	// the tip the invalidation left.
	n.g.SetTip(parent)
	done = lateNotice()
	mustCall(t, n.srv, "generateblock", n.addr, []string{tx.TxHash().String()})
	if got := txidSet(t, "getrawmempool", mustCall(t, n.srv, "getrawmempool")); len(got) != 0 {
		t.Errorf("getrawmempool right after generateblock = %v, want the confirmed transaction gone", got)
	}
	<-done
}
