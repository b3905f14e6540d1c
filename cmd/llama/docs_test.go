package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docCommands are the `go run ./cmd/llama ...` lines of the README's and docs/' shell blocks.
func docCommands(t *testing.T) map[string][]string {
	t.Helper()
	files, _ := filepath.Glob("../../docs/*.md")
	files = append(files, "../../README.md")
	out := map[string][]string{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, block := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(raw), -1) {
			for _, line := range strings.Split(block[1], "\n") {
				line, _, _ = strings.Cut(line, " #")
				if cmd, ok := strings.CutPrefix(strings.TrimSpace(line), "go run ./cmd/llama "); ok {
					out[filepath.Base(f)] = append(out[filepath.Base(f)], cmd)
				}
			}
		}
	}
	return out
}

// TestTheDocsCommandsRun runs every offline command the README and the runbook show, as a
// reader would paste it, in a project with the runbook's prod stack (its first deployment's
// config) beside the dev one: each must run and exit 0. Placeholders a reader fills in take a
// value of the kind asked for; a line naming a file the reader makes first is skipped.
func TestTheDocsCommandsRun(t *testing.T) {
	dev, err := os.ReadFile("../../Pulumi.dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := projectWith(t, map[string]string{"dev": string(dev),
		"prod": "config:\n  aws:region: eu-west-1\n  llama:stage: single-box\n  llama:domain: app.example.com\n  llama:cloudflareZoneId: 0123456789abcdef0123456789abcdef\n"})
	fill := strings.NewReplacer("<zone>", "0123456789abcdef0123456789abcdef", "<zone-id>", "0123456789abcdef0123456789abcdef",
		"<current>", "single-box", "<next>", "separate-db", "<stage>", "cache")
	ran := 0
	for file, cmds := range docCommands(t) {
		for _, cmd := range cmds {
			line := fill.Replace(cmd)
			if strings.Contains(line, "<") || strings.Contains(line, ".json") || strings.Contains(line, "[") {
				continue // a file or a choice the reader supplies
			}
			args := strings.Fields(line)
			args = append(args[:1:1], append([]string{"--project-dir", dir}, args[1:]...)...)
			code, _, errs := runCapture(args...)
			if code != exitOK {
				t.Errorf("%s: llama %s exits %d: %s", file, cmd, code, errs)
			}
			ran++
		}
	}
	if ran < 8 {
		t.Errorf("ran %d documented commands; the docs show more", ran)
	}
}
