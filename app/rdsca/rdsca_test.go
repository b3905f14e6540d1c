package rdsca

import (
	"crypto/x509"
	"slices"
	"testing"
	"time"
)

// TestBundle: the shipped bundle parses, and holds a current root for every region the stack
// prices and for the regions the tests plan in, long past today.
func TestBundle(t *testing.T) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(Bundle)) {
		t.Fatal("the bundle holds no certificate")
	}
	later := time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	regions := Regions(later)
	for _, r := range []string{"us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1", "af-south-1"} {
		if !slices.Contains(regions, r) {
			t.Errorf("no root for %s valid in 2040; the bundle covers %v", r, regions)
		}
	}
	if Covers("cn-north-1", later) || Covers("us-gov-west-1", later) {
		t.Error("the global bundle covers another partition's region")
	}
}
