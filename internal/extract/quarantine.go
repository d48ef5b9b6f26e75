package extract

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/segpipe/segpipe/internal/lake"
)

// QuarantinedRecord is one line of a quarantine file (NDJSON): a record that was not
// landed and why.
type QuarantinedRecord struct {
	Source string `json:"source"`
	Entity string `json:"entity"`
	// Page is the 1-based number of the page in this landing; Index the record's 0-based
	// position in it.
	Page  int `json:"page"`
	Index int `json:"index"`
	// Reason names the column, the value and why, e.g. `column csat: "n/a" is not an int64`.
	Reason string `json:"reason"`
	// Raw is the record's original text (invalid UTF-8 shows as U+FFFD).
	Raw string `json:"raw"`
}

// quarantine collects rejected records in a local NDJSON file until the landing ends.
type quarantine struct {
	source, entity string
	tempDir        string
	f              *os.File
	bw             *bufio.Writer
	enc            *json.Encoder
	n              int64
}

func (q *quarantine) add(pageNum, index int, reason string, raw []byte) error {
	if q.f == nil {
		f, err := os.CreateTemp(q.tempDir, "segpipe-quarantine-*.ndjson")
		if err != nil {
			return fmt.Errorf("create quarantine file: %w", err)
		}
		q.f = f
		q.bw = bufio.NewWriterSize(f, 256<<10)
		q.enc = json.NewEncoder(q.bw)
		q.enc.SetEscapeHTML(false)
	}
	q.n++
	err := q.enc.Encode(QuarantinedRecord{Source: q.source, Entity: q.entity, Page: pageNum, Index: index, Reason: reason, Raw: string(raw)})
	if err != nil {
		return fmt.Errorf("write quarantine file: %w", err)
	}
	return nil
}

// upload puts the quarantine file at key; nothing is uploaded when no record was rejected.
func (q *quarantine) upload(ctx context.Context, store lake.Store, key string) error {
	if q.f == nil {
		return nil
	}
	if err := q.bw.Flush(); err != nil {
		return fmt.Errorf("write quarantine file: %w", err)
	}
	if _, err := q.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind quarantine file: %w", err)
	}
	if _, err := store.Put(ctx, key, q.f); err != nil {
		return fmt.Errorf("upload quarantine %s: %w", key, err)
	}
	return nil
}

// discard removes the local file.
func (q *quarantine) discard() {
	if q.f != nil {
		q.f.Close()
		os.Remove(q.f.Name())
		q.f = nil
	}
}
