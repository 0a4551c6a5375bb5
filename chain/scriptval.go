package chain

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/minio/sha256-simd"

	"github.com/cairnchain/cairn/chain/consensus"
)

// ScriptFlags returns the consensus script verification flags for a block at
// height: P2SH always, and each soft fork from its activation height on.
func ScriptFlags(p *consensus.Params, height int32) txscript.ScriptFlags {
	flags := txscript.ScriptBip16
	if height >= p.BIP66Height {
		flags |= txscript.ScriptVerifyDERSignatures
	}
	if height >= p.BIP65Height {
		flags |= txscript.ScriptVerifyCheckLockTimeVerify
	}
	if height >= p.CSVHeight {
		flags |= txscript.ScriptVerifyCheckSequenceVerify
	}
	if height >= p.SegwitHeight {
		flags |= txscript.ScriptVerifyWitness | txscript.ScriptStrictMultiSig
	}
	if height >= p.TaprootHeight && height >= p.SegwitHeight {
		flags |= txscript.ScriptVerifyTaproot
	}
	return flags
}

// ScriptCache remembers transactions whose scripts all passed under a set of
// flags (Bitcoin Core's script execution cache), so that a transaction the
// mempool verified is not verified again when its block arrives. An entry is
// keyed by wtxid and flags: the outputs a transaction spends are fixed by
// its inputs' txids, so the key determines the result.
//
// It is safe for concurrent access.
type ScriptCache struct {
	max int

	mu sync.RWMutex
	m  map[chainhash.Hash]struct{}
}

// NewScriptCache returns a cache holding at most max entries.
func NewScriptCache(max int) *ScriptCache {
	return &ScriptCache{max: max, m: make(map[chainhash.Hash]struct{})}
}

func scriptCacheKey(wtxid *chainhash.Hash, flags txscript.ScriptFlags) chainhash.Hash {
	var buf [chainhash.HashSize + 4]byte
	copy(buf[:], wtxid[:])
	binary.LittleEndian.PutUint32(buf[chainhash.HashSize:], uint32(flags))
	return sha256.Sum256(buf[:])
}

// Contains reports whether the transaction with wtxid passed under flags.
func (c *ScriptCache) Contains(wtxid *chainhash.Hash, flags txscript.ScriptFlags) bool {
	if c == nil {
		return false
	}
	k := scriptCacheKey(wtxid, flags)
	c.mu.RLock()
	_, ok := c.m[k]
	c.mu.RUnlock()
	return ok
}

// Add records that the transaction with wtxid passed under flags, evicting
// a random entry when full.
func (c *ScriptCache) Add(wtxid *chainhash.Hash, flags txscript.ScriptFlags) {
	if c == nil || c.max <= 0 {
		return
	}
	k := scriptCacheKey(wtxid, flags)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for victim := range c.m {
			delete(c.m, victim)
			break
		}
	}
	c.m[k] = struct{}{}
}

// TxScriptJob is one transaction to verify: the transaction, the outputs its
// inputs spend (in input order), and its position for error messages.
type TxScriptJob struct {
	Tx       *wire.MsgTx
	PrevOuts []*wire.TxOut
}

// ScriptValidator verifies the scripts of many transactions on all cores,
// one input at a time, while the caller keeps feeding it. It stops at the
// first failure.
type ScriptValidator struct {
	flags    txscript.ScriptFlags
	sigCache *txscript.SigCache

	inputs chan inputJob
	wg     sync.WaitGroup

	errOnce sync.Once
	err     error
	failed  chan struct{}
}

// txState holds what all inputs of one transaction share.
type txState struct {
	job     *TxScriptJob
	once    sync.Once
	fetcher txscript.PrevOutputFetcher
	hashes  *txscript.TxSigHashes
}

