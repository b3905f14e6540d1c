package storage

import (
	"strings"
	"testing"
)

// TestNonPublicRanges: ranges broader than S3 accepts in an anonymous Allow are split into
// ranges it accepts, covering the same addresses.
func TestNonPublicRanges(t *testing.T) {
	got, err := NonPublicRanges([]string{"2a06:98c0::/29", "2400:cb00::/32", "104.16.0.0/13", "10.0.0.0/7"})
	if err != nil {
		t.Fatal(err)
	}
	want := "2a06:98c0::/32 2a06:98c1::/32 2a06:98c2::/32 2a06:98c3::/32 2a06:98c4::/32 2a06:98c5::/32 2a06:98c6::/32 2a06:98c7::/32 " +
		"2400:cb00::/32 104.16.0.0/13 10.0.0.0/8 11.0.0.0/8"
	if strings.Join(got, " ") != want {
		t.Errorf("got %v\nwant %s", got, want)
	}
	if _, err := NonPublicRanges([]string{"not-a-range"}); err == nil {
		t.Error("a malformed range passed")
	}
}
