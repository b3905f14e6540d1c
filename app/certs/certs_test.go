package certs

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
)

// acmeServer is Pebble, Let's Encrypt's test CA, on loopback, validating HTTP-01 challenges
// against a web server that serves the box's webroot, as nginx does on port 80.
type acmeServer struct {
	Directory string
	Client    *http.Client // trusts the CA's TLS endpoint
	Roots     *x509.CertPool
	Webroot   string
}

// startPebble starts the CA and the challenge web server; both stop with the test.
func startPebble(t *testing.T) *acmeServer {
	t.Helper()
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")      // validate at once
	t.Setenv("PEBBLE_WFE_NONCEREJECT", "0") // no deliberately bad nonces
	webrootDir := t.TempDir()
	challenge := httptest.NewUnstartedServer(http.FileServer(http.Dir(webrootDir)))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	challenge.Listener = l
	challenge.Start()
	t.Cleanup(challenge.Close)
	port := l.Addr().(*net.TCPAddr).Port
	logger := log.New(io.Discard, "", 0)
	store := db.NewMemoryStore()
	authority := ca.New(logger, store, "", "ecdsa", 0, 1, map[string]ca.Profile{"default": {Description: "test"}})
	validator := va.New(logger, port, 0, false, "", store)
	front := wfe.New(logger, store, validator, authority, []string{"pebble.letsencrypt.org"}, false, false, 0, 0)
	srv := httptest.NewTLSServer(front.Handler())
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(authority.GetRootCert(0).Cert)
	return &acmeServer{Directory: srv.URL + wfe.DirectoryPath, Client: srv.Client(), Roots: roots, Webroot: webrootDir}
}

func (s *acmeServer) config(dir string) Config {
	return Config{Domain: "localhost", Directory: s.Directory, Dir: dir, Webroot: s.Webroot, HTTPClient: s.Client}
}

// serve answers one TLS handshake with the certificate on disk, as nginx would, and returns the
// chain the client was shown.
func serve(t *testing.T, dir string, roots *x509.CertPool) *x509.Certificate {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatalf("the certificate and key on disk do not load: %v", err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	conn, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{ServerName: "localhost", RootCAs: roots})
	if err != nil {
		t.Fatalf("a client that trusts the CA refuses the served certificate: %v", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0]
}

// TestTheBoxKeepsItsCertificate runs the box's certificate life against a real ACME server:
// the first certificate is obtained over HTTP-01 and served, a restart reuses it, one near its
// expiry is renewed, and the keys are private to the service.
func TestTheBoxKeepsItsCertificate(t *testing.T) {
	acme := startPebble(t)
	dir := filepath.Join(t.TempDir(), "tls")
	cfg := acme.config(dir)

	outcome, first, err := Ensure(cfg)
	if err != nil {
		t.Fatalf("first certificate: %v", err)
	}
	if outcome != Obtained || first.VerifyHostname("localhost") != nil {
		t.Fatalf("first run: %s, a certificate for %v", outcome, first.DNSNames)
	}
	if got := serve(t, dir, acme.Roots); got.SerialNumber.Cmp(first.SerialNumber) != 0 {
		t.Errorf("served serial %v, obtained %v", got.SerialNumber, first.SerialNumber)
	}

	// A restart (a new process, the same data volume) keeps what it has: no call to the CA.
	restart := cfg
	restart.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		t.Errorf("a restart with a good certificate asked the CA: %s", r.URL)
		return nil, http.ErrHandlerTimeout
	})}
	outcome, again, err := Ensure(restart)
	if err != nil || outcome != Kept || again.SerialNumber.Cmp(first.SerialNumber) != 0 {
		t.Errorf("restart: %s, serial %v (first %v), %v", outcome, again.SerialNumber, first.SerialNumber, err)
	}

	// Near the end of its life (inside the last third) it is renewed, with a new key.
	oldKey, _ := os.ReadFile(filepath.Join(dir, KeyFile))
	late := cfg
	late.Now = func() time.Time { return first.NotAfter.Add(-first.NotAfter.Sub(first.NotBefore) / 4) }
	if !Due(first, late.Now()) {
		t.Fatalf("a certificate with a quarter of its life left is not due")
	}
	outcome, renewed, err := Ensure(late)
	if err != nil || outcome != Renewed || renewed.SerialNumber.Cmp(first.SerialNumber) == 0 {
		t.Fatalf("renewal: %s, serial %v (first %v), %v", outcome, renewed.SerialNumber, first.SerialNumber, err)
	}
	if newKey, _ := os.ReadFile(filepath.Join(dir, KeyFile)); string(newKey) == string(oldKey) {
		t.Errorf("the renewal kept the old private key")
	}
	if got := serve(t, dir, acme.Roots); got.SerialNumber.Cmp(renewed.SerialNumber) != 0 {
		t.Errorf("after renewal the served serial is %v, want %v", got.SerialNumber, renewed.SerialNumber)
	}

	// Private to the service: the directory and every key are its owner's alone.
	for _, f := range []string{"", KeyFile, accountKey, accountFile} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is %v: others can read it", filepath.Join(dir, f), st.Mode().Perm())
		}
	}
}

// TestAnotherCAOrHostnameIssuesAgain: a certificate from another CA (staging to production) or
// for another hostname is replaced, not kept.
func TestAnotherCAOrHostnameIssuesAgain(t *testing.T) {
	acme := startPebble(t)
	dir := filepath.Join(t.TempDir(), "tls")
	cfg := acme.config(dir)
	if _, _, err := Ensure(cfg); err != nil {
		t.Fatal(err)
	}
	other := startPebble(t)
	moved := other.config(dir)
	if outcome, _, err := Ensure(moved); err != nil || outcome != Obtained {
		t.Errorf("after the CA changed: %s, %v; want a new certificate", outcome, err)
	}
}

// TestNginxInclude: the include that turns on 443 and the redirect is
// written once, names the files on the data volume, and a second write changes nothing.
func TestNginxInclude(t *testing.T) {
	path := filepath.Join(t.TempDir(), "llama.d", "tls.conf")
	changed, err := WriteNginx(path, "/var/lib/pgsql/llama-tls")
	if err != nil || !changed {
		t.Fatalf("first write: changed %v, %v", changed, err)
	}
	body, _ := os.ReadFile(path)
	for _, want := range []string{"listen 443 ssl http2;", "ssl_certificate /var/lib/pgsql/llama-tls/cert.pem;", "ssl_certificate_key /var/lib/pgsql/llama-tls/key.pem;", "TLSv1.2 TLSv1.3", "set $llama_https on;"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the include lacks %q:\n%s", want, body)
		}
	}
	if changed, err := WriteNginx(path, "/var/lib/pgsql/llama-tls"); err != nil || changed {
		t.Errorf("an unchanged include was rewritten (%v, %v): nginx would reload for nothing", changed, err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
