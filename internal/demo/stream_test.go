package demo

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// streamed concatenates the blocks Stream emits for opts into one company, copying each block
// (Stream reuses them). Every slice is non-nil.
func streamed(t *testing.T, opts Options, block int) *Company {
	t.Helper()
	c := &Company{Accounts: []Account{}, Opportunities: []Opportunity{}, Subscriptions: []Subscription{},
		Invoices: []Invoice{}, Tickets: []Ticket{}, Usage: []Usage{}}
	next := 0
	err := Stream(opts, block, func(b *Company) error {
		if len(b.Accounts) == 0 || b.Accounts[0].ID != makeID("acc", next+1, idWidth(b.Options.Accounts)) {
			return fmt.Errorf("block after %d accounts starts with %v, want account %d", next, b.Accounts[:min(1, len(b.Accounts))], next+1)
		}
		next += len(b.Accounts)
		c.Options, c.Start, c.End = b.Options, b.Start, b.End
		c.Accounts = append(c.Accounts, b.Accounts...)
		c.Opportunities = append(c.Opportunities, b.Opportunities...)
		c.Subscriptions = append(c.Subscriptions, b.Subscriptions...)
		c.Invoices = append(c.Invoices, b.Invoices...)
		c.Tickets = append(c.Tickets, b.Tickets...)
		c.Usage = append(c.Usage, b.Usage...)
		return nil
	})
	if err != nil {
		t.Fatalf("Stream(%+v, %d): %v", opts, block, err)
	}
	return c
}

// canonical returns the JSON of each record after blank has blanked its ids, sorted.
func canonical[T any](t *testing.T, records []T, blank func(T) T) []string {
	t.Helper()
	out := make([]string, len(records))
	for i, r := range records {
		b, err := json.Marshal(blank(r))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = string(b)
	}
	slices.Sort(out)
	return out
}

// sameRecords fails the test when the sorted canonical forms of two record sets differ.
func sameRecords(t *testing.T, entity string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d records streamed, %d generated", entity, len(got), len(want))
		return
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s: first difference at sorted record %d:\nstream   %s\ngenerate %s", entity, i, got[i], want[i])
			return
		}
	}
}

// Stream makes the same records as Generate, account by account: the same accounts in the
// same order, and every other record the same once ids (and the subscription an invoice names,
// compared by content) are blanked; only which tickets carry the planted bad csat differs, as
// the ticket numbering does.
func TestStreamMatchesGenerate(t *testing.T) {
	for _, opts := range []Options{{Accounts: 2000, Seed: 7}, {Accounts: 600, Seed: 3, Volume: VolumeBench}} {
		t.Run(cmp.Or(opts.Volume, "demo"), func(t *testing.T) {
			gen := Generate(opts)
			str := streamed(t, opts, 1000)
			if got, want := str.RowCounts(), gen.RowCounts(); got != want {
				t.Fatalf("row counts: stream %+v, generate %+v", got, want)
			}
			if str.Options != gen.Options || !str.Start.Equal(gen.Start) || !str.End.Equal(gen.End) {
				t.Errorf("stream options %+v %v %v, generate %+v %v %v", str.Options, str.Start, str.End, gen.Options, gen.Start, gen.End)
			}
			if !reflect.DeepEqual(str.Accounts, gen.Accounts) {
				t.Error("accounts differ")
			}
			sameRecords(t, "opportunities",
				canonical(t, str.Opportunities, func(o Opportunity) Opportunity { o.ID = ""; return o }),
				canonical(t, gen.Opportunities, func(o Opportunity) Opportunity { o.ID = ""; return o }))
			blankSub := func(s Subscription) Subscription { s.ID = ""; return s }
			sameRecords(t, "subscriptions", canonical(t, str.Subscriptions, blankSub), canonical(t, gen.Subscriptions, blankSub))
			invoices := func(c *Company) []string {
				subs := make(map[string]string, len(c.Subscriptions))
				for _, s := range c.Subscriptions {
					b, _ := json.Marshal(blankSub(s))
					subs[s.ID] = string(b)
				}
				return canonical(t, c.Invoices, func(inv Invoice) Invoice {
					inv.ID, inv.SubscriptionID = "", subs[inv.SubscriptionID]
					return inv
				})
			}
			sameRecords(t, "invoices", invoices(str), invoices(gen))
			blankUsage := func(u Usage) Usage { u.UsageID = ""; return u }
			sameRecords(t, "usage", canonical(t, str.Usage, blankUsage), canonical(t, gen.Usage, blankUsage))

			// Tickets: equal but for csat, which may differ only where either side is the bad value.
			tickets := func(c *Company) []Ticket {
				ts := slices.Clone(c.Tickets)
				for i := range ts {
					ts[i].TicketID = ""
				}
				key := func(t Ticket) string { t.CSAT = 0; return fmt.Sprint(t) }
				slices.SortFunc(ts, func(a, b Ticket) int { return cmp.Or(strings.Compare(key(a), key(b)), cmp.Compare(a.CSAT, b.CSAT)) })
				return ts
			}
			st, gt := tickets(str), tickets(gen)
			bad := 0
			for i := range st {
				a, b := st[i], gt[i]
				if a.CSAT != b.CSAT && a.CSAT >= 0 && b.CSAT >= 0 {
					t.Fatalf("tickets: sorted ticket %d: stream %+v, generate %+v", i, a, b)
				}
				a.CSAT, b.CSAT = 0, 0
				if a != b {
					t.Fatalf("tickets: sorted ticket %d: stream %+v, generate %+v", i, a, b)
				}
				if st[i].CSAT < 0 {
					bad++
				}
			}
			if want := len(st) / BadCSATEvery; bad != want {
				t.Errorf("tickets: %d with the bad csat, want %d", bad, want)
			}
		})
	}
}

