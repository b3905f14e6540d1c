package cdn

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-cloudflare/sdk/v5/go/cloudflare"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Kind says what a hostname serves, and so how it is cached.
type Kind string

// The kinds of hostname.
const (
	App    Kind = "app"    // the app behind the load balancer: static paths cached, the rest not
	Static Kind = "static" // an S3 bucket of static assets: cached long at the edge
	API    Kind = "api"    // an API: never cached
)

// Host is one hostname of the stack and its origin.
type Host struct {
	Name   string             // required: the hostname, in the zone
	Origin pulumi.StringInput // required: the origin's DNS name
	Kind   Kind               // default App
	// DNSOnly points the record at the origin without Cloudflare in between (not proxied,
	// DNSOnlyTTL), and writes no rules for the host: the origin serves clients and their TLS
	// itself. Default false: proxied. Turning it off later updates the same record in place.
	DNSOnly bool
	// SPA serves /index.html for every path without a file extension, so the single-page
	// app's client-side routes load from the bucket. Default false.
	SPA bool
	// PathPrefix is put before every request's path on its way to the origin, by a URL rewrite
	// (Transform Rules, on every Cloudflare plan): static.<domain>/app.css reaches the load
	// balancer as /static/app.css, where the app serves it. The origin answers to any Host, so
	// no Host header override (Origin Rules: Enterprise only) is needed. Default none: the
	// origin is a bucket, whose Host header the edge sets.
	PathPrefix string
	// OriginHeader, when set, is added to every request forwarded to the origin, so the
	// origin can refuse requests that did not come through the CDN. Default none.
	OriginHeader *Header
}

// Header is one request header.
type Header struct {
	Name  string
	Value pulumi.StringInput
}

// EdgeArgs configures the edge.
type EdgeArgs struct {
	ZoneID string // required: the Cloudflare zone holding every host
	Hosts  []Host // required: at least one
	// Owner names the stack in every rule it writes (a Pulumi project/stack), so that stacks
	// sharing a zone tell their rules apart. Required.
	Owner string
	// Zone is what the zone's entry points hold before this run (ReadZone). Nil means none:
	// the edge then creates every entry point it needs.
	Zone ZoneRules
}

func (a *EdgeArgs) validate() error {
	if a == nil || a.ZoneID == "" || a.Owner == "" || len(a.Hosts) == 0 {
		return fmt.Errorf("cdn: EdgeArgs needs ZoneID, Owner and at least one host")
	}
	for _, h := range a.Hosts {
		if h.Name == "" || h.Origin == nil {
			return fmt.Errorf("cdn: host %q needs a name and an origin", h.Name)
		}
	}
	return nil
}

// DNSOnlyTTL is the TTL of a DNS-only record, in seconds: short, so that pointing the hostname
// elsewhere (the box to the load balancer) reaches every resolver within a minute. Proxied
// records take Cloudflare's automatic TTL (1), as the API requires.
const DNSOnlyTTL = 60

// Edge is the stack's Cloudflare configuration: a record per host and, for the proxied ones,
// the rules of five phases (cache, TLS, origin, SPA routes, origin verification).
type Edge struct {
	pulumi.ResourceState

	Hostnames pulumi.StringArrayOutput `pulumi:"hostnames"`
	// Adoptions are the empty entry points the zone had, which this edge takes in by import
	// into its own state; each needs a one-time `pulumi import` unless the stack holds it.
	Adoptions []Adoption
}

// staticPaths are the app paths that serve static files (the box and the fleet serve
// /static/ from disk until assets move to the bucket).
const staticPaths = `starts_with(http.request.uri.path, "/static/")`

// Static assets stay 30 days at the edge.
const staticTTL = 30 * 24 * 3600

// Proxied reports whether any host goes through Cloudflare: only then does the edge write
// rules, and need to read the zone's (ReadZone).
func Proxied(hosts []Host) bool {
	for _, h := range hosts {
		if !h.DNSOnly {
			return true
		}
	}
	return false
}

