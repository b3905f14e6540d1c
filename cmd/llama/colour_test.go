package main

import (
	"os"
	"strings"
	"testing"
)

// TestColour: a diff's lines are coloured by what they do, and output that is not a terminal,
// or any output with NO_COLOR set, stays plain.
func TestColour(t *testing.T) {
	text := "What matters:\n  + Instance box-instance\n  - Record cdn-static\n  ~ Instance database-primary\n\nOUTAGE: 1 resource(s)\n  ! Record cdn-static\n"
	got := paint(text)
	for _, want := range []string{green + "  + Instance box-instance" + reset + "\n", red + "  - Record cdn-static" + reset, yellow + "  ~ Instance", bold + red + "OUTAGE", "What matters:\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("painted text lacks %q:\n%q", want, got)
		}
	}
	if strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(got, bold, ""), red, ""), green, ""), yellow, ""), reset, "") != text {
		t.Error("painting changed the text itself")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if colourful(f) {
		t.Error("a file gets colour")
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		t.Setenv("NO_COLOR", "1")
		if colourful(tty) {
			t.Error("NO_COLOR set, and the terminal gets colour")
		}
	}
	_, out, errs := llama(t, "diff", "--from", "single-box", "--to", "separate-db", "-c", "protect=true")
	if strings.Contains(out+errs, "\x1b[") {
		t.Error("piped output carries colour")
	}
}
