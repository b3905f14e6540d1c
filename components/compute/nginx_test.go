package compute

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/llama-stages/llama/app/certs"
)

// freePort is a loopback port nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// selfSigned writes a certificate and key for localhost where llama-app tls keeps them.
func selfSigned(t *testing.T, dir string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	os.MkdirAll(dir, 0o700)
	os.WriteFile(filepath.Join(dir, certs.CertFile), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(filepath.Join(dir, certs.KeyFile), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
}

// TestTheBoxRedirectsOnlyOnceItHasACertificate runs the box's nginx configuration, as the boot
// script writes it, in a real nginx on loopback: without a certificate it serves HTTP and
// nothing listens on the HTTPS port; once llama-app tls has written its include, HTTPS serves
// the app with TLS 1.2 or newer and HTTP redirects to it, except the ACME challenge, which the
// CA fetches over HTTP.
func TestTheBoxRedirectsOnlyOnceItHasACertificate(t *testing.T) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, e := os.Stat("/usr/sbin/nginx"); e != nil {
			if os.Getenv("CI") != "" {
				t.Fatal("nginx is not installed: .ci/run installs it (apt-get install -y nginx-light)")
			}
			t.Skip("nginx is not installed (apt-get install -y nginx-light); .ci/run installs it")
		}
		bin = "/usr/sbin/nginx"
	}
	script, err := boot(bootArgs{Box: true, VolumeID: "vol-0123", DBSecretArn: "arn", ParamPrefix: "/llama/dev", LogPrefix: "/llama/dev/box", Region: "us-east-1", SlowQueryMs: 500})
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(script, "cat > /etc/nginx/conf.d/llama.conf <<'NGINX'\n")
	conf, _, ok2 := strings.Cut(rest, "\nNGINX\n")
	if !ok || !ok2 {
		t.Fatal("the boot script writes no nginx configuration for the app")
	}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "app") }))
	defer app.Close()
	dir := t.TempDir()
	httpPort, httpsPort := freePort(t), freePort(t)
	for _, d := range []string{"llama.d", "acme/.well-known/acme-challenge", "srv/static", "logs"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	os.WriteFile(filepath.Join(dir, "acme/.well-known/acme-challenge/token"), []byte("key-authorization"), 0o644)
	conf = strings.NewReplacer("/etc/nginx/llama.d", dir+"/llama.d", "/var/lib/llama-acme", dir+"/acme", "/srv/llama", dir+"/srv",
		"/var/log/nginx/", dir+"/logs/", "127.0.0.1:8080", strings.TrimPrefix(app.URL, "http://"),
		"listen 80;", fmt.Sprintf("listen 127.0.0.1:%d;", httpPort)).Replace(conf)
	os.WriteFile(filepath.Join(dir, "llama.conf"), []byte(conf), 0o644)
	main := fmt.Sprintf("user root;\npid %[1]s/nginx.pid;\nerror_log %[1]s/logs/error.log;\nevents {}\nhttp {\n  client_body_temp_path %[1]s;\n  proxy_temp_path %[1]s;\n  include %[1]s/llama.conf;\n}\n", dir)
	os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o644)
	if out, err := exec.Command(bin, "-t", "-q", "-p", dir, "-c", dir+"/nginx.conf").CombinedOutput(); err != nil {
		t.Fatalf("nginx refuses the box's configuration: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", dir+"/nginx.conf", "-g", "daemon off;")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGQUIT); cmd.Wait() }()

	noFollow := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10}}}
	get := func(url string) (int, string, string) {
		t.Helper()
		var resp *http.Response
		var err error
		for i := 0; i < 50; i++ {
			if resp, err = noFollow.Get(url); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location"), string(body)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	if code, _, body := get(base + "/users/1"); code != 200 || body != "app" {
		t.Errorf("without a certificate the box does not serve the app over HTTP: %d %q", code, body)
	}
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", httpsPort), time.Second); err == nil {
		c.Close()
		t.Errorf("something listens on the HTTPS port before the box has a certificate")
	}

	// llama-app tls: a certificate on the data volume, the include, a reload.
	tlsDir := filepath.Join(dir, "tls")
	selfSigned(t, tlsDir)
	if _, err := certs.WriteNginx(filepath.Join(dir, "llama.d", "tls.conf"), tlsDir); err != nil {
		t.Fatal(err)
	}
	inc, _ := os.ReadFile(filepath.Join(dir, "llama.d", "tls.conf"))
	os.WriteFile(filepath.Join(dir, "llama.d", "tls.conf"), []byte(strings.Replace(string(inc), "listen 443 ", fmt.Sprintf("listen 127.0.0.1:%d ", httpsPort), 1)), 0o644)
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	secure := fmt.Sprintf("https://127.0.0.1:%d", httpsPort)
	if code, _, body := get(secure + "/users/1"); code != 200 || body != "app" {
		t.Errorf("with a certificate the box does not serve the app over HTTPS: %d %q", code, body)
	}
	var code int
	var loc string
	for i := 0; i < 50; i++ { // the old workers may answer a moment longer
		if code, loc, _ = get(base + "/users/1"); code == 301 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code != 301 || !strings.HasPrefix(loc, "https://127.0.0.1") || !strings.HasSuffix(loc, "/users/1") {
		t.Errorf("with a certificate HTTP does not redirect to HTTPS: %d %q", code, loc)
	}
	if code, loc, _ := get(base + "/static/app.css"); code != 301 || !strings.HasPrefix(loc, "https://") {
		t.Errorf("static files over HTTP: %d %q, want a redirect", code, loc)
	}
	if code, _, body := get(base + "/.well-known/acme-challenge/token"); code != 200 || body != "key-authorization" {
		t.Errorf("the ACME challenge is not served over HTTP once a certificate is in place (renewals need it): %d %q", code, body)
	}
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", httpsPort), &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11, MinVersion: tls.VersionTLS10})
	if err == nil {
		conn.Close()
		t.Errorf("the box accepts TLS 1.1")
	}
}
