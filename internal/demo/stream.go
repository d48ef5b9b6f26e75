package demo

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Stream generates the company described by opts account by account, in blocks of block
// accounts, and calls emit with each block's records: a *Company whose slices hold only that
// block's records, with Options (defaults filled in), Start and End set.
//
// Each account is generated exactly as Generate generates it, but the records come in
// generation order (account-major, not by creation time as in Generate) and their ids are
// numbered in that order from running counters over the whole company, with a fixed width
// (streamIDWidth), so that ids are unique and sort lexically in numeric order. Account ids are
// Generate's. Every invoice names its own subscription, and tickets whose number is a multiple
// of BadCSATEvery carry the planted bad csat, as in Generate.
//
// Blocks are generated in parallel (GOMAXPROCS workers) but emit is called in block order,
// one call at a time (not always from the same goroutine). The company passed to emit and its
// slices are reused for a later block once emit returns: emit must not retain them. Memory is
// bounded by the block size times the number of workers, not by the company. An error from
// emit stops the generation and is returned as is.
func Stream(opts Options, block int, emit func(*Company) error) error {
	return streamBlocks(opts, block, time.Time{}, nil, func(b *streamBlock) error { return emit(&b.company) })
}

// streamIDWidth is the width of the opp_, sub_, inv_, tkt_ and use_ ids Stream numbers for a
// company of n accounts: room for 100 records of each entity per account on average.
func streamIDWidth(n int) int { return idWidth(100 * n) }

// idCounters counts the records of the entities whose ids Stream numbers.
type idCounters struct {
	opps, subs, invs, tickets, usage int
	// accounts counts accounts where that is needed (the records kept at a cut).
	accounts int
}

// add returns the sum of c and d.
func (c idCounters) add(d idCounters) idCounters {
	return idCounters{c.opps + d.opps, c.subs + d.subs, c.invs + d.invs, c.tickets + d.tickets, c.usage + d.usage, c.accounts + d.accounts}
}

// largest returns the largest of the counts.
func (c idCounters) largest() int { return max(c.opps, c.subs, c.invs, c.tickets, c.usage) }

// streamBlock is one block of accounts on its way through Stream: the generator's draft
// records, then the finished records with ids. A worker reuses one streamBlock for every
// block it generates.
type streamBlock struct {
	// seq is the block's number, from 0; accounts [first, last) are its accounts.
	seq, first, last int
	// gen holds the draft records of the block's accounts.
	gen *generator
	// base counts the records of every earlier block: the block's ids start after them.
	base idCounters
	// keptBase counts the records of every earlier block that KnownAt(cut) keeps, when
	// streamBlocks has a cut: the block's records of the company at the cut start after them.
	keptBase idCounters
	// company holds the block's finished records.
	company Company
	// pages is what Prerender renders of the block (unused by Stream).
	pages blockPages
}

// counts returns the number of draft records of each numbered entity in the block.
func (b *streamBlock) counts() idCounters {
	g := b.gen
	return idCounters{len(g.opps), len(g.subs), len(g.invs), len(g.tickets), len(g.usage), len(g.accounts)}
}

// keptCounts returns the number of draft records of the block that KnownAt(cut) keeps, by the
// same rules (created, started or issued before cut; usage months ended by cut).
func (b *streamBlock) keptCounts(cut time.Time) idCounters {
	g := b.gen
	before := func(t time.Time) bool { return t.Before(cut) }
	return idCounters{
		accounts: countWhere(g.accounts, func(a *Account) bool { return before(a.CreatedAt) }),
		opps:     countWhere(g.opps, func(o *Opportunity) bool { return before(o.CreatedAt) }),
		subs:     countWhere(g.subs, func(s *draftSub) bool { return before(s.StartedAt) }),
		invs:     countWhere(g.invs, func(inv *draftInv) bool { return before(inv.IssuedAt) }),
		tickets:  countWhere(g.tickets, func(t *Ticket) bool { return before(t.CreatedAt) }),
		usage:    countWhere(g.usage, func(u *Usage) bool { return !u.Month.AddDate(0, 1, 0).After(cut) }),
	}
}

// countWhere counts the elements of s for which f is true.
func countWhere[T any](s []T, f func(*T) bool) int {
	n := 0
	for i := range s {
		if f(&s[i]) {
			n++
		}
	}
	return n
}

// generate drafts the records of accounts [first, last), reusing the block's slices.
func (b *streamBlock) generate(seq, first, last int) {
	b.seq, b.first, b.last = seq, first, last
	g := b.gen
	g.accounts, g.opps, g.subs, g.invs, g.tickets, g.usage = g.accounts[:0], g.opps[:0], g.subs[:0], g.invs[:0], g.tickets[:0], g.usage[:0]
	for i := first; i < last; i++ {
		g.account(i)
	}
}

