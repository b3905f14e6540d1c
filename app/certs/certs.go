// Package certs keeps the box's TLS certificate: it obtains one for the app's hostname from an
// ACME CA (Let's Encrypt by default) with the HTTP-01 challenge, renews it well before it
// expires, and keeps the account key, the certificate and its private key in one directory
// only the service reads, on the box's data volume, so that a reboot or a replaced instance
// does not ask the CA again (Let's Encrypt limits duplicate certificates to 5 a week). The
// private key is made on the box and never leaves it.
package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/go-acme/lego/v4/certcrypto"
	"github.com/go-acme/lego/v4/certificate"
	"github.com/go-acme/lego/v4/lego"
	"github.com/go-acme/lego/v4/providers/http/webroot"
	"github.com/go-acme/lego/v4/registration"
)

// The files in Config.Dir.
const (
	CertFile    = "cert.pem"     // the certificate and its chain, as nginx's ssl_certificate takes it
	KeyFile     = "key.pem"      // the certificate's private key (0600)
	accountKey  = "account.key"  // the ACME account's key (0600)
	accountFile = "account.json" // the account's registration and the directory it is with
)

// Config says what to keep and where.
type Config struct {
	Domain    string // required: the hostname the certificate is for
	Directory string // required: the CA's ACME directory URL
	Dir       string // required: where the account, the certificate and its key live; made 0700
	// Webroot is the directory the web server serves /.well-known/acme-challenge/ from over
	// HTTP on port 80, where the CA looks for the challenge. Required.
	Webroot string
	Email   string // the account's contact; default none (Let's Encrypt sends no mail since 2025)
	// HTTPClient talks to the CA; nil: lego's default (the system's roots).
	HTTPClient *http.Client
	// Now is the clock renewals are judged by; nil: time.Now.
	Now func() time.Time
}