func (s *txState) prepare() {
	s.once.Do(func() {
		if len(s.job.Tx.TxIn) == 1 {
			out := s.job.PrevOuts[0]
			s.fetcher = txscript.NewCannedPrevOutputFetcher(out.PkScript, out.Value)
		} else {
			m := make(map[wire.OutPoint]*wire.TxOut, len(s.job.Tx.TxIn))
			for i, in := range s.job.Tx.TxIn {
				m[in.PreviousOutPoint] = s.job.PrevOuts[i]
			}
			s.fetcher = txscript.NewMultiPrevOutFetcher(m)
		}
		s.hashes = txscript.NewTxSigHashes(s.job.Tx, s.fetcher)
	})
}

type inputJob struct {
	tx  *txState
	idx int
}

// NewScriptValidator starts workers (GOMAXPROCS when workers <= 0).
func NewScriptValidator(flags txscript.ScriptFlags, sigCache *txscript.SigCache, workers int) *ScriptValidator {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	v := &ScriptValidator{
		flags:    flags,
		sigCache: sigCache,
		inputs:   make(chan inputJob, 256),
		failed:   make(chan struct{}),
	}
	v.wg.Add(workers)
	for i := 0; i < workers; i++ {
		go v.work()
	}
	return v
}

func (v *ScriptValidator) work() {
	defer v.wg.Done()
	for j := range v.inputs {
		select {
		case <-v.failed:
			continue // drain
		default:
		}
		if err := v.verify(j); err != nil {
			v.errOnce.Do(func() {
				v.err = err
				close(v.failed)
			})
		}
	}
}

func (v *ScriptValidator) verify(j inputJob) error {
	j.tx.prepare()
	tx := j.tx.job.Tx
	prev := j.tx.job.PrevOuts[j.idx]
	vm, err := txscript.NewEngine(prev.PkScript, tx, j.idx, v.flags, v.sigCache,
		j.tx.hashes, prev.Value, j.tx.fetcher)
	if err == nil {
		err = vm.Execute()
	}
	if err != nil {
		return consensus.RuleError{
			Err: consensus.ErrScriptValidation,
			Description: fmt.Sprintf("mandatory-script-verify-flag-failed (%v): input %d of %v",
				err, j.idx, tx.TxHash()),
		}
	}
	return nil
}

// Add queues every input of job. It returns early once a failure is known.
func (v *ScriptValidator) Add(job *TxScriptJob) {
	s := &txState{job: job}
	for i := range job.Tx.TxIn {
		select {
		case v.inputs <- inputJob{tx: s, idx: i}:
		case <-v.failed:
			return
		}
	}
}

// Wait waits for every queued input and returns the first failure.
func (v *ScriptValidator) Wait() error {
	close(v.inputs)
	v.wg.Wait()
	return v.err
}

// ValidateTransactionScripts verifies every input of each job under flags on
// all cores, skipping transactions the script cache already holds and adding
// those that pass. The mempool calls it with the same caches as the chain,
// so that blocks reuse its work.
func ValidateTransactionScripts(jobs []*TxScriptJob, flags txscript.ScriptFlags,
	sigCache *txscript.SigCache, scriptCache *ScriptCache) error {

	var todo []*TxScriptJob
	inputs := 0
	for _, j := range jobs {
		w := consensus.WitnessHash(j.Tx)
		if scriptCache.Contains(&w, flags) {
			continue
		}
		todo = append(todo, j)
		inputs += len(j.Tx.TxIn)
	}
	if inputs <= inlineInputs {
		// A small transaction (the usual relay case) is verified on the
		// caller's goroutine: callers such as the mempool already run
		// concurrently, and workers would cost more than they save.
		v := &ScriptValidator{flags: flags, sigCache: sigCache}
		for _, j := range todo {
			s := &txState{job: j}
			for i := range j.Tx.TxIn {
				if err := v.verify(inputJob{tx: s, idx: i}); err != nil {
					return err
				}
			}
		}
	} else {
		v := NewScriptValidator(flags, sigCache, 0)
		for _, j := range todo {
			v.Add(j)
		}
		if err := v.Wait(); err != nil {
			return err
		}
	}
	for _, j := range todo {
		w := consensus.WitnessHash(j.Tx)
		scriptCache.Add(&w, flags)
	}
	return nil
}

// inlineInputs is the most inputs ValidateTransactionScripts verifies
// without starting workers.
const inlineInputs = 4
