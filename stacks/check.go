package stacks

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"

	"github.com/llama-stages/llama/app/rdsca"
	"github.com/llama-stages/llama/suggest"
)

// otherNamespaces are keys of other providers that people write bare.
var otherNamespaces = map[string]string{
	"region": "aws:region", "profile": "aws:profile", "defaultTags": "aws:defaultTags", "assumeRole": "aws:assumeRole",
	"apiToken": "cloudflare:apiToken", "accessKey": "aws:accessKey", "secretKey": "aws:secretKey",
}

// KeyNames lists every declared key without its namespace.
func KeyNames() []string {
	out := make([]string, len(Keys))
	for i, k := range Keys {
		out[i] = k.Name
	}
	return out
}

// CheckKeys refuses config keys in the llama namespace that no Key declares (a typo, or
// another provider's key written bare), each with what was probably meant.
func CheckKeys(keys []string) error {
	var errs []error
	sort.Strings(keys)
	for _, full := range keys {
		ns, name, ok := strings.Cut(full, ":")
		if !ok || ns != Namespace {
			continue
		}
		if _, declared := KeyNamed(name); declared {
			continue
		}
		hint := suggest.DidYouMean(name, KeyNames())
		if other, ok := otherNamespaces[name]; ok {
			hint = fmt.Sprintf(" (%s is %s's key: write %s)", name, strings.Split(other, ":")[0], other)
		}
		errs = append(errs, fmt.Errorf("%s is not a config key of this project%s; the keys are declared in Pulumi.yaml", full, hint))
	}
	return errors.Join(errs...)
}

// CheckEnvironment refuses, in a real `pulumi up`, the undeclared llama keys of the stack's
// config, which the Pulumi engine hands the program in PULUMI_CONFIG.
func CheckEnvironment() error {
	raw := os.Getenv("PULUMI_CONFIG")
	if raw == "" {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil // not ours to judge
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return CheckKeys(keys)
}

// Unused warns about keys that are set but that the stage does not use, naming the rung from
// which each takes effect: teams set keys ahead of a promotion, so this is no error.
func Unused(c *Config, set []string) []string {
	var out []string
	sort.Strings(set)
	for _, full := range set {
		name, ok := strings.CutPrefix(full, Namespace+":")
		if !ok {
			continue
		}
		k, declared := KeyNamed(name)
		if !declared {
			continue
		}
		if k.Only != "" && k.Only != c.Platform {
			out = append(out, fmt.Sprintf("%s is set, but the %s ladder does not use it", full, c.Platform))
			continue
		}
		layers := k.UsedBy
		if layers == nil || c.usesAny(layers) {
			continue
		}
		if from := firstRungWith(c.Platform, layers); from != "" {
			out = append(out, fmt.Sprintf("%s is set, but the %s rung does not use it: it takes effect from the %s rung on", full, c.Stage, from))
		} else {
			out = append(out, fmt.Sprintf("%s is set, but the %s ladder does not use it", full, c.Platform))
		}
	}
	return out
}

func (c *Config) usesAny(layers []Layer) bool {
	for _, l := range layers {
		if c.Has(l) {
			return true
		}
	}
	return false
}

// firstRungWith names the first rung of a ladder that has any of the layers.
func firstRungWith(p Platform, layers []Layer) string {
	for _, r := range Rungs(p) {
		have, _ := LayersOf(p, r.Stage)
		for _, l := range layers {
			if have[l] {
				return r.Stage
			}
		}
	}
	return ""
}

// ZoneOf is the Cloudflare zone a hostname lies in: zone when it is set and the host is in it
// (llama:cloudflareZone, for a zone below the registrable domain such as dev.example.com),
// else the host's registrable domain by the Public Suffix List (example.ne.jp, example.co.uk,
// school.k12.ca.us). A host that is itself a public suffix is its own zone.
func ZoneOf(host, zone string) string {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if zone != "" && (host == zone || strings.HasSuffix(host, "."+zone)) {
		return zone
	}
	apex, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return host
	}
	return apex
}

// LabelsBelowZone counts a hostname's labels under its zone (ZoneOf): app.example.com is 1,
// static.app.example.com 2, static.example.ne.jp 1.
func LabelsBelowZone(host, zone string) int {
	z := ZoneOf(host, zone)
	return max(0, strings.Count(strings.TrimSuffix(host, "."), ".")-strings.Count(z, "."))
}

// The hostnames the stack serves under llama:domain, each the one place its name is made.
func (c *Config) staticHostname() string { return "static." + c.Edge.Domain }
func (c *Config) apiHostname() string    { return "api." + c.Edge.Domain }

// EdgeHostnames are the hostnames Cloudflare serves for a stage: the steps that publish the
// hosts (fleet, spa, functions) and the certificate read their names from here.
func (c *Config) EdgeHostnames() []string {
	if c.Edge.Domain == "" || c.Edge.ZoneID == "" {
		return nil
	}
	var out []string
	if c.Has(CDN) || c.Has(SPAEdge) {
		out = append(out, c.Edge.Domain)
	}
	if c.Has(CDN) && c.Has(Fleet) {
		out = append(out, c.staticHostname())
	}
	if c.Has(CDN) && c.Has(Functions) {
		out = append(out, c.apiHostname())
	}
	return out
}

