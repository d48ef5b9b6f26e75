package extract

import (
	"bufio"
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
)

const (
	memPageSize  = 5_000
	memBatchRows = 8_192
)

// generatedExport serves total small records, cursor-paged, rendering each page as it is
// asked for: the fake holds no export in memory, so the heap measures the landing.
func generatedExport(total int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		off, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Query().Get("cursor"), "c"))
		end := min(off+limit, total)
		w.Header().Set("Content-Type", "application/json")
		bw := bufio.NewWriterSize(w, 64<<10)
		buf := make([]byte, 0, 128)
		bw.WriteString(`{"data":[`)
		for i := off; i < end; i++ {
			buf = buf[:0]
			if i > off {
				buf = append(buf, ',')
			}
			buf = append(buf, `{"id":"k`...)
			buf = strconv.AppendInt(buf, int64(i), 10)
			buf = append(buf, `","n":`...)
			buf = strconv.AppendInt(buf, int64(i%1000), 10)
			buf = append(buf, `,"at":"2026-01-`...)
			day := 1 + i%28
			buf = append(buf, byte('0'+day/10), byte('0'+day%10))
			buf = append(buf, `T10:00:00Z"}`...)
			bw.Write(buf)
		}
		bw.WriteString(`],"next_cursor":`)
		if end < total {
			bw.WriteString(`"c` + strconv.Itoa(end) + `"}`)
		} else {
			bw.WriteString(`null}`)
		}
		bw.Flush()
	}
}

// landingPeakHeap lands a generated export of total records and returns the largest
// HeapInuse seen while it ran (sampled every 2ms) and the rows landed.
func landingPeakHeap(t *testing.T, total int) (peak uint64, rows int64) {
	t.Helper()
	srv := serve(t, generatedExport(total))
	ent := &config.Entity{
		Path: "/a", Format: "json", RecordsPath: "data", Pagination: cursorPaging, PrimaryKey: "id",
		Columns: config.Columns{{Name: "id", Type: "string"}, {Name: "n", Type: "int64"}, {Name: "at", Type: "timestamp"}},
	}
	src := testSource(srv.URL)
	src.PageSize = memPageSize
	opts := testOptions(t, "m")
	opts.BatchRows = memBatchRows
	store := newStore(t)

	runtime.GC()
	debug.FreeOSMemory()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	m := mustLand(t, store, src, ent, opts)
	close(stop)
	wg.Wait()
	return peak, m.Rows
}

// TestMemoryStaysFlat lands N and 8N records: the peak heap must not grow with the export
// (docs/performance.md records the figures). What does grow is the duplicate-key set, at
// 10.7 to 21 bytes a key (2.6 to 5 MiB at 8N).
func TestMemoryStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("lands 360k records")
	}
	// A low GC target keeps garbage awaiting collection from swamping what is live: the
	// page feed and the batch writer keep a page and batches in flight, so at the default
	// target a landing's peak varies by a third from run to run.
	defer debug.SetGCPercent(debug.SetGCPercent(25))
	landingPeakHeap(t, 10_000) // warm up: one-time set-up (codec pools, registries) is not the landing's
	// N is landed 8 times and the largest peak kept, so both sides do the same work and see
	// as many collections: a short landing may end before the heap reaches the collector's
	// goal, and arrow-go's pooled zstd encoders are dropped by the collector and re-made (a
	// 16 MiB window each), a transient that a longer run is likelier to catch.
	const n = 40_000
	var peakN uint64
	for range 8 {
		peak, rows := landingPeakHeap(t, n)
		if rows != n {
			t.Fatalf("landed %d rows", rows)
		}
		peakN = max(peakN, peak)
	}
	peak8N, rows8N := landingPeakHeap(t, 8*n)
	if rows8N != 8*n {
		t.Fatalf("landed %d rows", rows8N)
	}
	ratio := float64(peak8N) / float64(peakN)
	t.Logf("peak HeapInuse: %d records %.1f MiB, %d records %.1f MiB, ratio %.2f", n, mib(peakN), 8*n, mib(peak8N), ratio)
	if ratio > 1.5 {
		t.Errorf("peak heap grew %.2fx for 8x the records (%.1f → %.1f MiB); a landing must stream", ratio, mib(peakN), mib(peak8N))
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
