package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/llama-stages/llama/app/certs"
	"github.com/llama-stages/llama/contract"
)

// Where the box keeps its certificate and how nginx finds it. The directory is on the data
// volume (mounted at /var/lib/pgsql), so a reboot or a replaced instance finds it again.
const (
	tlsDir       = "/var/lib/pgsql/llama-tls"
	tlsWebroot   = "/var/lib/llama-acme"
	nginxInclude = "/etc/nginx/llama.d/tls.conf"
)

// tlsCommand runs `llama-app tls`, which the box's timer runs twice a day as root: it keeps a
// certificate for the hostname the stack publishes (tls/domain) from the CA it names
// (tls/acmeDirectory), and turns on nginx's HTTPS listener, and the redirect from HTTP, once
// the certificate is in place. Without a hostname it turns them off. It returns the exit status.
func tlsCommand(args []string) int {
	if len(args) > 0 {
		fmt.Fprintln(os.Stderr, "usage: llama-app tls (no arguments: it reads tls/domain and tls/acmeDirectory from the stack's parameters)")
		if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			return 0
		}
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := keepCertificate(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "llama-app tls:", err)
		return 1
	}
	return 0
}

func keepCertificate(ctx context.Context) error {
	src, _, err := settings(ctx)
	if err != nil {
		return err
	}
	params, err := src.Params(ctx)
	if err != nil {
		return fmt.Errorf("reading the stack's parameters: %w", err)
	}
	domain, directory := params[contract.TLSDomain], params[contract.TLSACMEDirectory]
	if domain == "" {
		// No hostname (any more): plain HTTP, as on a box that never had one.
		if err := os.Remove(nginxInclude); errors.Is(err, fs.ErrNotExist) {
			fmt.Println("no tls/domain: HTTP only")
			return nil
		} else if err != nil {
			return err
		}
		fmt.Println("no tls/domain any more: HTTPS off")
		return reloadNginx(ctx)
	}
	outcome, cert, err := certs.Ensure(certs.Config{Domain: domain, Directory: directory, Dir: tlsDir, Webroot: tlsWebroot})
	if err != nil {
		return err
	}
	fmt.Printf("certificate for %s %s: valid until %s\n", domain, outcome, cert.NotAfter.Format(time.RFC3339))
	changed, err := certs.WriteNginx(nginxInclude, tlsDir)
	if err != nil {
		return err
	}
	if changed || outcome != certs.Kept {
		return reloadNginx(ctx)
	}
	return nil
}

// reloadNginx checks nginx's configuration and reloads it: open connections finish on the old
// configuration, none is dropped.
func reloadNginx(ctx context.Context) error {
	for _, cmd := range [][]string{{"nginx", "-t", "-q"}, {"systemctl", "reload", "nginx"}} {
		if out, err := exec.CommandContext(ctx, cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%v: %w: %s", cmd, err, out)
		}
	}
	return nil
}
