package extract

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
)

// eventsEntity reads invoices from /invoices in full and, incrementally, from /events.
func eventsEntity() *config.Entity {
	return &config.Entity{
		Path: "/invoices", Format: "json", RecordsPath: "data", PrimaryKey: "id",
		Pagination: config.Pagination{Type: "cursor", LimitParam: "limit", CursorParam: "starting_after", CursorFromRecord: "id", HasMorePath: "has_more"},
		Columns: config.Columns{
			{Name: "id", Type: "string"},
			{Name: "status", Type: "string"},
			{Name: "created", Type: "timestamp"},
		},
		Incremental: &config.Incremental{CursorColumn: "created", Param: "created[gte]", ParamFormat: "unix", Lookback: config.Duration(time.Hour),
			Events: &config.EventFeed{Path: "/events", Params: map[string]string{"types[0]": "invoice.paid", "types[1]": "invoice.created"},
				ObjectPath: "data.object", TimeField: "created", Retention: config.Duration(720 * time.Hour)}},
	}
}

// stripeLike serves items newest first, 2 a page, walked with starting_after, and logs the
// queries it was asked.
func stripeLike(t *testing.T, list *[]string, queries *[]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		items := *list
		*queries = append(*queries, r.URL.Path+"?"+r.URL.RawQuery)
		start := 0
		if after := r.URL.Query().Get("starting_after"); after != "" {
			start = slices.IndexFunc(items, func(s string) bool {
				var v struct{ ID string }
				_ = json.Unmarshal([]byte(s), &v)
				return v.ID == after
			}) + 1
			if start == 0 {
				t.Errorf("starting_after %q is not an id of the list", after)
			}
		}
		end := min(start+2, len(items))
		fmt.Fprintf(w, `{"object":"list","url":%q,"has_more":%v,"data":[`, r.URL.Path, end < len(items))
		for i, s := range items[start:end] {
			if i > 0 {
				fmt.Fprint(w, ",")
			}
			fmt.Fprint(w, s)
		}
		fmt.Fprint(w, "]}")
	})
}

func stripeEvent(id string, created int64, typ, object string) string {
	return fmt.Sprintf(`{"id":%q,"object":"event","created":%d,"type":%q,"data":{"object":%s}}`, id, created, typ, object)
}

func stripeInvoice(id, status string, created int64) string {
	return fmt.Sprintf(`{"id":%q,"object":"invoice","status":%q,"created":%d}`, id, status, created)
}

// A full landing of an entity with an event feed lists the export and saves the newest
// creation time as its cursor. An incremental landing asks the event list for the events
// since the cursor (paging by the events' ids), lands each object's newest state once,
// counts the older states it leaves out, quarantines the events it cannot read, and saves
// the newest event's time.
func TestEventFeedLanding(t *testing.T) {
	var queries []string
	const T = 1_772_000_000 // 2026-02-25
	invoices := []string{stripeInvoice("in_2", "open", T+2000), stripeInvoice("in_1", "paid", T+1000)}
	events := []string{
		stripeEvent("evt_6", T+5000, "invoice.paid", stripeInvoice("in_2", "paid", T+2000)),
		stripeEvent("evt_5", T+4000, "invoice.created", stripeInvoice("in_3", "draft", T+4000)),
		stripeEvent("evt_4", T+3900, "invoice.created", `"in_9"`), // no object
		stripeEvent("evt_3", T+3000, "invoice.paid", stripeInvoice("in_2", "open", T+2000)),
		`{"id":"evt_2","object":"event","created":"soon","data":{"object":{"id":"in_4"}}}`,
		stripeEvent("evt_1", T+2500, "invoice.created", stripeInvoice("in_2", "draft", T+2000)),
	}
	mux := http.NewServeMux()
	mux.Handle("/invoices", stripeLike(t, &invoices, &queries))
	mux.Handle("/events", stripeLike(t, &events, &queries))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	src, ent, store := testSource(srv.URL), eventsEntity(), newStore(t)

	full := mustLand(t, store, src, ent, testOptions(t, "run-1"))
	if full.Mode != "full" || full.Rows != 2 || full.CursorMax == nil || full.CursorMax.Unix() != T+2000 {
		t.Fatalf("full landing: mode %s, %d rows, cursor %v; want full, 2, the newest created", full.Mode, full.Rows, full.CursorMax)
	}
	if !slices.Equal(queries, []string{"/invoices?limit=2"}) {
		t.Fatalf("full landing asked %v", queries)
	}

	queries = nil
	since := full.CursorMax.Add(-time.Hour)
	opts := testOptions(t, "run-2")
	opts.Dt = "2026-03-02"
	opts.Since = &since
	m := mustLand(t, store, src, ent, opts)
	want := []string{
		"/events?created%5Bgte%5D=1771998400&limit=2&types%5B0%5D=invoice.paid&types%5B1%5D=invoice.created",
		"/events?created%5Bgte%5D=1771998400&limit=2&starting_after=evt_5&types%5B0%5D=invoice.paid&types%5B1%5D=invoice.created",
		"/events?created%5Bgte%5D=1771998400&limit=2&starting_after=evt_3&types%5B0%5D=invoice.paid&types%5B1%5D=invoice.created",
	}
	if !slices.Equal(queries, want) {
		t.Errorf("incremental landing asked\n%v\nwant\n%v", queries, want)
	}
	if m.Mode != "incremental" || m.Rows != 2 || m.OlderEvents != 2 || m.Quarantined != 2 {
		t.Errorf("incremental landing: mode %s, %d rows, %d older events, %d quarantined; want incremental, 2, 2, 2", m.Mode, m.Rows, m.OlderEvents, m.Quarantined)
	}
	if m.CursorMax == nil || m.CursorMax.Unix() != T+5000 {
		t.Errorf("cursor %v, want the newest event's time", m.CursorMax)
	}
	rows := landedRows(t, store, m)
	got := map[string]string{}
	for _, r := range rows {
		got[r["id"].(string)] = r["status"].(string) + "@" + strconv.FormatInt(r["created"].(time.Time).Unix(), 10)
	}
	if len(got) != 2 || got["in_2"] != fmt.Sprintf("paid@%d", T+2000) || got["in_3"] != fmt.Sprintf("draft@%d", T+4000) {
		t.Errorf("landed %v, want in_2 paid (its newest event) and in_3 draft, each with its own created", got)
	}
	var reasons []string
	for _, q := range quarantined(t, store, m.QuarantineKey) {
		reasons = append(reasons, q.Reason)
	}
	if !slices.Equal(reasons, []string{"the event carries no object at data.object", "the event's created is \"soon\", not Unix seconds"}) {
		t.Errorf("quarantined for %q", reasons)
	}

	// No event since the cursor: nothing lands and the cursor is not moved.
	queries = nil
	late := time.Unix(T+6000, 0)
	opts = testOptions(t, "run-3")
	opts.Dt = "2026-03-03"
	opts.Since = &late
	events = events[:0]
	m = mustLand(t, store, src, ent, opts)
	if m.Rows != 0 || m.CursorMax != nil {
		t.Errorf("no events: %d rows, cursor %v; want 0 and none (asked %v)", m.Rows, m.CursorMax, queries)
	}
}
