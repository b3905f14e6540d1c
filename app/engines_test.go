package app

import (
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests run the app against real engines started here, on loopback ports in a temporary
// directory: PostgreSQL (a primary, a streaming replica of it, two more primaries as shards),
// Redis or Valkey, and dynalite, a DynamoDB-compatible server. A missing engine skips the tests
// that need it, saying how to install it; .ci/run installs them all.

const (
	pgUser     = "llama"
	pgPassword = "pg-test-password"
	cachePass  = "cache-test-token"
)

// proc is a server process the tests started.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string // its log file
	port int
}

// restart starts a stopped process again, as it was.
func (p *proc) restart() error {
	if p.cmd.Process != nil {
		return nil
	}
	logf, err := os.OpenFile(p.log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer logf.Close()
	next := exec.Command(p.cmd.Path, p.cmd.Args[1:]...)
	next.Env, next.SysProcAttr = p.cmd.Env, p.cmd.SysProcAttr
	if p.cmd.Stdout != nil {
		next.Stdout, next.Stderr = logf, logf
	}
	if err := next.Start(); err != nil {
		return err
	}
	p.cmd = next
	return waitPort(p, 30*time.Second)
}

// stop ends the process at once (an immediate shutdown for PostgreSQL).
func (p *proc) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGQUIT)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
	p.cmd.Process = nil
}

func (p *proc) logText() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// engines is the shared set of servers, started once for the package's tests.
type engines struct {
	dir                                 string
	primary, replica, shard0, shard1    *proc
	redis, dynamo                       *proc
	pgMissing, redisMissing, dynMissing string
}

var (
	engOnce sync.Once
	eng     *engines
	engErr  error
)

// TestMain stops the engines after the tests.
func TestMain(m *testing.M) {
	if os.Getenv("LLAMA_TEST_MOVER") != "" {
		os.Exit(runTestMover())
	}
	code := m.Run()
	if eng != nil {
		for _, p := range []*proc{eng.replica, eng.primary, eng.shard0, eng.shard1, eng.redis, eng.dynamo} {
			p.stop()
		}
		os.RemoveAll(eng.dir)
	}
	os.Exit(code)
}

// startEngines starts every engine that is installed; what is missing is noted, not fatal.
func startEngines() (*engines, error) {
	engOnce.Do(func() { eng, engErr = newEngines() })
	return eng, engErr
}

func newEngines() (*engines, error) {
	dir, err := os.MkdirTemp("", "llama-engines-")
	if err != nil {
		return nil, err
	}
	os.Chmod(dir, 0o755)
	e := &engines{dir: dir}
	if bin := pgBin(); bin == "" {
		e.pgMissing = "PostgreSQL is not installed: apt-get install -y postgresql"
	} else {
		if e.primary, err = startPostgres(dir, bin, "primary", ""); err != nil {
			return nil, err
		}
		if e.replica, err = startPostgres(dir, bin, "replica", "replica-of:"+strconv.Itoa(e.primary.port)); err != nil {
			return nil, err
		}
		if e.shard0, err = startPostgres(dir, bin, "shard0", ""); err != nil {
			return nil, err
		}
		if e.shard1, err = startPostgres(dir, bin, "shard1", ""); err != nil {
			return nil, err
		}
	}
	if bin := firstOnPath("valkey-server", "redis-server"); bin == "" {
		e.redisMissing = "Redis is not installed: apt-get install -y redis-server"
	} else if e.redis, err = startRedis(dir, bin); err != nil {
		return nil, err
	}
	if bin := dynaliteBin(); bin == "" {
		e.dynMissing = "dynalite is not installed: npm install -g dynalite@4.0.0"
	} else if e.dynamo, err = startDynalite(dir, bin); err != nil {
		return nil, err
	}
	return e, nil
}

// need skips the test unless the engines it names are installed.
func need(t testing.TB, pg, redis, dynamo bool) *engines {
	t.Helper()
	e, err := startEngines()
	if err != nil {
		t.Fatalf("starting the engines: %v", err)
	}
	for _, m := range []struct {
		want bool
		why  string
	}{{pg, e.pgMissing}, {redis, e.redisMissing}, {dynamo, e.dynMissing}} {
		if m.want && m.why != "" {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s (CI installs every engine: see .ci/run)", m.why)
			}
			t.Skip(m.why)
		}
	}
	return e
}

// pgBin is the newest PostgreSQL's bin directory.
func pgBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d
		}
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		return filepath.Dir(p)
	}
	return ""
}

