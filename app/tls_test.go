package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llama-stages/llama/app/rdsca"
)

// serverCertificate writes a CA to caPath and, into a PostgreSQL data directory, a server
// certificate for localhost it signed (server.crt, server.key), as RDS's are signed by its CA.
func serverCertificate(data, caPath string) error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Llama test database CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		path string
		pem  *pem.Block
		mode os.FileMode
	}{
		{caPath, &pem.Block{Type: "CERTIFICATE", Bytes: caDER}, 0o644},
		{filepath.Join(data, "server.crt"), &pem.Block{Type: "CERTIFICATE", Bytes: der}, 0o644},
		{filepath.Join(data, "server.key"), &pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}, 0o600},
	} {
		if err := os.WriteFile(f.path, pem.EncodeToMemory(f.pem), f.mode); err != nil {
			return err
		}
	}
	return nil
}

// TestVerifyFull: with sslmode=verify-full the app connects to a database whose certificate its
// CA signed for the host it dialled, and refuses one signed by another CA (the RDS bundle does
// not hold the test's CA) or presented for another name: a server in between cannot pose as the
// database.
func TestVerifyFull(t *testing.T) {
	need(t, true, false, false)
	// PostgreSQL runs as its own user where the tests run as root: a directory it can enter.
	dir, err := os.MkdirTemp("", "llama-tls-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	var p *proc
	p, err = startPostgres(dir, pgBin(), "tls", "tls")
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	ca, err := os.ReadFile(filepath.Join(dir, "tls-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	try := func(host, mode, root string) error {
		c := connector{pgTarget{Name: "primary", Endpoint: Endpoint{host, p.port}, Database: "llama", User: pgUser, Password: pgPassword,
			SSLMode: mode, RootCert: root}}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := c.Connect(ctx)
		if err == nil {
			conn.Close()
		}
		return err
	}
	if err := try("localhost", "verify-full", string(ca)); err != nil {
		t.Errorf("verify-full against the database's own CA: %v", err)
	}
	if err := try("localhost", "verify-full", ""); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("verify-full against the RDS bundle accepted a certificate RDS did not sign: %v", err)
	}
	if err := try("127.0.0.1", "verify-full", string(ca)); err == nil {
		t.Error("verify-full accepted a certificate for another name than the host dialled")
	}
	if err := try("127.0.0.1", "require", ""); err != nil {
		t.Errorf("require (encrypted, unverified) no longer connects: %v", err)
	}
	if !strings.Contains(rdsca.Bundle, "BEGIN CERTIFICATE") {
		t.Error("the app carries no RDS certificate authority")
	}
}