// CertificateNames are the hostnames of the ACM certificate the stack issues and validates
// through the zone when llama:certificateArn is empty: the edge's from the cdn rung on, and
// wherever the serverless SPA has a hostname (the origin behind Cloudflare's strict TLS: the
// load balancer, or the API's custom domains), the app's hostname on the load balancer below.
// None where nothing terminates TLS with an ACM certificate (the box obtains its own).
func (c *Config) CertificateNames() []string {
	switch {
	case c.Has(CDN), c.Has(SPAEdge):
		return c.EdgeHostnames()
	case c.Has(Hostname) && c.Has(Fleet):
		return []string{c.Edge.Domain}
	}
	return nil
}

// PlainHTTPNotes warn a protected stack on the servers ladder that nothing serves its app over
// HTTPS: no hostname (the box and the load balancer then have no certificate) and no
// certificate of the stack's own on a load balancer. AWS Foundational Security Best
// Practices, ELB.1: "Application Load Balancer should be configured to redirect all HTTP
// requests to HTTPS". A dev stack (llama:protect=false) stays quiet, and so does the
// serverless ladder: API Gateway and Cloudflare serve HTTPS only.
func PlainHTTPNotes(c *Config) []string {
	if c.Platform != Servers || !c.Protect || c.Has(Hostname) || (c.Has(Fleet) && c.CertificateArn != "") {
		return nil
	}
	return []string{fmt.Sprintf("plain HTTP: this protected stack serves the app, its sign-ups and its posts over plain HTTP only (stage %s terminates TLS nowhere). "+
		"Set llama:domain and llama:cloudflareZoneId: the stack then owns the hostname's record and serves HTTPS from the box (a Let's Encrypt certificate) and the load balancer (an ACM certificate), HTTP redirecting; "+
		"or, from load-balanced on, llama:certificateArn for the load balancer's HTTPS listener", c.Stage)}
}

// RDSCANotes warn where the app cannot verify its databases' certificates: the RDS
// certificate authorities it carries (app/rdsca) hold no root for the region (a region newer
// than the bundle, or another partition's), so it connects with sslmode=require, encrypted but
// open to a server that is not the database.
func RDSCANotes(c *Config, region string, now time.Time) []string {
	if !(c.Has(Database) || c.Has(ServerlessD) || c.Has(Shards)) || rdsca.Covers(region, now) {
		return nil
	}
	return []string{fmt.Sprintf("the RDS certificate authorities this release carries (app/rdsca/global-bundle.pem) hold no root for %s: "+
		"the app encrypts its database connections (sslmode=require) but cannot verify the server's certificate. "+
		"Refresh the bundle from https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem (another partition: its own bundle) and pulumi up", region)}
}

// UncoveredHostnames are the edge's hostnames the zone's declared certificate does not cover:
// Universal SSL covers a zone's apex and one label below it (Cloudflare SSL/TLS docs,
// "Universal SSL: hostname coverage"); Advanced Certificate Manager, declared with
// llama:cloudflareCertificate advanced, covers the deeper ones.
func (c *Config) UncoveredHostnames() []string {
	if c.Edge.Certificate == "advanced" {
		return nil
	}
	var out []string
	for _, h := range c.EdgeHostnames() {
		if LabelsBelowZone(h, c.Edge.Zone) >= 2 {
			out = append(out, h)
		}
	}
	return out
}

// PauseNotes says what llama:minAcu 0 does on this stage: the writer pauses, and the first
// request after a pause waits for it; where RDS Proxy stands in front it never pauses.
func PauseNotes(c *Config) []string {
	switch {
	case c.Platform != Serverless || c.Serverless.MinAcu != 0:
		return nil
	case c.Proxied():
		return []string{"llama:minAcu 0 saves nothing on this stage: RDS Proxy holds connections open to the writer, which keeps it from pausing (Aurora User Guide, auto-pause); it bills at least 0.5 ACU of use all the same"}
	}
	return []string{"llama:minAcu 0: the writer pauses after 5 minutes without a connection (the app's idle sessions close after one); the first request after a pause waits about 15 s (longer after a day) while it resumes"}
}

// EdgeNotes says what the edge needs beyond Cloudflare's free plan: Advanced Certificate
// Manager, declared, for a hostname two labels below its zone.
func EdgeNotes(c *Config) []string {
	if c.Edge.Certificate != "advanced" {
		return nil
	}
	var out []string
	for _, h := range c.EdgeHostnames() {
		if LabelsBelowZone(h, c.Edge.Zone) >= 2 {
			out = append(out, fmt.Sprintf("%s is two labels below its zone %s: it relies on the Advanced Certificate Manager the zone has ordered (llama:cloudflareCertificate advanced; llama cost prices it)", h, ZoneOf(h, c.Edge.Zone)))
		}
	}
	return out
}