func firstOnPath(names ...string) string {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

func dynaliteBin() string {
	if p := os.Getenv("LLAMA_DYNALITE"); p != "" {
		return p
	}
	return firstOnPath("dynalite")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// asPostgres runs a command as the postgres system user when the tests run as root:
// PostgreSQL refuses to run as root.
func asPostgres(cmd *exec.Cmd, owned ...string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root needs a postgres user to run PostgreSQL as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	for _, p := range owned {
		filepath.Walk(p, func(path string, _ os.FileInfo, _ error) error { return os.Lchown(path, uid, gid) })
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	return nil
}

func runPG(bin string, env []string, owned string, name string, args ...string) error {
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Env = append(os.Environ(), env...)
	if err := asPostgres(cmd, owned); err != nil {
		return err
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w\n%s", name, err, out)
	}
	return nil
}

// startPostgres initialises and starts a server logging every statement; "replica-of:<port>"
// makes it a streaming replica of the server on that port.
func startPostgres(dir, bin, name, role string) (*proc, error) {
	data := filepath.Join(dir, name)
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	if src, ok := strings.CutPrefix(role, "replica-of:"); ok {
		if err := os.MkdirAll(data, 0o700); err != nil {
			return nil, err
		}
		if err := runPG(bin, []string{"PGPASSWORD=" + pgPassword}, data, "pg_basebackup",
			"-h", "127.0.0.1", "-p", src, "-U", pgUser, "-D", data, "-R", "-X", "stream", "--checkpoint=fast"); err != nil {
			return nil, err
		}
	} else {
		pw := filepath.Join(dir, name+".pw")
		if err := os.WriteFile(pw, []byte(pgPassword+"\n"), 0o600); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(data, 0o700); err != nil {
			return nil, err
		}
		if err := asPostgres(exec.Command("true"), pw); err != nil {
			return nil, err
		}
		if err := runPG(bin, nil, data, "initdb", "--no-sync", "-D", data, "-U", pgUser, "--pwfile", pw,
			"--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-instructions"); err != nil {
			return nil, err
		}
	}
	var extra []string
	if role == "tls" {
		// TLS with a certificate for localhost from a CA of the test's own (name-ca.pem).
		if err := serverCertificate(data, filepath.Join(dir, name+"-ca.pem")); err != nil {
			return nil, err
		}
		extra = []string{"-c", "ssl=on"}
	}
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port), "-k", data,
		"-c", "listen_addresses=127.0.0.1", "-c", "log_statement=all", "-c", "fsync=off",
		"-c", "wal_level=replica", "-c", "max_wal_senders=4", "-c", "hot_standby=on", "-c", "logging_collector=off")
	cmd.Args = append(cmd.Args, extra...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := asPostgres(cmd, data); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting postgres %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, port: port}
	deadline := time.Now().Add(30 * time.Second)
	for {
		db := testDB(port, "postgres")
		err := db.Ping()
		db.Close()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("postgres %s did not start: %v\n%s", name, err, p.logText())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if role == "" || role == "tls" {
		db := testDB(p.port, "postgres")
		defer db.Close()
		if _, err := db.Exec(`CREATE DATABASE llama`); err != nil {
			return nil, fmt.Errorf("postgres %s: %w", name, err)
		}
	}
	return p, nil
}

// testDB connects to a database of a PostgreSQL the tests started, as the app does.
func testDB(port int, dbname string) *sql.DB {
	return sql.OpenDB(connector{pgTarget{Name: "test", Endpoint: Endpoint{Host: "127.0.0.1", Port: port}, Database: dbname,
		User: pgUser, Password: pgPassword, SSLMode: "disable", AppName: "llama-test"}})
}

func (p *proc) addr() string { return "127.0.0.1:" + strconv.Itoa(p.port) }

func waitPort(p *proc, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", p.addr(), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s did not listen on %s:\n%s", p.name, p.addr(), p.logText())
}

func startRedis(dir, bin string) (*proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "redis.log")
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--requirepass", cachePass, "--dir", dir, "--logfile", logPath)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	p := &proc{name: "redis", cmd: cmd, log: logPath, port: port}
	return p, waitPort(p, 10*time.Second)
}

func startDynalite(dir, bin string) (*proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "dynalite.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--host", "127.0.0.1", "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting dynalite: %w", err)
	}
	p := &proc{name: "dynalite", cmd: cmd, log: logPath, port: port}
	return p, waitPort(p, 20*time.Second)
}

// sqlOn opens the llama database of a server the tests started.
func sqlOn(t testing.TB, p *proc) *sql.DB {
	t.Helper()
	db := testDB(p.port, "llama")
	t.Cleanup(func() { db.Close() })
	return db
}

// eventually retries f until it succeeds or the time is up.
func eventually(t testing.TB, d time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
