// Package cdn puts Cloudflare in front of the stack (Llama 5.0's CDN): proxied DNS records, a
// cache ruleset, strict TLS to the origins and an origin certificate issued by ACM and
// validated through Cloudflare. It manages only the stack's own hostnames: no zone-wide
// setting of a zone the stack does not own.
package cdn

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/acm"
	"github.com/pulumi/pulumi-cloudflare/sdk/v5/go/cloudflare"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// IPRanges returns Cloudflare's published IPv4 and IPv6 ranges, the only sources a bucket
// behind Cloudflare admits. An empty list is an error: a policy over no ranges would admit
// nothing, or, rendered carelessly, everyone.
func IPRanges(ctx *pulumi.Context) ([]string, error) {
	r, err := cloudflare.GetIpRanges(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading Cloudflare's IP ranges: %w", err)
	}
	if len(r.Ipv4CidrBlocks) == 0 || len(r.Ipv6CidrBlocks) == 0 {
		return nil, fmt.Errorf("Cloudflare returned %d IPv4 and %d IPv6 ranges: refusing to build a bucket policy from an empty list", len(r.Ipv4CidrBlocks), len(r.Ipv6CidrBlocks))
	}
	return append(append([]string{}, r.Ipv4CidrBlocks...), r.Ipv6CidrBlocks...), nil
}

// CertificateArgs configures the origin certificate.
type CertificateArgs struct {
	ZoneID   string
	Domain   string // the app's hostname
	Platform string // servers: also static.<domain>; serverless: also api.<domain>
}

// Certificate is an ACM certificate for the stack's hostnames, validated by DNS records in the
// Cloudflare zone. Cloudflare's strict TLS mode needs the origin (load balancer or API) to
// present a publicly trusted certificate for the hostname; this is it, unless
// llama:certificateArn names one.
type Certificate struct {
	pulumi.ResourceState

	Arn pulumi.StringOutput `pulumi:"arn"`
}

// NewCertificate requests and validates the certificate.
func NewCertificate(ctx *pulumi.Context, name string, args *CertificateArgs, opts ...pulumi.ResourceOption) (*Certificate, error) {
	c := &Certificate{}
	if err := ctx.RegisterComponentResource("llama:cdn:Certificate", name, c, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(c)
	second := "static." + args.Domain
	if args.Platform == "serverless" {
		second = "api." + args.Domain
	}
	cert, err := acm.NewCertificate(ctx, name+"-cert", &acm.CertificateArgs{
		DomainName: pulumi.String(args.Domain), SubjectAlternativeNames: pulumi.StringArray{pulumi.String(second)},
		ValidationMethod: pulumi.String("DNS"), KeyAlgorithm: pulumi.String("EC_prime256v1"),
	}, child)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	var fqdns pulumi.StringArray
	// One record per name on the certificate; ACM lists them in an order of its own.
	undot := func(o pulumi.StringPtrOutput) pulumi.StringOutput {
		return o.Elem().ApplyT(func(s string) string { return strings.TrimSuffix(s, ".") }).(pulumi.StringOutput)
	}
	for i := range []string{args.Domain, second} {
		opt := cert.DomainValidationOptions.Index(pulumi.Int(i))
		rec, err := cloudflare.NewRecord(ctx, fmt.Sprintf("%s-validation-%d", name, i), &cloudflare.RecordArgs{
			ZoneId: pulumi.String(args.ZoneID), Name: undot(opt.ResourceRecordName()), Type: opt.ResourceRecordType().Elem(),
			Content: undot(opt.ResourceRecordValue()), Ttl: pulumi.Int(60), Proxied: pulumi.Bool(false),
			Comment: pulumi.Sprintf("ACM validation of %s", opt.DomainName().Elem()),
		}, child)
		if err != nil {
			return nil, fmt.Errorf("certificate validation record: %w", err)
		}
		fqdns = append(fqdns, rec.Hostname)
	}
	v, err := acm.NewCertificateValidation(ctx, name+"-validation", &acm.CertificateValidationArgs{
		CertificateArn: cert.Arn, ValidationRecordFqdns: fqdns,
	}, child)
	if err != nil {
		return nil, fmt.Errorf("certificate validation: %w", err)
	}
	c.Arn = v.CertificateArn
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"arn": c.Arn})
}

