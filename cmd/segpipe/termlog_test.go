package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// On a terminal a model finished and a landing committed are one readable line each; the
// JSON log carries the same figures as fields; other records keep slog's text form.
func TestTerminalLogLines(t *testing.T) {
	emit := func(terminal bool) string {
		var buf bytes.Buffer
		log, err := newLoggerFor(&buf, "info", terminal)
		if err != nil {
			t.Fatal(err)
		}
		log.Info("model built", "n", 7, "of", 46, "model", "int_customer_ltv", "layer", "intermediate", "rows", int64(1669), "seconds", 0.0423)
		log.With("source", "crm", "entity", "accounts", "dt", "2026-10-31").Info("extract landed", "mode", "full", "pages", 5, "rows", int64(5000),
			"quarantined", int64(3), "response_bytes", int64(2_400_000), "mb_per_second", 12.34, "seconds", 0.195)
		log.Warn("assertion warned", "assertion", "assert_x", "rows", 2)
		log.Debug("hidden")
		log.Info("took", "elapsed", 1500*time.Millisecond)
		return buf.String()
	}
	term := strings.Split(strings.TrimRight(emit(true), "\n"), "\n")
	if len(term) != 4 {
		t.Fatalf("terminal log has %d lines, want 4:\n%s", len(term), strings.Join(term, "\n"))
	}
	if want := "  model  7/46  int_customer_ltv                 intermediate        1,669 rows    0.04 s"; term[0] != want {
		t.Errorf("model line\n got %q\nwant %q", term[0], want)
	}
	if want := "  landed crm/accounts dt=2026-10-31: 5 pages, 5,000 rows, 3 quarantined, 2.4 MB at 12.3 MB/s, 0.20 s"; term[1] != want {
		t.Errorf("landing line\n got %q\nwant %q", term[1], want)
	}
	if !strings.Contains(term[2], `level=WARN msg="assertion warned" assertion=assert_x rows=2`) || !strings.Contains(term[3], "elapsed=1.5") {
		t.Errorf("other records are not slog text lines:\n%s\n%s", term[2], term[3])
	}

	// Not a terminal: JSON, the same figures as fields.
	lines := strings.Split(strings.TrimRight(emit(false), "\n"), "\n")
	var model, landed map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &model); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &landed); err != nil {
		t.Fatal(err)
	}
	if model["n"] != 7.0 || model["of"] != 46.0 || model["model"] != "int_customer_ltv" || model["rows"] != 1669.0 || model["seconds"] != 0.0423 {
		t.Errorf("model record: %v", model)
	}
	if landed["source"] != "crm" || landed["pages"] != 5.0 || landed["rows"] != 5000.0 || landed["mb_per_second"] != 12.34 {
		t.Errorf("landing record: %v", landed)
	}
}
