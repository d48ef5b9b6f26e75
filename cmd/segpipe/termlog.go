package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// termHandler is the log on a terminal: a model finished and a landing committed are one
// short line each for people watching a run, every other record is slog's text line. The
// same records go to the JSON log, field for field, when stderr is not a terminal.
type termHandler struct {
	w     io.Writer
	mu    *sync.Mutex
	level slog.Leveler
	attrs []slog.Attr
	text  slog.Handler
}

func newTermHandler(w io.Writer, opts *slog.HandlerOptions) *termHandler {
	return &termHandler{w: w, mu: &sync.Mutex{}, level: opts.Level, text: slog.NewTextHandler(w, opts)}
}

func (h *termHandler) Enabled(_ context.Context, l slog.Level) bool {
	min := slog.LevelInfo
	if h.level != nil {
		min = h.level.Level()
	}
	return l >= min
}

func (h *termHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	c.text = h.text.WithAttrs(attrs)
	return &c
}

func (h *termHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.text = h.text.WithGroup(name)
	return &c
}

func (h *termHandler) Handle(ctx context.Context, r slog.Record) error {
	a := map[string]slog.Value{}
	for _, at := range h.attrs {
		a[at.Key] = at.Value.Resolve()
	}
	r.Attrs(func(at slog.Attr) bool {
		a[at.Key] = at.Value.Resolve()
		return true
	})
	var line string
	switch r.Message {
	case "model built":
		of := a["of"].String()
		line = fmt.Sprintf("  model %*s/%s  %-32s %-12s %12s rows %7.2f s\n", len(of), a["n"].String(), of,
			a["model"].String(), a["layer"].String(), thousands(intOf(a["rows"])), floatOf(a["seconds"]))
	case "extract landed":
		extra := ""
		if q := intOf(a["quarantined"]); q > 0 {
			extra = fmt.Sprintf(", %s quarantined", thousands(q))
		}
		line = fmt.Sprintf("  landed %s/%s dt=%s: %s pages, %s rows%s, %.1f MB at %.1f MB/s, %.2f s\n",
			a["source"].String(), a["entity"].String(), a["dt"].String(), thousands(intOf(a["pages"])), thousands(intOf(a["rows"])), extra,
			float64(intOf(a["response_bytes"]))/1e6, floatOf(a["mb_per_second"]), floatOf(a["seconds"]))
	default:
		return h.text.Handle(ctx, r)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, strings.ReplaceAll(line, "\n\n", "\n"))
	return err
}

func intOf(v slog.Value) int64 {
	switch v.Kind() {
	case slog.KindInt64:
		return v.Int64()
	case slog.KindUint64:
		return int64(v.Uint64())
	case slog.KindFloat64:
		return int64(v.Float64())
	}
	return 0
}

func floatOf(v slog.Value) float64 {
	switch v.Kind() {
	case slog.KindFloat64:
		return v.Float64()
	case slog.KindInt64:
		return float64(v.Int64())
	case slog.KindDuration:
		return v.Duration().Seconds()
	}
	return 0
}