// Stream's ids are unique, increasing in emit order and of one width; every invoice names a
// subscription of its own customer; the bad csat is on exactly the ticket numbers that are
// multiples of BadCSATEvery. Block sizes change nothing.
func TestStreamIDs(t *testing.T) {
	opts := Options{Accounts: 2000, Seed: 7}
	c := streamed(t, opts, 1000)
	width := streamIDWidth(2000)
	increasing := func(entity, prefix string, ids []string) {
		t.Helper()
		for i, id := range ids {
			if want := makeID(prefix, i+1, width); id != want {
				t.Fatalf("%s %d has id %q, want %q", entity, i, id, want)
			}
			if i > 0 && id <= ids[i-1] {
				t.Fatalf("%s ids not increasing: %q after %q", entity, id, ids[i-1])
			}
		}
	}
	ids := func(n int, id func(i int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = id(i)
		}
		return out
	}
	increasing("opportunities", "opp", ids(len(c.Opportunities), func(i int) string { return c.Opportunities[i].ID }))
	increasing("subscriptions", "sub", ids(len(c.Subscriptions), func(i int) string { return c.Subscriptions[i].ID }))
	increasing("invoices", "inv", ids(len(c.Invoices), func(i int) string { return c.Invoices[i].ID }))
	increasing("tickets", "tkt", ids(len(c.Tickets), func(i int) string { return c.Tickets[i].TicketID }))
	increasing("usage", "use", ids(len(c.Usage), func(i int) string { return c.Usage[i].UsageID }))

	customer := make(map[string]string, len(c.Subscriptions))
	for _, s := range c.Subscriptions {
		customer[s.ID] = s.CustomerID
	}
	for _, inv := range c.Invoices {
		if cust, ok := customer[inv.SubscriptionID]; !ok || cust != inv.CustomerID {
			t.Fatalf("invoice %s of %s names subscription %q of %q", inv.ID, inv.CustomerID, inv.SubscriptionID, cust)
		}
	}
	bad := 0
	for _, tk := range c.Tickets {
		n, err := strconv.Atoi(strings.TrimPrefix(tk.TicketID, "tkt_"))
		if err != nil {
			t.Fatal(err)
		}
		if (tk.CSAT < 0) != (n%BadCSATEvery == 0) {
			t.Fatalf("ticket %s has csat %d", tk.TicketID, tk.CSAT)
		}
		if tk.CSAT < 0 {
			bad++
		}
	}
	if bad == 0 {
		t.Errorf("no bad csat in %d tickets", len(c.Tickets))
	}

	for _, block := range []int{1, 7, 2000, 5000} {
		if other := streamed(t, opts, block); !reflect.DeepEqual(other, c) {
			t.Errorf("blocks of %d accounts stream other data than blocks of 1000", block)
		}
	}
}

func TestStreamErrors(t *testing.T) {
	emit := func(*Company) error { return nil }
	if err := Stream(Options{Accounts: 10}, 0, emit); err == nil || !strings.Contains(err.Error(), "block") {
		t.Errorf("block 0: %v", err)
	}
	if err := Stream(Options{Accounts: 10, Volume: "huge"}, 5, emit); err == nil || !strings.Contains(err.Error(), `"huge"`) {
		t.Errorf("unknown volume: %v", err)
	}
	stop := errors.New("stop")
	calls := 0
	err := Stream(Options{Accounts: 500}, 10, func(*Company) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Errorf("emit failing on call 3: %v after %d calls", err, calls)
	}
}

// The bench volume has about 24 invoices, 3 opportunities, 5 tickets and 30 usage rows per
// account at 10,000 accounts (issue #7), within 15%.
func TestBenchVolumeAverages(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 10,000 bench accounts")
	}
	var rc RowCounts
	err := Stream(Options{Accounts: 10_000, Volume: VolumeBench}, 1000, func(c *Company) error {
		b := c.RowCounts()
		rc.Accounts += b.Accounts
		rc.Opportunities += b.Opportunities
		rc.Invoices += b.Invoices
		rc.Tickets += b.Tickets
		rc.Usage += b.Usage
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n := float64(rc.Accounts)
	for _, a := range []struct {
		entity      string
		got, target float64
	}{
		{"invoices", float64(rc.Invoices) / n, 24},
		{"opportunities", float64(rc.Opportunities) / n, 3},
		{"tickets", float64(rc.Tickets) / n, 5},
		{"usage", float64(rc.Usage) / n, 30},
	} {
		t.Logf("%s per account: %.2f (target %.0f)", a.entity, a.got, a.target)
		if a.got < 0.85*a.target || a.got > 1.15*a.target {
			t.Errorf("%s per account: %.2f, want %.0f +-15%%", a.entity, a.got, a.target)
		}
	}
}

// The default volume is the demo company as it was before volumes existed, byte for byte (its
// invoices have carried their seats and seat limit since, and subscriptions, invoices, tickets
// and usage their updated_at; the hashes were re-pinned each time after checking that the JSON
// without the new fields hashed as before).
func TestDefaultVolumeUnchanged(t *testing.T) {
	for _, c := range []struct {
		opts Options
		hash string
	}{
		{Options{Accounts: 3000, Seed: 7}, "12e04e332ffddc6b17fbfe9d079185ec83dbd72b680b6ff8a633498451db6e6c"},
		{Options{Accounts: 500}, "294c611953bbe236ee6c91037a54fe7c216508abf3bec3e3aa1b86f48c561f34"},
	} {
		b, err := json.Marshal(Generate(c.opts))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != c.hash {
			t.Errorf("Generate(%+v): sha256 %x, want %s (the default company changed)", c.opts, sum, c.hash)
		}
	}
}
