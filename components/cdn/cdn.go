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
	ZoneID string   // required: the Cloudflare zone the validation records go to
	Names  []string // required: the hostnames, the first the certificate's subject
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
	if args == nil || args.ZoneID == "" || len(args.Names) == 0 {
		return nil, fmt.Errorf("cdn: CertificateArgs needs ZoneID and at least one name")
	}
	c := &Certificate{}
	if err := ctx.RegisterComponentResource("llama:cdn:Certificate", name, c, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(c)
	cert, err := acm.NewCertificate(ctx, name+"-cert", &acm.CertificateArgs{
		DomainName: pulumi.String(args.Names[0]), SubjectAlternativeNames: pulumi.ToStringArray(args.Names[1:]),
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
	for i := range args.Names {
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