// NewEdge creates the records and the rulesets.
func NewEdge(ctx *pulumi.Context, name string, args *EdgeArgs, opts ...pulumi.ResourceOption) (*Edge, error) {
	if err := args.validate(); err != nil {
		return nil, err
	}
	e := &Edge{}
	if err := ctx.RegisterComponentResource("llama:cdn:Edge", name, e, opts...); err != nil {
		return nil, err
	}
	var names pulumi.StringArray
	var proxied []Host
	for _, h := range args.Hosts {
		// One record per kind under the same name on every rung: DNS only, then proxied, is
		// an update in place (a delete and create would leave a gap in DNS). A CNAME from the
		// first rung, to the box's public name, so that the load balancer's name replaces it
		// in place too (the record's type cannot change without a new record).
		ttl := 1
		if h.DNSOnly {
			ttl = DNSOnlyTTL
		} else {
			proxied = append(proxied, h)
		}
		rec, err := cloudflare.NewRecord(ctx, fmt.Sprintf("%s-%s", name, kindOf(h)), &cloudflare.RecordArgs{
			ZoneId: pulumi.String(args.ZoneID), Name: pulumi.String(h.Name), Type: pulumi.String("CNAME"),
			Content: h.Origin, Proxied: pulumi.Bool(!h.DNSOnly), Ttl: pulumi.Int(ttl),
			Comment: pulumi.String(fmt.Sprintf("Llama %s of %s, managed by Pulumi", kindOf(h), args.Owner)),
		}, pulumi.Parent(e))
		if err != nil {
			return nil, fmt.Errorf("record %s: %w", h.Name, err)
		}
		names = append(names, rec.Hostname)
	}
	z := zoneWriter{ctx: ctx, name: name, parent: e, args: args}
	for _, p := range phases {
		if err := z.write(p, p.rules(proxied)); err != nil {
			return nil, err
		}
	}
	e.Hostnames, e.Adoptions = names.ToStringArrayOutput(), z.adoptions
	return e, ctx.RegisterResourceOutputs(e, pulumi.Map{"hostnames": e.Hostnames})
}

func kindOf(h Host) Kind {
	if h.Kind == "" {
		return App
	}
	return h.Kind
}

// rule is one rule this stack writes, before it is tagged with the stack.
type rule struct {
	ref, description, expression, action string
	params                               cloudflare.RulesetRuleActionParametersArgs
}

// phase is one entry point the edge writes: its Pulumi name suffix, the ruleset's name and
// description, and the rules a set of hosts needs in it.
type phase struct {
	phase, suffix, name, description string
	rules                            func([]Host) []rule
}

// phases are the five the edge writes, in Cloudflare's order of evaluation.
var phases = []phase{
	{"http_request_transform", "spa", "Llama SPA routes", "Client-side routes of the Llama SPAs and the paths of the static hosts", transformRules},
	{"http_request_late_transform", "origin-headers", "Llama origin verification", "Headers the Llama origins check", headerRules},
	{"http_config_settings", "tls", "Llama TLS", "Full (strict) TLS to the Llama origins", tlsRules},
	{"http_request_cache_settings", "cache", "Llama cache rules", "Caching of the Llama hostnames", cacheRules},
}

