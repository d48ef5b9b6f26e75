package extract

import (
	"context"
	"fmt"
	"time"

	"github.com/segpipe/segpipe/internal/config"
)

// Floor is a part of a landing measured on its own: what a landing cannot be faster than.
type Floor int

// The floors, each a prefix of a landing's work.
const (
	// FloorDownload fetches every page and follows the pagination (finding a page's records
	// and next cursor), without decoding a record.
	FloorDownload Floor = iota + 1
	// FloorDecode also decodes and checks every record into Arrow record batches (quarantine
	// and duplicate keys included), then drops the batches: nothing is written.
	FloorDecode
)

func (f Floor) String() string {
	switch f {
	case FloorDownload:
		return "download"
	case FloorDecode:
		return "decode"
	}
	return fmt.Sprintf("Floor(%d)", int(f))
}

// FloorResult is what one floor measurement of an entity saw.
type FloorResult struct {
	Pages         int
	Rows          int64
	ResponseBytes int64
	Duration      time.Duration
}

// MeasureFloor runs floor f of the landing of one entity: the same requests, pagination and
// (for FloorDecode) decoding as LandEntity with the same options, writing nothing anywhere.
func MeasureFloor(ctx context.Context, f Floor, source string, src *config.Source, entity string, ent *config.Entity, opts Options) (FloorResult, error) {
	if f != FloorDownload && f != FloorDecode {
		return FloorResult{}, fmt.Errorf("extract %s/%s: unknown floor %d", source, entity, int(f))
	}
	opts.floor = f
	start := time.Now()
	l, err := newLanding(nil, source, src, entity, ent, opts)
	if err != nil {
		return FloorResult{}, err
	}
	defer l.release()
	if _, err := l.run(ctx); err != nil {
		return FloorResult{}, err
	}
	return FloorResult{Pages: l.pages, Rows: l.rows + l.q.n, ResponseBytes: l.bodyBytes, Duration: time.Since(start)}, nil
}
