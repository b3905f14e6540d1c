package app

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"
)

// TestBootstrap: the deploy's preparation of the serverless start, on PostgreSQL set up as RDS
// sets one up (a master user that is not a superuser, the rds_iam role): the schema applied as
// the master user; the app's user signs in with IAM (rds_iam), changes rows, cannot change the
// schema, and its own start finds the schema current without needing CREATE; a second run
// changes nothing.
func TestBootstrap(t *testing.T) {
	e := need(t, true, false, false)
	admin := testDB(e.shard1.port, "postgres")
	defer admin.Close()
	for _, stmt := range []string{
		`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_iam') THEN CREATE ROLE rds_iam; END IF; END $$`,
		`CREATE ROLE boot_admin LOGIN CREATEROLE PASSWORD 'master-pw'`,
		`GRANT rds_iam TO boot_admin WITH ADMIN OPTION`,
		`CREATE DATABASE boot OWNER boot_admin`,
	} {
		if _, err := admin.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	args := BootstrapArgs{Endpoint: e.shard1.addr(), Database: "boot", User: "boot_admin", Password: "master-pw", SSLMode: "disable", AppUser: "boot_app",
		IdleSessionSeconds: 1}
	ctx := context.Background()
	v, err := Bootstrap(ctx, args)
	if err != nil || v < 2 {
		t.Fatalf("bootstrap: version %d, %v", v, err)
	}
	var iam bool
	if err := admin.QueryRow(`SELECT pg_has_role('boot_app', 'rds_iam', 'MEMBER')`).Scan(&iam); err != nil || !iam {
		t.Fatalf("the app's user is not in rds_iam (%v)", err)
	}
	// IAM signs the app's user in on RDS; here a password stands in for the token.
	if _, err := admin.Exec(`ALTER ROLE boot_app PASSWORD 'token'`); err != nil {
		t.Fatal(err)
	}
	app := sql.OpenDB(connector{pgTarget{Name: "app", Endpoint: Endpoint{Host: "127.0.0.1", Port: e.shard1.port}, Database: "boot",
		User: "boot_app", Password: "token", SSLMode: "disable"}})
	defer app.Close()
	if got, err := Migrate(ctx, app); err != nil || got != v {
		t.Errorf("the app's own start: version %d, %v; want %d with nothing to do", got, err, v)
	}
	if _, err := app.Exec(`INSERT INTO users (id, name) VALUES (1, 'ada')`); err != nil {
		t.Errorf("the app's user cannot write rows: %v", err)
	}
	var name string
	if err := app.QueryRow(`SELECT name FROM users WHERE id = 1`).Scan(&name); err != nil || name != "ada" {
		t.Errorf("the app's user cannot read rows: %q %v", name, err)
	}
	if _, err := app.Exec(`DROP TABLE activity`); err == nil || !strings.Contains(err.Error(), "owner") {
		t.Errorf("the app's user dropped a table (%v)", err)
	}
	// Where the writer may pause, the server closes the app's idle sessions; the app replaces
	// a closed one on its next use, without an error.
	app.SetMaxOpenConns(1)
	var idle string
	if err := app.QueryRow(`SHOW idle_session_timeout`).Scan(&idle); err != nil || idle != "1s" {
		t.Errorf("the app's sessions close after %q idle (%v), want 1s", idle, err)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := app.QueryRow(`SELECT name FROM users WHERE id = 1`).Scan(&name); err != nil {
		t.Errorf("after the server closed an idle session: %v", err)
	}
	args.IdleSessionSeconds = 0
	if v2, err := Bootstrap(ctx, args); err != nil || v2 != v {
		t.Errorf("a second bootstrap: version %d, %v", v2, err)
	}
	var setting int
	if err := admin.QueryRow(`SELECT count(*) FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = 'boot_app'`).Scan(&setting); err != nil || setting != 0 {
		t.Errorf("a writer that no longer pauses still closes the app's idle sessions (%d settings, %v)", setting, err)
	}
	if _, err := Bootstrap(ctx, BootstrapArgs{Endpoint: e.shard1.addr(), Database: "boot", User: "boot_admin", Password: "master-pw", AppUser: "x; DROP"}); err == nil {
		t.Error("an app user that is not a plain name was taken")
	}
}