// in renders an expression matching the given hosts.
func in(hosts []Host, keep func(Host) bool) string {
	var q []string
	for _, h := range hosts {
		if keep(h) {
			q = append(q, fmt.Sprintf("%q", h.Name))
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "http.host in {" + strings.Join(q, " ") + "}"
}

func is(k Kind) func(Host) bool { return func(h Host) bool { return kindOf(h) == k } }

// cacheRules: static hosts and the app's static paths long at the edge; the SPA's HTML a
// minute; API hosts and the app's API paths never.
func cacheRules(hosts []Host) []rule {
	var out []rule
	var cacheable []string
	if s := in(hosts, is(Static)); s != "" {
		cacheable = append(cacheable, "("+s+")")
	}
	if s := in(hosts, is(App)); s != "" {
		cacheable = append(cacheable, "("+s+" and "+staticPaths+")")
	}
	if len(cacheable) > 0 {
		out = append(out, rule{"cache_static", "Static assets: long edge TTL", strings.Join(cacheable, " or "), "set_cache_settings",
			cloudflare.RulesetRuleActionParametersArgs{Cache: pulumi.Bool(true),
				EdgeTtl:    cloudflare.RulesetRuleActionParametersEdgeTtlArgs{Mode: pulumi.String("override_origin"), Default: pulumi.Int(staticTTL)},
				BrowserTtl: cloudflare.RulesetRuleActionParametersBrowserTtlArgs{Mode: pulumi.String("respect_origin")}}})
	}
	// A single-page app's HTML (index.html, which every client-side route is rewritten to
	// before this phase) names the fingerprinted bundles of the current deploy: it stays a
	// minute at the edge and browsers revalidate it, so a deploy shows within a minute while
	// the bundles stay cached long. A later matching cache rule overrides an earlier one.
	if s := in(hosts, func(h Host) bool { return h.SPA }); s != "" {
		out = append(out, rule{"spa_html", "The SPA's HTML: revalidated, so deploys show within a minute",
			"(" + s + ` and (http.request.uri.path.extension eq "html" or http.request.uri.path eq "/"))`, "set_cache_settings",
			cloudflare.RulesetRuleActionParametersArgs{Cache: pulumi.Bool(true),
				EdgeTtl:    cloudflare.RulesetRuleActionParametersEdgeTtlArgs{Mode: pulumi.String("override_origin"), Default: pulumi.Int(60)},
				BrowserTtl: cloudflare.RulesetRuleActionParametersBrowserTtlArgs{Mode: pulumi.String("bypass")}}})
	}
	var bypass []string
	if s := in(hosts, is(API)); s != "" {
		bypass = append(bypass, "("+s+")")
	}
	if s := in(hosts, is(App)); s != "" {
		bypass = append(bypass, "("+s+` and starts_with(http.request.uri.path, "/api/"))`)
	}
	if len(bypass) > 0 {
		out = append(out, rule{"bypass_api", "API: never cached", strings.Join(bypass, " or "), "set_cache_settings",
			cloudflare.RulesetRuleActionParametersArgs{Cache: pulumi.Bool(false)}})
	}
	return out
}

// tlsRules: strict TLS to the origins, for the stack's hostnames only.
func tlsRules(hosts []Host) []rule {
	all := in(hosts, func(Host) bool { return true })
	if all == "" {
		return nil
	}
	return []rule{{"strict_tls", "Verify the origins' certificates", all, "set_config",
		cloudflare.RulesetRuleActionParametersArgs{Ssl: pulumi.String("strict"), AutomaticHttpsRewrites: pulumi.Bool(true)}}}
}

// transformRules: client-side routes (paths without a file extension) load the SPA's
// index.html, and a static host's paths take its prefix.
func transformRules(hosts []Host) []rule {
	var out []rule
	for i, h := range hosts {
		if h.PathPrefix != "" {
			out = append(out, rule{fmt.Sprintf("path_prefix_%d", i), h.Name + " serves the origin's " + h.PathPrefix + "/",
				fmt.Sprintf("http.host eq %q", h.Name), "rewrite",
				cloudflare.RulesetRuleActionParametersArgs{Uri: cloudflare.RulesetRuleActionParametersUriArgs{
					Path: cloudflare.RulesetRuleActionParametersUriPathArgs{Expression: pulumi.Sprintf(`concat(%q, http.request.uri.path)`, h.PathPrefix)}}}})
		}
		if h.SPA {
			out = append(out, rule{fmt.Sprintf("spa_index_%d", i), "Client-side routes of " + h.Name + " load the SPA",
				fmt.Sprintf(`http.host eq %q and not http.request.uri.path contains "."`, h.Name), "rewrite",
				cloudflare.RulesetRuleActionParametersArgs{Uri: cloudflare.RulesetRuleActionParametersUriArgs{
					Path: cloudflare.RulesetRuleActionParametersUriPathArgs{Value: pulumi.String("/index.html")}}}})
		}
	}
	return out
}

// headerRules: the header that proves to an origin that a request came through Cloudflare.
func headerRules(hosts []Host) []rule {
	var out []rule
	for i, h := range hosts {
		if h.OriginHeader != nil {
			out = append(out, rule{fmt.Sprintf("origin_verify_%d", i), "Proves to " + h.Name + "'s origin that the request came through Cloudflare",
				fmt.Sprintf("http.host eq %q", h.Name), "rewrite",
				cloudflare.RulesetRuleActionParametersArgs{Headers: cloudflare.RulesetRuleActionParametersHeaderArray{
					cloudflare.RulesetRuleActionParametersHeaderArgs{Name: pulumi.String(h.OriginHeader.Name), Operation: pulumi.String("set"), Value: h.OriginHeader.Value}}}})
		}
	}
	return out
}
