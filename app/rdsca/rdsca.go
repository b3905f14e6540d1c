// Package rdsca holds the certificate authorities of Amazon RDS and Aurora, which the app
// verifies its databases' certificates against (sslmode=verify-full): the one build every rung
// runs carries them, so no instance or function reads a trust store at start.
//
// global-bundle.pem is AWS's global bundle, https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem
// (RDS User Guide, "Using SSL/TLS to encrypt a connection to a DB instance or cluster":
// "Certificate bundles for all AWS Regions"), as published in October 2024: 109 certificates,
// SHA-256 acaf8712f8d71c05f85503c6b90fd0127e95ff0091bf094a22a650119684a08e. It holds each
// commercial region's rds-ca-rsa2048-g1, rds-ca-rsa4096-g1 and rds-ca-ecc384-g1 roots (valid to
// 2061 and beyond) and the expired rds-ca-2019 ones. To refresh it, download it again from
// that address, compare the subjects, and replace the file; TestBundle checks what the
// program relies on.
//
// RDS Proxy presents certificates from AWS Certificate Manager instead (RDS User Guide, "Using
// TLS/SSL with RDS Proxy"), which chain to Amazon's public roots in the system trust store.
package rdsca

import (
	"crypto/x509"
	_ "embed"
	"encoding/pem"
	"sort"
	"strings"
	"time"
)

// Bundle is the PEM of every RDS certificate authority.
//
//go:embed global-bundle.pem
var Bundle string

// Regions lists the regions the bundle holds a current root for (one whose name is
// "Amazon RDS <region> Root CA ..." and that has not expired at now).
func Regions(now time.Time) []string {
	seen := map[string]bool{}
	rest := []byte(Bundle)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil || now.After(c.NotAfter) {
			continue
		}
		name, ok := strings.CutPrefix(c.Subject.CommonName, "Amazon RDS ")
		if !ok {
			continue
		}
		if region, _, ok := strings.Cut(name, " Root CA "); ok && !strings.Contains(region, " ") {
			seen[region] = true
		}
	}
	out := make([]string, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// Covers reports whether the bundle holds a current root for a region's databases.
func Covers(region string, now time.Time) bool {
	for _, r := range Regions(now) {
		if r == region {
			return true
		}
	}
	return false
}
