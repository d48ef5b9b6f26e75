package bench

import (
	"context"
	"strings"
	"testing"

	"github.com/segpipe/segpipe/jobs"
)

// The floors themselves are measured end to end by cmd/segpipe's TestBenchSmoke (every record
// the server holds is seen by both ingest floors); an unknown floor is refused before anything
// runs.
func TestUnknownFloorIsRefused(t *testing.T) {
	_, err := MeasureIngestFloor(context.Background(), jobs.Params{}, Floor(9))
	if err == nil || !strings.Contains(err.Error(), "unknown floor 9") {
		t.Errorf("Floor(9): %v", err)
	}
	if got := FloorDecode.String(); got != "decode" {
		t.Errorf("FloorDecode is %q", got)
	}
}
