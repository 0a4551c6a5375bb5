package electrum

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Names of the self-signed certificate and key kept in the network folder.
const (
	CertFile = "electrum.crt"
	KeyFile  = "electrum.key"
)

// LoadCertificate reads a PEM certificate and key. When both paths are
// empty it uses dir's electrum.crt and electrum.key, making a self-signed
// pair there on first use (as ElectrumX's operators do by hand): Electrum
// clients pin a server's certificate on first contact, so it must outlive
// restarts.
func LoadCertificate(dir, certPath, keyPath string) (tls.Certificate, error) {
	if (certPath == "") != (keyPath == "") {
		return tls.Certificate{}, errors.New("electrum: give both a certificate and its key, or neither")
	}
	if certPath == "" {
		certPath, keyPath = filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
		_, errC := os.Stat(certPath)
		_, errK := os.Stat(keyPath)
		switch {
		case errors.Is(errC, fs.ErrNotExist) && errors.Is(errK, fs.ErrNotExist):
			if err := makeSelfSigned(certPath, keyPath); err != nil {
				return tls.Certificate{}, err
			}
		case errors.Is(errC, fs.ErrNotExist) || errors.Is(errK, fs.ErrNotExist):
			return tls.Certificate{}, fmt.Errorf("electrum: one of %s and %s is missing; remove the other to make a new pair", certPath, keyPath)
		}
	}
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("electrum: TLS certificate: %w", err)
	}
	return cert, nil
}

// makeSelfSigned writes a new ECDSA P-256 key and a ten-year self-signed
// certificate for localhost and 127.0.0.1.
func makeSelfSigned(certPath, keyPath string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("electrum: make TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return fmt.Errorf("electrum: make TLS certificate: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Cairn Electrum server"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("electrum: make TLS certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("electrum: encode TLS key: %w", err)
	}
	// The key first: a certificate without its key is refused above.
	if err := writeFileAtomic(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	return writeFileAtomic(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return fmt.Errorf("electrum: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("electrum: write %s: %w", path, err)
	}
	return nil
}
