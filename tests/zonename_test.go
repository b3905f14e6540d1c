package tests

import (
	"strings"
	"testing"

	"github.com/llama-stages/llama/cost"
	"github.com/llama-stages/llama/preview"
	"github.com/llama-stages/llama/stacks"
)

// TestRegistrableDomains: whether static.<domain> lies two labels below its Cloudflare zone
// (past Universal SSL, so Advanced Certificate Manager is needed and priced) is judged by the
// Public Suffix List, and llama:cloudflareZone names a zone below the registrable domain.
func TestRegistrableDomains(t *testing.T) {
	for _, c := range []struct {
		domain, zone string
		deep         bool // static.<domain> is two labels below the zone
	}{
		{"example.ne.jp", "", false},
		{"shop.example.ne.jp", "", true},
		{"example.co.uk", "", false},
		{"school.k12.ca.us", "", false},
		{"app.example.com", "", true},
		{"app.example.com", "app.example.com", false},
		{"app.dev.example.com", "dev.example.com", true},
	} {
		p := plan(t, stacks.Servers, "cdn", map[string]string{"domain": c.domain, "cloudflareZone": c.zone})
		warned := strings.Contains(strings.Join(p.Warnings, "\n"), "static."+c.domain+" is two labels below its zone")
		e, err := cost.Price(p, "us-east-1", preview.DefaultUsage("servers", "cdn"))
		if err != nil {
			t.Fatal(err)
		}
		priced := false
		for _, it := range e.Items {
			priced = priced || strings.Contains(it.Basis, "Advanced Certificate Manager")
		}
		if warned != c.deep || priced != c.deep {
			t.Errorf("domain %s, zone %q: warned %v, Advanced Certificate Manager priced %v; want %v", c.domain, c.zone, warned, priced, c.deep)
		}
	}
}
