// Command llama-app is the Llama reference app, the one build every rung runs: under systemd
// behind nginx on the box and the fleet, and as the Lambda function on the serverless ladder.
//
// It reads the parameters the stack publishes under LLAMA_PARAMS in SSM (and the secrets they
// point to); or, as a function on a rung where it reads nothing at run time, LLAMA_SETTINGS, the
// same parameters as a JSON object given at deploy time; or, with LLAMA_LOCAL=<file>, a local
// JSON file of the same keys; it listens on
// LLAMA_ADDR (default :8080) unless it runs on Lambda. LLAMA_REFRESH (a Go duration, default
// 1m) is how often it reads the parameters again, so a promotion reaches it without a redeploy.
// LLAMA_DB_POOL (default 20) is the connections it keeps open to each database.
// ORIGIN_VERIFY, when set, is the value of the x-llama-origin-verify header every request must
// carry (the CDN adds it).
//
// `llama-app tls` keeps the box's certificate for the hostname the stack publishes (tls/domain)
// and turns nginx's HTTPS on once it has one; the box runs it on a timer.
//
// `llama-app move <tier>` moves a tier of the live app to the store a promotion added (see
// `llama-app move --help` and docs/deploying.md); it reads the same settings.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/llama-stages/llama/app"
	"github.com/llama-stages/llama/app/lambdahttp"
)

// OriginHeader is the header the CDN adds and ORIGIN_VERIFY checks.
const OriginHeader = "x-llama-origin-verify"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "move" {
		os.Exit(move(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "tls" {
		os.Exit(tlsCommand(os.Args[2:]))
	}
	if lambdahttp.OnLambda() && os.Getenv("LLAMA_BOOTSTRAP") == "1" {
		// The deploy's own function: it prepares the database and serves nothing, so it
		// reads no settings.
		lambdahttp.StartBootstrap(bootstrap)
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	if err := run(log); err != nil {
		log.Error("llama-app stopped", "err", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := app.Options{Logger: log}
	if v := os.Getenv("LLAMA_REFRESH"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("LLAMA_REFRESH %q: %w", v, err)
		}
		opts.Refresh = d
	}
	src, env, err := settings(ctx)
	if err != nil {
		return err
	}
	if v := os.Getenv("LLAMA_DB_POOL"); v != "" {
		if env.PoolSize, err = strconv.Atoi(v); err != nil || env.PoolSize < 1 {
			return fmt.Errorf("LLAMA_DB_POOL %q: want a whole number of connections, at least 1", v)
		}
	}
	opts.Env = env
	srv, err := app.New(ctx, src, opts)
	if err != nil {
		return err
	}
	defer srv.Close()
	h := app.RequireHeader(OriginHeader, os.Getenv("ORIGIN_VERIFY"), srv.Handler())

	if lambdahttp.OnLambda() {
		// A one-off invocation {"llamaMove": ["shards"]} runs the mover where the function's
		// network reaches both stores (the serverless ladder has no instance to log in to).
		// {"llamaBootstrap": {...}} is the deploy preparing the serverless start's database.
		lambdahttp.StartWith(h, func(ctx context.Context, args []string) ([]string, int) {
			var out, errs strings.Builder
			status := app.MoveCommand(ctx, args, src, src, env, &out, &errs)
			return append(strings.Split(strings.TrimSpace(errs.String()), "\n"), strings.Split(strings.TrimSpace(out.String()), "\n")...), status
		}, bootstrap)
		return nil
	}
	addr := os.Getenv("LLAMA_ADDR")
	if addr == "" {
		addr = ":8080"
	}
	hs := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- hs.ListenAndServe() }()
	log.Info("listening", "addr", addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return hs.Shutdown(shutdown)
}

// bootstrap runs app.Bootstrap for the deploy's invocation; an error fails the invocation.
func bootstrap(ctx context.Context, raw json.RawMessage) (any, error) {
	var a app.BootstrapArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("llamaBootstrap: %w", err)
	}
	v, err := app.Bootstrap(ctx, a)
	if err != nil {
		return nil, err
	}
	return map[string]any{"schemaVersion": v, "appUser": a.AppUser}, nil
}

// source is where the settings come from: the local file or SSM; both take the mover's records.
type source interface {
	app.Source
	app.Recorder
}

// settings reads LLAMA_LOCAL, LLAMA_SETTINGS or LLAMA_PARAMS, and the AWS configuration.
func settings(ctx context.Context) (source, app.Env, error) {
	local, fixed, prefix := os.Getenv("LLAMA_LOCAL"), os.Getenv("LLAMA_SETTINGS"), os.Getenv("LLAMA_PARAMS")
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err == nil && awsCfg.Region == "" {
		if local != "" {
			awsCfg.Region = "us-east-1" // only a local DynamoDB stand-in is reached
		} else {
			// On EC2 the region comes from the instance metadata.
			awsCfg, err = config.LoadDefaultConfig(ctx, config.WithEC2IMDSRegion())
		}
	}
	if err != nil {
		return nil, app.Env{}, fmt.Errorf("AWS configuration: %w", err)
	}
	env := app.Env{AWS: awsCfg, Region: awsCfg.Region}
	switch {
	case local != "":
		return app.LocalFile(local), env, nil
	case fixed != "":
		f, err := app.ParseFixed(fixed)
		return f, env, err
	case prefix != "":
		return app.NewAWS(awsCfg, prefix), env, nil
	}
	return nil, env, errors.New("set LLAMA_PARAMS to the stack's parameter prefix (/llama/<stack>), or LLAMA_LOCAL to a local parameter file")
}

// move runs `llama-app move ...` and returns its exit status.
func move(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		return app.MoveCommand(context.Background(), args, nil, nil, app.Env{}, os.Stdout, os.Stderr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	src, env, err := settings(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "llama-app move:", err)
		return 1
	}
	return app.MoveCommand(ctx, args, src, src, env, os.Stdout, os.Stderr)
}