// Kind says what a hostname serves, and so how it is cached.
type Kind string

// The kinds of hostname.
const (
	App    Kind = "app"    // the app behind the load balancer: static paths cached, the rest not
	Static Kind = "static" // an S3 bucket of static assets: cached long at the edge
	API    Kind = "api"    // an API: never cached
)

// Host is one proxied hostname and its origin.
type Host struct {
	Name   string
	Origin pulumi.StringInput // the origin's DNS name
	Kind   Kind
	// SPA serves /index.html for every path without a file extension, so the single-page
	// app's client-side routes load from the bucket.
	SPA bool
	// OriginHeader, when set, is added to every request forwarded to the origin, so the
	// origin can refuse requests that did not come through the CDN.
	OriginHeader *Header
}

// Header is one request header.
type Header struct {
	Name  string
	Value pulumi.StringInput
}

// EdgeArgs configures the edge.
type EdgeArgs struct {
	ZoneID string
	Hosts  []Host
}

// Edge is the stack's Cloudflare configuration.
type Edge struct {
	pulumi.ResourceState

	Hostnames pulumi.StringArrayOutput `pulumi:"hostnames"`
}

// staticPaths are the app paths that serve static files (the box and the fleet serve
// /static/ from disk until assets move to the bucket).
const staticPaths = `starts_with(http.request.uri.path, "/static/")`

