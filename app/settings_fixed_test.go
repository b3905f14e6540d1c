package app

import (
	"context"
	"testing"
)

// TestFixedSettings: a function given its settings at deploy time reads them without AWS, and
// says so plainly where it is asked for what only a network path would give.
func TestFixedSettings(t *testing.T) {
	for _, c := range []struct {
		raw string
		ok  bool
	}{
		{`{"db/primary/endpoint": "db.example:5432", "db/auth": "iam"}`, true},
		{`{}`, false},
		{`["db/primary/endpoint"]`, false},
		{`{"db/port": 5432}`, false},
	} {
		f, err := ParseFixed(c.raw)
		if (err == nil) != c.ok {
			t.Errorf("%s: err %v, want ok %t", c.raw, err, c.ok)
			continue
		}
		if !c.ok {
			continue
		}
		p, _ := f.Params(context.Background())
		p["db/primary/endpoint"] = "changed"
		if again, _ := f.Params(context.Background()); again["db/primary/endpoint"] != "db.example:5432" {
			t.Error("a caller changed the settings through the map Params returned")
		}
		if _, err := f.Secret(context.Background(), "arn:aws:secretsmanager:us-east-1:1:secret:x"); err == nil {
			t.Error("a fixed source read a secret")
		}
		if err := f.SetParam(context.Background(), "moves/db", "{}"); err == nil {
			t.Error("a fixed source recorded a move")
		}
	}
}
