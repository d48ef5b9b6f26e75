package extract

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
)

// A landing runs as three stages, each in its own goroutine, so that one entity can use
// more than one core: the page feed downloads and splits page N+1 while page N is
// converted into Arrow, and the batch writer encodes and compresses batch K into Parquet
// while batch K+1 is being built. Each hand-over holds at most one item in waiting, so a
// landing holds at most three pages (converting, waiting, downloading) and three record
// batches (building, waiting, being written) at once.

// fetched is one page from the page feed, or the error that ended it. A page that arrives
// with an error is still converted first: the error is about what comes after it (the next
// page's address).
type fetched struct {
	pg  *page
	err error
}

// pageFeed fetches pages one ahead of their conversion.
type pageFeed struct {
	out    chan fetched
	quit   chan struct{} // closed by stop: nobody reads out any more
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startPageFeed follows pager from its first page. Every page and the error that ends the
// feed, if any, arrive on out, which is closed after the last.
func (l *landing) startPageFeed(ctx context.Context, f *fetcher, pager *paginator) *pageFeed {
	ctx, cancel := context.WithCancel(ctx)
	pf := &pageFeed{out: make(chan fetched, 1), quit: make(chan struct{}), cancel: cancel}
	pf.wg.Add(1)
	go func() {
		defer pf.wg.Done()
		defer close(pf.out)
		send := func(v fetched) bool {
			select {
			case pf.out <- v:
				return true
			case <-pf.quit:
				return false
			}
		}
		for u, num := pager.first, 1; u != nil; num++ {
			if err := ctx.Err(); err != nil {
				send(fetched{err: fmt.Errorf("page %d: %w", num, err)})
				return
			}
			pg, err := f.fetch(ctx, num, u)
			if err != nil {
				send(fetched{err: err})
				return
			}
			var next *url.URL
			if next, err = pager.next(pg); err != nil {
				err = fmt.Errorf("page %d: %s: %w", num, f.scrub(redactURL(pg.url)), err)
			}
			if !send(fetched{pg: pg, err: err}) || err != nil {
				return
			}
			u = next
		}
	}()
	return pf
}

// stop ends the feed, waiting for its goroutine (and any request in flight) to finish.
func (pf *pageFeed) stop() {
	close(pf.quit)
	pf.cancel()
	pf.wg.Wait()
}

// batchWriter writes record batches into the landing's Parquet parts from its own
// goroutine. After the first failure it writes nothing more and reports that failure.
type batchWriter struct {
	in     chan arrow.RecordBatch
	done   chan struct{} // closed when the goroutine has ended; err is then final
	err    error
	failed atomic.Bool // set with err, for the sender to stop early
	closed bool
}

// startBatchWriter writes every batch sent to it with sink.write, releasing each. It is the
// batchSink of a landing.
func startBatchWriter(ctx context.Context, sink *partSink) *batchWriter {
	w := &batchWriter{in: make(chan arrow.RecordBatch, 1), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for rec := range w.in {
			if w.err == nil {
				if w.err = sink.write(ctx, rec); w.err != nil {
					w.failed.Store(true)
				}
			}
			rec.Release()
		}
	}()
	return w
}

// send hands rec (whose ownership passes to the writer) to the writer goroutine, or
// returns the error that stopped it.
func (w *batchWriter) send(ctx context.Context, rec arrow.RecordBatch) error {
	if w.failed.Load() {
		rec.Release()
		return w.close()
	}
	select {
	case w.in <- rec:
		return nil
	case <-ctx.Done():
		rec.Release()
		return ctx.Err()
	}
}

// close waits until every batch sent is written and returns the first write error.
func (w *batchWriter) close() error {
	if !w.closed {
		w.closed = true
		close(w.in)
	}
	<-w.done
	return w.err
}
