package app

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/rds/auth"
	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"

	"github.com/llama-stages/llama/app/rdsca"
)

// Endpoint is a host and port. A published endpoint may carry its own port
// (127.0.0.1:55433), which wins over the port key.
type Endpoint struct {
	Host string
	Port int
}

func (e Endpoint) String() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

// loopback reports whether the endpoint is on this machine.
func (e Endpoint) loopback() bool {
	if e.Host == "localhost" {
		return true
	}
	ip := net.ParseIP(e.Host)
	return ip != nil && ip.IsLoopback()
}

// parseEndpoint reads host or host:port; defPort applies to a bare host.
func parseEndpoint(s string, defPort int) (Endpoint, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Endpoint{}, fmt.Errorf("empty endpoint")
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return Endpoint{Host: strings.Trim(s, "[]"), Port: defPort}, nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return Endpoint{}, fmt.Errorf("endpoint %q: bad port", s)
	}
	return Endpoint{Host: host, Port: n}, nil
}

// pgTarget says how to reach one PostgreSQL server.
type pgTarget struct {
	Name     string // the stats name: primary, replica-0, shard-1-writer
	Endpoint Endpoint
	Database string
	User     string
	Password string // empty with IAM
	SSLMode  string
	// RootCert is the PEM of the authorities verify-ca and verify-full check the server's
	// certificate against. Empty: RDS's and Aurora's (rdsca.Bundle), or, through RDS Proxy
	// (whose certificates come from ACM), the system's roots.
	RootCert string
	// IAM signs in with an RDS IAM authentication token, fresh for every connection (RDS
	// Proxy requires it of clients; the serverless start signs in to Aurora so); Region and
	// AWS sign it.
	IAM bool
	// Proxy says the endpoint is RDS Proxy's.
	Proxy  bool
	Region string
	AWS    aws.Config
	// AppName is the sessions' application_name: the app's names its generation of each
	// tier, which fenced stores check; a mover's is llama-move.
	AppName string
	// StatementTimeout bounds every statement on the server (statement_timeout); 0: none.
	StatementTimeout time.Duration
	// ConnectTimeout bounds opening a connection; 0: 3 s.
	ConnectTimeout time.Duration
}

// config is the connection's settings as lib/pq's fields: no quoting by hand, so an IAM token
// (which holds &, = and %) or a password reaches PostgreSQL exactly as given. The defaults
// come from pq.NewConfig (and the standard PG* environment variables).
func (t pgTarget) config(password string) (pq.Config, error) {
	cfg, err := pq.NewConfig("")
	if err != nil {
		return cfg, fmt.Errorf("%s: %w", t.Name, err)
	}
	if t.AppName == "" {
		t.AppName = "llama-app"
	}
	cfg.Host, cfg.Port, cfg.Database, cfg.User, cfg.Password = t.Endpoint.Host, uint16(t.Endpoint.Port), t.Database, t.User, password
	connect := t.ConnectTimeout
	if connect <= 0 {
		connect = 3 * time.Second
	}
	cfg.SSLMode, cfg.ConnectTimeout, cfg.ApplicationName = pq.SSLMode(t.SSLMode), connect, t.AppName
	if t.SSLMode == "verify-full" {
		root := t.RootCert
		if root == "" && !t.Proxy {
			root = rdsca.Bundle
		}
		if root == "" {
			// RDS Proxy: its ACM certificate chains to Amazon's public roots.
			cfg.SSLRootCert = "system"
		} else {
			mode, err := verifyFullWith(root)
			if err != nil {
				return cfg, fmt.Errorf("%s: %w", t.Name, err)
			}
			// The server's name is the host dialled (SNI): crypto/tls checks the chain to
			// root and the name, as libpq's verify-full does.
			cfg.SSLMode, cfg.SSLSNI = mode, true
		}
	}
	if cfg.Runtime == nil {
		cfg.Runtime = map[string]string{}
	}
	if !t.Proxy {
		// Sent at connection start. RDS Proxy (the IAM sign-in) takes a narrower set of
		// startup parameters, so through it the server's defaults hold (UTC on RDS and Aurora)
		// and statements are bounded by the request's deadline alone.
		cfg.Runtime["timezone"] = "UTC"
		if t.StatementTimeout > 0 {
			cfg.Runtime["statement_timeout"] = strconv.FormatInt(t.StatementTimeout.Milliseconds(), 10)
		}
	}
	return cfg, nil
}

