package app

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/lib/pq"
)

// BootstrapArgs is what the deploy hands the function once per release (a Lambda invocation
// {"llamaBootstrap": {...}} the stack makes): the master user's sign-in, used for this alone,
// and the user the app signs in as with IAM. The function keeps none of it.
type BootstrapArgs struct {
	Endpoint string `json:"endpoint"` // the writer, host:port
	Database string `json:"database"`
	User     string `json:"user"` // the master user
	Password string `json:"password"`
	SSLMode  string `json:"sslmode"` // default verify-full against the RDS authorities (rdsca)
	AppUser  string `json:"appUser"` // the user the app signs in as
	// IdleSessionSeconds closes the app's sessions idle this long (idle_session_timeout), so
	// that a writer that may pause is not held awake by frozen function sandboxes' connections
	// (the app replaces a closed one on its next use); 0: sessions stay open.
	IdleSessionSeconds int `json:"idleSessionSeconds"`
}

var reRole = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Bootstrap prepares the serverless start's database for an app that holds no secret: as the
// master user it applies the schema (Migrate) and creates AppUser, who signs in with an RDS IAM
// token (the rds_iam role; Aurora PostgreSQL User Guide, "Creating a database account using
// IAM authentication") and may read and change rows, but not the schema, on tables the master
// user has and will create. It is idempotent: every release's deploy runs it again, so that new
// migrations are applied before the app needs them.
func Bootstrap(ctx context.Context, a BootstrapArgs) (version int, err error) {
	switch {
	case a.Endpoint == "" || a.Database == "" || a.User == "" || a.Password == "":
		return 0, errors.New("bootstrap needs the endpoint, the database, the master user and its password")
	case !reRole.MatchString(a.AppUser) || a.AppUser == a.User:
		return 0, fmt.Errorf("bootstrap: app user %q: a lowercase PostgreSQL name other than the master user's", a.AppUser)
	}
	ep, err := parseEndpoint(a.Endpoint, 5432)
	if err != nil {
		return 0, fmt.Errorf("bootstrap: %w", err)
	}
	if a.SSLMode == "" {
		a.SSLMode = "verify-full"
	}
	p := openPG(pgTarget{Name: "bootstrap", Endpoint: ep, Database: a.Database, User: a.User, Password: a.Password,
		SSLMode: a.SSLMode, AppName: "llama-bootstrap"}, 2)
	defer p.close()
	if version, err = Migrate(ctx, p.db); err != nil {
		return 0, fmt.Errorf("bootstrap: %w", err)
	}
	for _, stmt := range grants(a.AppUser, a.Database, a.IdleSessionSeconds) {
		if _, err := p.db.ExecContext(ctx, stmt); err != nil {
			return version, fmt.Errorf("bootstrap: %s: %w", stmt, err)
		}
	}
	return version, nil
}

// grants create the app's user if it is missing and give it IAM sign-in and the rows of every
// table and sequence, present and future, in the public schema; its idle sessions close after
// idleSeconds (0: never).
func grants(user, database string, idleSeconds int) []string {
	u, db := pq.QuoteIdentifier(user), pq.QuoteIdentifier(database)
	idle := `ALTER ROLE ` + u + ` RESET idle_session_timeout`
	if idleSeconds > 0 {
		idle = fmt.Sprintf(`ALTER ROLE %s SET idle_session_timeout = '%ds'`, u, idleSeconds)
	}
	return []string{
		fmt.Sprintf(`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = %s) THEN CREATE ROLE %s LOGIN; END IF; END $$`, pq.QuoteLiteral(user), u),
		`GRANT rds_iam TO ` + u,
		`GRANT CONNECT, TEMPORARY ON DATABASE ` + db + ` TO ` + u,
		`GRANT USAGE ON SCHEMA public TO ` + u,
		`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ` + u,
		`GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO ` + u,
		`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ` + u,
		`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ` + u,
		idle,
	}
}
