package wallet

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// The wallet file: a small JSON envelope naming the key derivation and
// the cipher, around the whole wallet (mnemonic, keys' state, history)
// sealed with XChaCha20-Poly1305 under a key derived from the password by
// Argon2id. Nothing in it is readable without the password; a wrong
// password or a changed byte fails the authentication and the file is left
// as it was. Every save writes a new file, syncs it and renames it over
// the old one, so a crash leaves the old or the new wallet, never a mix.

// fileVersion is the envelope's format version.
const fileVersion = 1

// KDFParams are Argon2id's cost parameters.
type KDFParams struct {
	Time    uint32 `json:"time"`
	Memory  uint32 `json:"memory_kib"`
	Threads uint8  `json:"threads"`
}

// DefaultKDFParams returns the cost a new wallet file gets unless
// CreateOptions.KDF says otherwise: RFC 9106's second recommended setting
// (64 MiB, 3 passes), about a fifth of a second here, once per command.
func DefaultKDFParams() KDFParams { return KDFParams{Time: 3, Memory: 64 << 10, Threads: 4} }

// Bounds of the key derivation a wallet file may ask for. The parameters
// are read from the file before the password can be checked, so a damaged
// or tampered file must not be able to make a command allocate gigabytes
// or run for minutes: at most 1 GiB of memory, 16 passes, 64 threads, and
// 4 GiB-passes of work in all (about 20 times the default's).
const (
	maxKDFMemoryKiB = 1 << 20
	maxKDFTime      = 16
	maxKDFThreads   = 64
	maxKDFWorkKiB   = 4 << 20 // memory x passes
)

// valid reports whether p is within the bounds a wallet file may state.
func (p KDFParams) valid() bool {
	return p.Time >= 1 && p.Time <= maxKDFTime && p.Memory >= 8 && p.Memory <= maxKDFMemoryKiB &&
		p.Threads >= 1 && p.Threads <= maxKDFThreads && uint64(p.Time)*uint64(p.Memory) <= maxKDFWorkKiB
}

// kdfBounds describes the bounds for error messages.
const kdfBounds = "1 to 16 passes, 8 KiB to 1 GiB of memory, at most 4 GiB-passes in all, 1 to 64 threads"

// envelope is the file's JSON.
type envelope struct {
	Version int       `json:"version"`
	KDF     string    `json:"kdf"`
	Params  KDFParams `json:"kdf_params"`
	Salt    []byte    `json:"salt"`
	Cipher  string    `json:"cipher"`
	Nonce   []byte    `json:"nonce"`
	Sealed  []byte    `json:"sealed"`
}

// Errors of the wallet file.
var (
	ErrWrongPassword = errors.New("wallet: wrong password, or the wallet file was altered")
	ErrNoWallet      = errors.New("wallet: no wallet file")
	ErrWalletExists  = errors.New("wallet: a wallet file already exists")
	// ErrGenesisChanged: the wallet is of a network of the same name
	// whose genesis block has since changed (it was created again).
	ErrGenesisChanged = errors.New("wallet: the network's genesis block changed")
)

// seal encrypts plain under password.
func seal(plain, password []byte, kdf KDFParams) ([]byte, error) {
	env := envelope{Version: fileVersion, KDF: "argon2id", Params: kdf, Cipher: "xchacha20poly1305",
		Salt: make([]byte, 16), Nonce: make([]byte, chacha20poly1305.NonceSizeX)}
	if _, err := rand.Read(env.Salt); err != nil {
		return nil, err
	}
	if _, err := rand.Read(env.Nonce); err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.NewX(argon2.IDKey(password, env.Salt, kdf.Time, kdf.Memory, kdf.Threads, chacha20poly1305.KeySize))
	if err != nil {
		return nil, err
	}
	env.Sealed = aead.Seal(nil, env.Nonce, plain, env.header())
	return json.MarshalIndent(env, "", "  ")
}

// header is the authenticated (not secret) part of the envelope: a change
// to the parameters fails like a change to the sealed bytes.
func (e *envelope) header() []byte {
	return fmt.Appendf(nil, "cairn-wallet/%d/%s/%d/%d/%d/%s", e.Version, e.KDF, e.Params.Time, e.Params.Memory, e.Params.Threads, e.Cipher)
}

// open decrypts a sealed file.
func open(raw, password []byte) ([]byte, KDFParams, error) {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, KDFParams{}, fmt.Errorf("wallet: the wallet file is damaged (not its JSON envelope): %v", err)
	}
	switch {
	case env.Version != fileVersion:
		return nil, KDFParams{}, fmt.Errorf("wallet: wallet file version %d, this cairn reads %d", env.Version, fileVersion)
	case env.KDF != "argon2id" || env.Cipher != "xchacha20poly1305":
		return nil, KDFParams{}, fmt.Errorf("wallet: wallet file uses %s/%s, this cairn reads argon2id/xchacha20poly1305", env.KDF, env.Cipher)
	case len(env.Salt) < 16 || len(env.Nonce) != chacha20poly1305.NonceSizeX:
		return nil, KDFParams{}, errors.New("wallet: the wallet file is damaged (salt or nonce)")
	case !env.Params.valid():
		return nil, KDFParams{}, fmt.Errorf("wallet: the wallet file asks for key derivation parameters %+v, beyond what "+
			"cairn accepts (%s): it is damaged or was tampered with, and no key was derived", env.Params, kdfBounds)
	}
	aead, err := chacha20poly1305.NewX(argon2.IDKey(password, env.Salt, env.Params.Time, env.Params.Memory, env.Params.Threads, chacha20poly1305.KeySize))
	if err != nil {
		return nil, KDFParams{}, err
	}
	plain, err := aead.Open(nil, env.Nonce, env.Sealed, env.header())
	if err != nil {
		return nil, KDFParams{}, ErrWrongPassword
	}
	return plain, env.Params, nil
}

// lockWait bounds how long a command waits for another one using the
// same wallet file.
var lockWait = 10 * time.Second

// lockFile takes an exclusive lock on path+".lock", waiting up to
// lockWait for another cairn wallet command to finish with the file, so
// that two commands never save over each other.
func lockFile(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("wallet: %w", err)
	}
	f, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("wallet: %w", err)
	}
	deadline := time.Now().Add(lockWait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("wallet: %s is in use by another cairn wallet command: %v", path, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