// verifyModes are the custom sslmodes registered with lib/pq, one per set of roots: pqgo-<key>
// verifies the server's chain against the roots and its name against the host dialled. lib/pq
// takes roots in memory only this way (sslinline would demand a client certificate too).
var verifyModes sync.Map // PEM -> pq.SSLMode

func verifyFullWith(rootPEM string) (pq.SSLMode, error) {
	if m, ok := verifyModes.Load(rootPEM); ok {
		return m.(pq.SSLMode), nil
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(rootPEM)) {
		return "", errors.New("verify-full: no certificate in the roots given")
	}
	sum := sha256.Sum256([]byte(rootPEM))
	key := "llama-" + hex.EncodeToString(sum[:6])
	if err := pq.RegisterTLSConfig(key, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}); err != nil {
		return "", fmt.Errorf("verify-full: %w", err)
	}
	m, _ := verifyModes.LoadOrStore(rootPEM, pq.SSLMode("pqgo-"+key))
	return m.(pq.SSLMode), nil
}

// connector opens connections to a target; with IAM, each with a new token.
type connector struct{ t pgTarget }

// Connect opens one connection.
func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	password := c.t.Password
	if c.t.IAM {
		tok, err := auth.BuildAuthToken(ctx, c.t.Endpoint.String(), c.t.Region, c.t.User, c.t.AWS.Credentials)
		if err != nil {
			return nil, fmt.Errorf("signing an IAM token for %s: %w", c.t.Name, err)
		}
		password = tok
	}
	cfg, err := c.t.config(password)
	if err != nil {
		return nil, err
	}
	pc, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, err
	}
	return pc.Connect(ctx)
}

// Driver returns lib/pq's driver.
func (connector) Driver() driver.Driver { return &pq.Driver{} }

// pg is one PostgreSQL server the app uses.
type pg struct {
	name string
	db   *sql.DB
	down *breaker // a reader that failed or was slow is skipped for a while
	// migrated is set once the app applied the schema here: it serves from no database
	// without it.
	migrated atomic.Bool
}

// DefaultPoolSize is the connections the app keeps open to each database, idle ones included
// (closing idle ones only to open them again under load churns connections and costs latency);
// LLAMA_DB_POOL sets another. Size it so that instances × pool stays under the database's
// max_connections.
const DefaultPoolSize = 20

func openPG(t pgTarget, pool int) *pg {
	if pool <= 0 {
		pool = DefaultPoolSize
	}
	db := sql.OpenDB(connector{t})
	db.SetMaxOpenConns(pool)
	db.SetMaxIdleConns(pool)
	db.SetConnMaxLifetime(10 * time.Minute) // an IAM token lives 15 minutes
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &pg{name: t.Name, db: db, down: &breaker{period: 10 * time.Second}}
}

func (p *pg) close() {
	if p != nil {
		p.db.Close()
	}
}

// isUniqueViolation, isForeignKeyViolation and isUndefinedTable match PostgreSQL's SQLSTATE
// through any wrapping.
func isUniqueViolation(err error) bool     { return pq.As(err, pqerror.UniqueViolation) != nil }
func isForeignKeyViolation(err error) bool { return pq.As(err, pqerror.ForeignKeyViolation) != nil }
func isUndefinedTable(err error) bool      { return pq.As(err, pqerror.UndefinedTable) != nil }
