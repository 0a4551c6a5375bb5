package utxo

import (
	"fmt"
	"sync"

	"github.com/btcsuite/btcd/wire"
)

// slotOverhead estimates what one map slot costs besides its entry: the
// outpoint key, the slot struct and the map's own bookkeeping. Spent slots
// waiting to be written as deletes cost it too.
const slotOverhead = 96

// size returns the bytes a slot costs.
func (s *cached) size() int64 {
	if s.entry == nil {
		return slotOverhead
	}
	return slotOverhead + s.entry.memSize()
}

// cached is one cache slot. entry nil means spent.
type cached struct {
	entry *Entry
	// dirty: the slot differs from the backend and must be written.
	dirty bool
	// fresh: the backend has no record of this outpoint, so spending it
	// before a flush needs no write at all.
	fresh bool
}

// CacheStats are the cache's counters.
type CacheStats struct {
	Entries int
	Dirty   int
	Bytes   int64
	Hits    uint64
	Misses  uint64
}

// HitRate returns hits / (hits + misses), or 0 before any lookup.
func (s CacheStats) HitRate() float64 {
	if s.Hits+s.Misses == 0 {
		return 0
	}
	return float64(s.Hits) / float64(s.Hits+s.Misses)
}

// Cache keeps recently used and recently changed entries in memory in front
// of a Backend, within a budget of bytes. Entries are immutable once cached:
// callers must not modify an *Entry they get from it.
//
// Changes enter only through [View.Commit] and leave only through [Cache.Flush].
// All methods are safe for concurrent access.
type Cache struct {
	backend  Backend
	maxBytes int64

	// mu protects the fields below.
	mu      sync.Mutex
	entries map[wire.OutPoint]*cached
	bytes   int64
	dirty   int
	hits    uint64
	misses  uint64
}

// NewCache returns an empty cache over backend that asks to be flushed once
// it holds more than maxBytes.
func NewCache(backend Backend, maxBytes int64) *Cache {
	return &Cache{backend: backend, maxBytes: maxBytes, entries: make(map[wire.OutPoint]*cached)}
}

// Fetch returns the unspent output at op, or nil when there is none.
func (c *Cache) Fetch(op wire.OutPoint) (*Entry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fetchLocked(op)
}

// fetchLocked is Fetch with c.mu held.
func (c *Cache) fetchLocked(op wire.OutPoint) (*Entry, error) {
	if s, ok := c.entries[op]; ok {
		c.hits++
		return s.entry, nil
	}
	c.misses++
	e, err := c.backend.FetchEntry(op)
	if err != nil {
		return nil, fmt.Errorf("fetch utxo %v: %w", op, err)
	}
	if e != nil {
		s := &cached{entry: e}
		c.entries[op] = s
		c.bytes += s.size()
	}
	return e, nil
}

// addLocked records a new unspent output.
func (c *Cache) addLocked(op wire.OutPoint, e *Entry) {
	s, ok := c.entries[op]
	if !ok {
		// Nothing cached: the backend cannot hold an unspent output
		// with this outpoint (BIP30), so the entry is fresh.
		s = &cached{entry: e, dirty: true, fresh: true}
		c.entries[op] = s
		c.bytes += s.size()
		c.dirty++
		return
	}
	c.bytes -= s.size()
	if !s.dirty {
		c.dirty++
	}
	s.entry, s.dirty = e, true
	c.bytes += s.size()
}

// spendLocked records that the output at op is spent.
func (c *Cache) spendLocked(op wire.OutPoint) {
	s, ok := c.entries[op]
	if !ok {
		s = &cached{dirty: true}
		c.entries[op] = s
		c.bytes += s.size()
		c.dirty++
		return
	}
	c.bytes -= s.size()
	if s.fresh {
		delete(c.entries, op)
		if s.dirty {
			c.dirty--
		}
		return
	}
	if !s.dirty {
		c.dirty++
	}
	s.entry, s.dirty = nil, true
	c.bytes += s.size()
}

// NeedsFlush reports whether the cache is over its budget.
func (c *Cache) NeedsFlush() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes > c.maxBytes
}

// Stats returns the cache's counters.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Entries: len(c.entries), Dirty: c.dirty, Bytes: c.bytes, Hits: c.hits, Misses: c.misses}
}

// Flush writes every dirty entry into w and returns how many it wrote. The
// cache still counts them dirty until [Cache.MarkFlushed], which the caller
// calls once w is safely written; if the write fails, nothing is lost.
func (c *Cache) Flush(w Writer) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	var buf []byte
	for op, s := range c.entries {
		if !s.dirty {
			continue
		}
		if s.entry == nil {
			w.Delete(Key(op))
		} else {
			buf = AppendEntry(buf[:0], s.entry)
			w.Put(Key(op), buf)
		}
		n++
	}
	return n
}

// MarkFlushed records that the last [Cache.Flush] reached the backend. With
// evict, it also empties the cache; otherwise it keeps the unspent entries
// as clean copies.
func (c *Cache) MarkFlushed(evict bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if evict {
		c.entries = make(map[wire.OutPoint]*cached)
		c.bytes, c.dirty = 0, 0
		return
	}
	for op, s := range c.entries {
		if s.entry == nil {
			c.bytes -= s.size()
			delete(c.entries, op)
			continue
		}
		s.dirty, s.fresh = false, false
	}
	c.dirty = 0
}

// ForEach calls fn for every unspent output, the cache's view of the set:
// backend entries overridden by cached changes. It holds the cache lock for
// the whole walk, so fn must not call back into the cache.
func (c *Cache) ForEach(fn func(op wire.OutPoint, e *Entry) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.backend.ForEach(func(op wire.OutPoint, e *Entry) error {
		if s, ok := c.entries[op]; ok && s.dirty {
			return nil // visited below from the cache
		}
		return fn(op, e)
	})
	if err != nil {
		return err
	}
	for op, s := range c.entries {
		if s.dirty && s.entry != nil {
			if err := fn(op, s.entry); err != nil {
				return err
			}
		}
	}
	return nil
}