// NewEdge creates the records and the rulesets.
func NewEdge(ctx *pulumi.Context, name string, args *EdgeArgs, opts ...pulumi.ResourceOption) (*Edge, error) {
	e := &Edge{}
	if err := ctx.RegisterComponentResource("llama:cdn:Edge", name, e, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(e)
	// Static assets stay 30 days at the edge.
	const ttl = 30 * 24 * 3600
	var names pulumi.StringArray
	var all, static, api, app []string
	for _, h := range args.Hosts {
		rec, err := cloudflare.NewRecord(ctx, fmt.Sprintf("%s-%s", name, h.Kind), &cloudflare.RecordArgs{
			ZoneId: pulumi.String(args.ZoneID), Name: pulumi.String(h.Name), Type: pulumi.String("CNAME"),
			Content: h.Origin, Proxied: pulumi.Bool(true), Ttl: pulumi.Int(1),
			Comment: pulumi.String(fmt.Sprintf("Llama %s, managed by Pulumi", h.Kind)),
		}, child)
		if err != nil {
			return nil, fmt.Errorf("record %s: %w", h.Name, err)
		}
		names = append(names, rec.Hostname)
		q := fmt.Sprintf("%q", h.Name)
		all = append(all, q)
		switch h.Kind {
		case Static:
			static = append(static, q)
		case API:
			api = append(api, q)
		default:
			app = append(app, q)
		}
	}
	in := func(hosts []string) string { return "http.host in {" + strings.Join(hosts, " ") + "}" }

	// Cache: static hosts and the app's static paths long at the edge; API hosts and the
	// app's API paths never.
	var cacheRules cloudflare.RulesetRuleArray
	cacheable := []string{}
	if len(static) > 0 {
		cacheable = append(cacheable, "("+in(static)+")")
	}
	if len(app) > 0 {
		cacheable = append(cacheable, "("+in(app)+" and "+staticPaths+")")
	}
	if len(cacheable) > 0 {
		cacheRules = append(cacheRules, cloudflare.RulesetRuleArgs{
			Ref: pulumi.String("cache_static"), Description: pulumi.String("Static assets: long edge TTL"),
			Expression: pulumi.String(strings.Join(cacheable, " or ")), Action: pulumi.String("set_cache_settings"),
			ActionParameters: cloudflare.RulesetRuleActionParametersArgs{
				Cache:      pulumi.Bool(true),
				EdgeTtl:    cloudflare.RulesetRuleActionParametersEdgeTtlArgs{Mode: pulumi.String("override_origin"), Default: pulumi.Int(ttl)},
				BrowserTtl: cloudflare.RulesetRuleActionParametersBrowserTtlArgs{Mode: pulumi.String("respect_origin")},
			},
		})
	}
	// A single-page app's HTML (index.html, which every client-side route is rewritten to
	// before this phase) names the fingerprinted bundles of the current deploy: it stays a
	// minute at the edge and browsers revalidate it, so a deploy shows within a minute while
	// the bundles stay cached long. A later matching cache rule overrides an earlier one.
	var spaHosts []string
	for _, h := range args.Hosts {
		if h.SPA {
			spaHosts = append(spaHosts, fmt.Sprintf("%q", h.Name))
		}
	}
	if len(spaHosts) > 0 {
		cacheRules = append(cacheRules, cloudflare.RulesetRuleArgs{
			Ref: pulumi.String("spa_html"), Description: pulumi.String("The SPA's HTML: revalidated, so deploys show within a minute"),
			Expression: pulumi.String("(" + in(spaHosts) + ` and (http.request.uri.path.extension eq "html" or http.request.uri.path eq "/"))`),
			Action:     pulumi.String("set_cache_settings"),
			ActionParameters: cloudflare.RulesetRuleActionParametersArgs{
				Cache:      pulumi.Bool(true),
				EdgeTtl:    cloudflare.RulesetRuleActionParametersEdgeTtlArgs{Mode: pulumi.String("override_origin"), Default: pulumi.Int(60)},
				BrowserTtl: cloudflare.RulesetRuleActionParametersBrowserTtlArgs{Mode: pulumi.String("bypass")},
			},
		})
	}
	bypass := []string{}
	if len(api) > 0 {
		bypass = append(bypass, "("+in(api)+")")
	}
	if len(app) > 0 {
		bypass = append(bypass, "("+in(app)+` and starts_with(http.request.uri.path, "/api/"))`)
	}
	if len(bypass) > 0 {
		cacheRules = append(cacheRules, cloudflare.RulesetRuleArgs{
			Ref: pulumi.String("bypass_api"), Description: pulumi.String("API: never cached"),
			Expression: pulumi.String(strings.Join(bypass, " or ")), Action: pulumi.String("set_cache_settings"),
			ActionParameters: cloudflare.RulesetRuleActionParametersArgs{Cache: pulumi.Bool(false)},
		})
	}
	if _, err := cloudflare.NewRuleset(ctx, name+"-cache", &cloudflare.RulesetArgs{
		ZoneId: pulumi.String(args.ZoneID), Name: pulumi.String("Llama cache rules"), Kind: pulumi.String("zone"),
		Phase: pulumi.String("http_request_cache_settings"), Description: pulumi.String("Caching of the Llama stack's hostnames"),
		Rules: cacheRules,
	}, child); err != nil {
		return nil, fmt.Errorf("cache ruleset: %w", err)
	}

	// Strict TLS to the origins, for the stack's hostnames only.
	if _, err := cloudflare.NewRuleset(ctx, name+"-tls", &cloudflare.RulesetArgs{
		ZoneId: pulumi.String(args.ZoneID), Name: pulumi.String("Llama TLS"), Kind: pulumi.String("zone"),
		Phase: pulumi.String("http_config_settings"), Description: pulumi.String("Full (strict) TLS to the Llama origins"),
		Rules: cloudflare.RulesetRuleArray{cloudflare.RulesetRuleArgs{
			Ref: pulumi.String("strict_tls"), Description: pulumi.String("Verify the origins' certificates"),
			Expression: pulumi.String(in(all)), Action: pulumi.String("set_config"),
			ActionParameters: cloudflare.RulesetRuleActionParametersArgs{Ssl: pulumi.String("strict"), AutomaticHttpsRewrites: pulumi.Bool(true)},
		}},
	}, child); err != nil {
		return nil, fmt.Errorf("TLS ruleset: %w", err)
	}

	// S3 answers only to its own hostname: rewrite Host for the static hosts.
	var originRules cloudflare.RulesetRuleArray
	for i, h := range args.Hosts {
		if h.Kind != Static {
			continue
		}
		originRules = append(originRules, cloudflare.RulesetRuleArgs{
			Ref: pulumi.Sprintf("s3_host_%d", i), Description: pulumi.String("Host header of the bucket for " + h.Name),
			Expression: pulumi.String(fmt.Sprintf("http.host eq %q", h.Name)), Action: pulumi.String("route"),
			ActionParameters: cloudflare.RulesetRuleActionParametersArgs{HostHeader: h.Origin},
		})
	}
	if len(originRules) > 0 {
		if _, err := cloudflare.NewRuleset(ctx, name+"-origin", &cloudflare.RulesetArgs{
			ZoneId: pulumi.String(args.ZoneID), Name: pulumi.String("Llama origins"), Kind: pulumi.String("zone"),
			Phase: pulumi.String("http_request_origin"), Description: pulumi.String("Host headers of the Llama bucket origins"),
			Rules: originRules,
		}, child); err != nil {
			return nil, fmt.Errorf("origin ruleset: %w", err)
		}
	}
	var spaRules cloudflare.RulesetRuleArray
	for i, h := range args.Hosts {
		if !h.SPA {
			continue
		}
		spaRules = append(spaRules, cloudflare.RulesetRuleArgs{
			Ref: pulumi.Sprintf("spa_index_%d", i), Description: pulumi.String("Client-side routes of " + h.Name + " load the SPA"),
			Expression: pulumi.String(fmt.Sprintf(`http.host eq %q and not http.request.uri.path contains "."`, h.Name)),
			Action:     pulumi.String("rewrite"),
			ActionParameters: cloudflare.RulesetRuleActionParametersArgs{
				Uri: cloudflare.RulesetRuleActionParametersUriArgs{Path: cloudflare.RulesetRuleActionParametersUriPathArgs{Value: pulumi.String("/index.html")}},
			},
		})
	}
	if len(spaRules) > 0 {
		if _, err := cloudflare.NewRuleset(ctx, name+"-spa", &cloudflare.RulesetArgs{
			ZoneId: pulumi.String(args.ZoneID), Name: pulumi.String("Llama SPA routes"), Kind: pulumi.String("zone"),
			Phase: pulumi.String("http_request_transform"), Description: pulumi.String("Client-side routes of the Llama SPA"),
			Rules: spaRules,
		}, child); err != nil {
			return nil, fmt.Errorf("SPA ruleset: %w", err)
		}
	}
	var headerRules cloudflare.RulesetRuleArray
	for i, h := range args.Hosts {
		if h.OriginHeader == nil {
			continue
		}
		headerRules = append(headerRules, cloudflare.RulesetRuleArgs{
			Ref: pulumi.Sprintf("origin_verify_%d", i), Description: pulumi.String("Proves to " + h.Name + "'s origin that the request came through Cloudflare"),
			Expression: pulumi.String(fmt.Sprintf("http.host eq %q", h.Name)), Action: pulumi.String("rewrite"),
			ActionParameters: cloudflare.RulesetRuleActionParametersArgs{Headers: cloudflare.RulesetRuleActionParametersHeaderArray{
				cloudflare.RulesetRuleActionParametersHeaderArgs{Name: pulumi.String(h.OriginHeader.Name), Operation: pulumi.String("set"), Value: h.OriginHeader.Value},
			}},
		})
	}
	if len(headerRules) > 0 {
		if _, err := cloudflare.NewRuleset(ctx, name+"-origin-headers", &cloudflare.RulesetArgs{
			ZoneId: pulumi.String(args.ZoneID), Name: pulumi.String("Llama origin verification"), Kind: pulumi.String("zone"),
			Phase: pulumi.String("http_request_late_transform"), Description: pulumi.String("Headers the Llama origins check"),
			Rules: headerRules,
		}, child); err != nil {
			return nil, fmt.Errorf("origin header ruleset: %w", err)
		}
	}
	e.Hostnames = names.ToStringArrayOutput()
	return e, ctx.RegisterResourceOutputs(e, pulumi.Map{"hostnames": e.Hostnames})
}

// Publish adds the public hostnames to the stack outputs.
func (e *Edge) Publish(outs pulumi.Map) { outs["hostnames"] = e.Hostnames }