func (c *Config) validate() error {
	if c.Domain == "" || c.Directory == "" || c.Dir == "" || c.Webroot == "" {
		return errors.New("certs: Config needs Domain, Directory, Dir and Webroot")
	}
	return nil
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Outcome is what Ensure did.
type Outcome string

// What Ensure can do.
const (
	Kept     Outcome = "kept"     // the certificate on disk is good for a while yet
	Obtained Outcome = "obtained" // there was none (or none for this hostname or CA)
	Renewed  Outcome = "renewed"  // the one on disk was near its expiry
)

// Due reports whether a certificate should be renewed at now: in the last third of its
// lifetime, as Let's Encrypt advises (30 days before a 90-day certificate expires, 2 days
// before a 6-day one).
func Due(cert *x509.Certificate, now time.Time) bool {
	life := cert.NotAfter.Sub(cert.NotBefore)
	return now.After(cert.NotAfter.Add(-life / 3))
}

// Current reads the certificate on disk; nil when there is none, or it does not pair with its
// key.
func Current(dir string) *x509.Certificate {
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
	if err != nil || len(pair.Certificate) == 0 {
		return nil
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil
	}
	return leaf
}

// Ensure makes sure Dir holds a certificate for Domain from Directory that is not due for
// renewal: it keeps the one there, or obtains one. It returns what it did and the certificate.
func Ensure(cfg Config) (Outcome, *x509.Certificate, error) {
	if err := cfg.validate(); err != nil {
		return "", nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return "", nil, fmt.Errorf("certificate directory: %w", err)
	}
	// MkdirAll leaves an existing directory's mode alone: tighten it.
	if err := os.Chmod(cfg.Dir, 0o700); err != nil {
		return "", nil, fmt.Errorf("certificate directory: %w", err)
	}
	acct, err := loadAccount(cfg)
	if err != nil {
		return "", nil, err
	}
	outcome := Obtained
	if cur := Current(cfg.Dir); cur != nil && cur.VerifyHostname(cfg.Domain) == nil && acct.Directory == cfg.Directory {
		if !Due(cur, cfg.now()) {
			return Kept, cur, nil
		}
		outcome = Renewed
	}
	client, err := acct.client(cfg)
	if err != nil {
		return "", nil, err
	}
	res, err := client.Certificate.Obtain(certificate.ObtainRequest{Domains: []string{cfg.Domain}, Bundle: true})
	if err != nil {
		return "", nil, fmt.Errorf("obtaining a certificate for %s from %s: %w", cfg.Domain, cfg.Directory, err)
	}
	// The key first: a certificate never sits beside a key it does not pair with for longer
	// than a rename, and one that does not pair is obtained again (Current).
	if err := writeFile(filepath.Join(cfg.Dir, KeyFile), res.PrivateKey, 0o600); err != nil {
		return "", nil, err
	}
	if err := writeFile(filepath.Join(cfg.Dir, CertFile), res.Certificate, 0o644); err != nil {
		return "", nil, err
	}
	cur := Current(cfg.Dir)
	if cur == nil {
		return "", nil, fmt.Errorf("the certificate %s obtained for %s does not load", cfg.Directory, cfg.Domain)
	}
	return outcome, cur, nil
}

// account is the ACME account, as lego's registration.User.
type account struct {
	Email        string                 `json:"email,omitempty"`
	Directory    string                 `json:"directory"`
	Registration *registration.Resource `json:"registration"`
	key          crypto.PrivateKey
	path         string
}

func (a *account) GetEmail() string                        { return a.Email }
func (a *account) GetRegistration() *registration.Resource { return a.Registration }
func (a *account) GetPrivateKey() crypto.PrivateKey        { return a.key }

// loadAccount reads the account's key (making one the first time) and its registration with
// the CA, if any.
func loadAccount(cfg Config) (*account, error) {
	keyPath := filepath.Join(cfg.Dir, accountKey)
	raw, err := os.ReadFile(keyPath)
	if errors.Is(err, fs.ErrNotExist) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("account key: %w", err)
		}
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return nil, fmt.Errorf("account key: %w", err)
		}
		raw = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
		if err := writeFile(keyPath, raw, 0o600); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("account key: %w", err)
	}
	key, err := certcrypto.ParsePEMPrivateKey(raw)
	if err != nil {
		return nil, fmt.Errorf("account key %s: %w", keyPath, err)
	}
	a := &account{key: key, path: filepath.Join(cfg.Dir, accountFile)}
	if doc, err := os.ReadFile(a.path); err == nil {
		if err := json.Unmarshal(doc, a); err != nil {
			return nil, fmt.Errorf("account %s: %w", a.path, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("account: %w", err)
	}
	return a, nil
}

// client is a lego client for the account, registering it with the CA the first time (or
// when the CA changed).
func (a *account) client(cfg Config) (*lego.Client, error) {
	if a.Directory != cfg.Directory || a.Registration == nil {
		a.Directory, a.Registration, a.Email = cfg.Directory, nil, cfg.Email
	}
	lc := lego.NewConfig(a)
	lc.CADirURL = cfg.Directory
	lc.Certificate.KeyType = certcrypto.EC256
	lc.UserAgent = "llama-app"
	if cfg.HTTPClient != nil {
		lc.HTTPClient = cfg.HTTPClient
	}
	client, err := lego.NewClient(lc)
	if err != nil {
		return nil, fmt.Errorf("ACME directory %s: %w", cfg.Directory, err)
	}
	if err := os.MkdirAll(cfg.Webroot, 0o755); err != nil {
		return nil, fmt.Errorf("ACME webroot: %w", err)
	}
	p, err := webroot.NewHTTPProvider(cfg.Webroot)
	if err != nil {
		return nil, fmt.Errorf("ACME webroot: %w", err)
	}
	if err := client.Challenge.SetHTTP01Provider(p); err != nil {
		return nil, fmt.Errorf("ACME webroot: %w", err)
	}
	if a.Registration == nil {
		reg, err := client.Registration.Register(registration.RegisterOptions{TermsOfServiceAgreed: true})
		if err != nil {
			return nil, fmt.Errorf("registering with %s: %w", cfg.Directory, err)
		}
		a.Registration = reg
		doc, err := json.MarshalIndent(a, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("account: %w", err)
		}
		if err := writeFile(a.path, doc, 0o600); err != nil {
			return nil, err
		}
	}
	return client, nil
}

// writeFile replaces a file atomically: a reader (nginx reloading) sees the old or the new.
func writeFile(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// NginxInclude is the part of the app's nginx server that serves HTTPS with the certificate in
// dir: a listener on 443 (TLS 1.2 and 1.3, the protocols the load balancer's policy allows)
// and the variable the server's HTTP locations redirect on. (listen ... http2 rather than
// "http2 on", which nginx before 1.25.1 does not know.) The boot script includes it from
// the server block once it exists, so a box without a certificate keeps serving HTTP.
func NginxInclude(dir string) string {
	return fmt.Sprintf(`# Written by llama-app tls once a certificate is in place.
listen 443 ssl http2;
ssl_certificate %s;
ssl_certificate_key %s;
ssl_protocols TLSv1.2 TLSv1.3;
ssl_prefer_server_ciphers off;
ssl_session_cache shared:llama_tls:10m;
ssl_session_timeout 1d;
set $llama_https on;
`, filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
}

// WriteNginx writes the include to path unless it already says the same, and reports whether
// it changed (nginx then needs a reload).
func WriteNginx(path, dir string) (bool, error) {
	want := NginxInclude(dir)
	if have, err := os.ReadFile(path); err == nil && string(have) == want {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, fmt.Errorf("nginx include: %w", err)
	}
	return true, writeFile(path, []byte(want), 0o644)
}