// finish numbers the block's records after those of earlier blocks (b.base) and fills
// b.company with them.
func (b *streamBlock) finish(width int) {
	g := b.gen
	c := &b.company
	c.Options, c.Start, c.End = g.opts, g.start, g.end
	c.Accounts = g.accounts

	for i := range g.opps {
		g.opps[i].ID = makeID("opp", b.base.opps+i+1, width)
	}
	c.Opportunities = g.opps

	// A draft subscription's gen is its index in g.subs: Stream keeps generation order.
	c.Subscriptions = c.Subscriptions[:0]
	for i := range g.subs {
		s := g.subs[i].Subscription
		s.ID = makeID("sub", b.base.subs+i+1, width)
		c.Subscriptions = append(c.Subscriptions, s)
	}
	c.Invoices = c.Invoices[:0]
	for i := range g.invs {
		inv := g.invs[i].Invoice
		inv.ID = makeID("inv", b.base.invs+i+1, width)
		inv.SubscriptionID = c.Subscriptions[g.invs[i].sub].ID
		c.Invoices = append(c.Invoices, inv)
	}

	for i := range g.tickets {
		n := b.base.tickets + i + 1
		g.tickets[i].TicketID = makeID("tkt", n, width)
		if n%BadCSATEvery == 0 {
			g.tickets[i].CSAT = -1
		}
	}
	c.Tickets = g.tickets

	for i := range g.usage {
		g.usage[i].UsageID = makeID("use", b.base.usage+i+1, width)
	}
	c.Usage = g.usage
	stampUpdates(c, c.End)
}

// streamBlocks runs Stream's pipeline: workers generate blocks in parallel, number their ids
// in block order (and, when cut is not zero, count in keptBase the records of earlier blocks
// that the company at cut holds), run prepare (when not nil) in parallel, then call emit in
// block order, one call at a time. The first error stops every worker and is returned.
func streamBlocks(opts Options, block int, cut time.Time, prepare, emit func(*streamBlock) error) error {
	if err := opts.validate(); err != nil {
		return err
	}
	if block < 1 {
		return fmt.Errorf("demo: stream block must be at least 1 account, got %d", block)
	}
	opts = opts.withDefaults()
	n := opts.Accounts
	width := streamIDWidth(n)
	limit := 1
	for range width {
		limit *= 10
	}
	blocks := (n + block - 1) / block
	workers := max(1, min(runtime.GOMAXPROCS(0), blocks))

	var (
		next    atomic.Int64 // the next block to generate
		mu      sync.Mutex
		turn    = sync.NewCond(&mu)
		idSeq   int        // the next block to number; guarded by mu
		ids     idCounters // records numbered so far; guarded by mu
		kept    idCounters // records numbered so far that the company at cut holds; guarded by mu
		emitSeq int        // the next block to emit; guarded by mu
		failed  error      // the first error; guarded by mu
	)
	fail := func(err error) {
		mu.Lock()
		if failed == nil {
			failed = err
		}
		turn.Broadcast()
		mu.Unlock()
	}
	// waitTurn waits until *seqVar is seq (true) or a worker failed (false).
	waitTurn := func(seqVar *int, seq int) bool {
		mu.Lock()
		defer mu.Unlock()
		for *seqVar != seq && failed == nil {
			turn.Wait()
		}
		return failed == nil
	}
	work := func() {
		b := &streamBlock{gen: newGenerator(opts)}
		for {
			seq := int(next.Add(1) - 1)
			if seq >= blocks {
				return
			}
			b.generate(seq, seq*block, min(n, (seq+1)*block))
			var keptHere idCounters
			if !cut.IsZero() {
				keptHere = b.keptCounts(cut)
			}
			if !waitTurn(&idSeq, seq) {
				return
			}
			mu.Lock()
			b.base = ids
			ids = ids.add(b.counts())
			b.keptBase = kept
			kept = kept.add(keptHere)
			idSeq++
			overflow := ids.largest() >= limit
			turn.Broadcast()
			mu.Unlock()
			if overflow {
				fail(fmt.Errorf("demo: stream of %d accounts: more than %d records of one entity by account %d; ids of width %d would not sort",
					n, limit-1, b.last, width))
				return
			}
			b.finish(width)
			if prepare != nil {
				if err := prepare(b); err != nil {
					fail(err)
					return
				}
			}
			if !waitTurn(&emitSeq, seq) {
				return
			}
			if err := emit(b); err != nil {
				fail(err)
				return
			}
			mu.Lock()
			emitSeq++
			turn.Broadcast()
			mu.Unlock()
		}
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(work)
	}
	wg.Wait()
	return failed
}
