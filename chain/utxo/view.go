package utxo

import "github.com/btcsuite/btcd/wire"

// change is one pending change of a View; entry nil means spent.
type change struct {
	entry *Entry
	// created: the output was added by this view and never reached the
	// cache, so spending it again just forgets it.
	created bool
}

// View collects the UTXO changes of one block (connect or disconnect) on top
// of a Cache. Nothing reaches the cache until [View.Commit], so a block that
// fails half way leaves no trace. A View is used by one goroutine.
type View struct {
	cache   *Cache
	changes map[wire.OutPoint]change
}

// NewView returns an empty view over the cache.
func (c *Cache) NewView() *View {
	return &View{cache: c, changes: make(map[wire.OutPoint]change)}
}

// Fetch returns the unspent output at op as this view sees it, or nil.
func (v *View) Fetch(op wire.OutPoint) (*Entry, error) {
	if ch, ok := v.changes[op]; ok {
		return ch.entry, nil
	}
	return v.cache.Fetch(op)
}

// Add records a new unspent output.
func (v *View) Add(op wire.OutPoint, e *Entry) {
	ch, ok := v.changes[op]
	v.changes[op] = change{entry: e, created: !ok || ch.created}
}

// Spend records that op is spent and returns the entry it held, or nil (and
// no change) when op is not unspent in this view.
func (v *View) Spend(op wire.OutPoint) (*Entry, error) {
	e, err := v.Fetch(op)
	if err != nil || e == nil {
		return nil, err
	}
	if ch, ok := v.changes[op]; ok && ch.created {
		delete(v.changes, op)
		return e, nil
	}
	v.changes[op] = change{}
	return e, nil
}

// Commit applies the view's changes to the cache as one step.
func (v *View) Commit() {
	c := v.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	for op, ch := range v.changes {
		if ch.entry == nil {
			c.spendLocked(op)
		} else {
			c.addLocked(op, ch.entry)
		}
	}
	v.changes = nil
}
