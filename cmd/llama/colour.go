package main

import (
	"io"
	"os"
	"strings"
)

// ANSI colours the text output uses on a terminal.
const (
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	bold   = "\x1b[1m"
	reset  = "\x1b[0m"
)

// colourful reports whether output to w may carry colour: w is a terminal, NO_COLOR is unset
// (https://no-color.org: any non-empty value turns colour off) and TERM is not dumb. Output
// that is piped or redirected stays plain, as diffs in CI logs and files should.
func colourful(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// paint colours a diff's text line by line: creates green, deletes and what is lost red,
// updates and replaces yellow, the loss, outage and refusal headings bold red.
func paint(text string) string {
	lines := strings.SplitAfter(text, "\n")
	for i, l := range lines {
		body := strings.TrimRight(l, "\n")
		trimmed := strings.TrimLeft(body, " ")
		var c string
		switch {
		case strings.HasPrefix(body, "DATA LOSS") || strings.HasPrefix(body, "OUTAGE") || strings.HasPrefix(body, "REFUSED"):
			c = bold + red
		case strings.HasPrefix(trimmed, "+- "), strings.HasPrefix(trimmed, "~ "):
			c = yellow
		case strings.HasPrefix(trimmed, "+ "):
			c = green
		case strings.HasPrefix(trimmed, "- "), strings.HasPrefix(trimmed, "! "):
			c = red
		}
		if c != "" {
			lines[i] = c + body + reset + l[len(body):]
		}
	}
	return strings.Join(lines, "")
}

// write prints a diff's text, coloured where the output is a terminal.
func (c *cli) write(text string) {
	if colourful(c.stdout) {
		text = paint(text)
	}
	io.WriteString(c.stdout, text)
}
