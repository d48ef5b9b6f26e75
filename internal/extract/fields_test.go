package extract

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
)

func TestFieldMapsJSON(t *testing.T) {
	// Stripe-like invoices: nested objects, arrays indexed by position, a field read twice.
	body := `{"data":[
	  {"id":"in_1","customer":"cus_1","metadata":{"crm_account_id":"acc-9"},
	   "lines":{"data":[{"amount":1200,"period":{"start":1767225600,"end":1769904000},
	                     "price":{"recurring":{"interval":"month"}}},
	                    {"amount":5}]},
	   "status_transitions":{"paid_at":null}},
	  {"id":"in_2","customer":"cus_2","metadata":{},"lines":{"data":[]}},
	  {"id":"in_3","customer":"cus_3","metadata":"not an object","lines":{"data":[{"amount":"7"},{"amount":8}]}},
	  {"id":"in_4","lines":{"data":[{"amount":{"value":1}}]}}
	]}`
	ent := &config.Entity{
		Path: "/invoices", Format: "json", RecordsPath: "data", Pagination: config.Pagination{Type: "none"}, PrimaryKey: "invoice_id",
		Columns: config.Columns{
			{Name: "invoice_id", Type: "string", Field: "id"},
			{Name: "customer", Type: "string"},
			{Name: "crm_account_id", Type: "string", Field: "metadata.crm_account_id"},
			{Name: "amount", Type: "int64", Field: "lines.data.0.amount"},
			{Name: "second_amount", Type: "int64", Field: "lines.data.1.amount"},
			{Name: "period_start", Type: "timestamp", Field: "lines.data.0.period.start"},
			{Name: "period_start_text", Type: "string", Field: "lines.data.0.period.start"},                    // one field, two columns
			{Name: "interval", Type: "string", Field: "items.data.0.price.recurring.interval", Optional: true}, // no record has items
			{Name: "line_interval", Type: "string", Field: "lines.data.0.price.recurring.interval"},
			{Name: "paid_at", Type: "timestamp", Field: "status_transitions.paid_at"},
		},
	}
	srv := serve(t, jsonBody(body))
	store := newStore(t)
	m := mustLand(t, store, testSource(srv.URL), ent, testOptions(t, "r1"))
	rows := landedRows(t, store, m)
	if len(rows) != 3 || m.Quarantined != 1 {
		t.Fatalf("rows %d quarantined %d: %+v", len(rows), m.Quarantined, quarantined(t, store, m.QuarantineKey))
	}
	want := []row{
		{"invoice_id": "in_1", "customer": "cus_1", "crm_account_id": "acc-9", "amount": int64(1200), "second_amount": int64(5),
			"period_start": time.Unix(1767225600, 0).UTC(), "period_start_text": "1767225600", "interval": nil, "line_interval": "month", "paid_at": nil},
		{"invoice_id": "in_2", "customer": "cus_2", "crm_account_id": nil, "amount": nil, "second_amount": nil, "period_start": nil, "line_interval": nil},
		{"invoice_id": "in_3", "customer": "cus_3", "crm_account_id": nil, "amount": int64(7), "second_amount": int64(8)},
	}
	for i, w := range want {
		for k, v := range w {
			if !reflect.DeepEqual(rows[i][k], v) {
				t.Errorf("row %d %s = %#v, want %#v", i, k, rows[i][k], v)
			}
		}
	}
	// The landed names are the column names; the vendor's fields are not columns.
	if _, ok := rows[0]["id"]; ok {
		t.Error("a column was landed under its field name")
	}
	// _raw is the whole original record.
	if raw := rows[0]["_raw"].(string); !strings.HasPrefix(raw, `{"id":"in_1"`) || !strings.Contains(raw, `"interval":"month"`) {
		t.Errorf("_raw = %s", raw)
	}
	q := quarantined(t, store, m.QuarantineKey)
	if len(q) != 1 || q[0].Reason != `column amount: {"value":1} is not an int64 (it is a JSON object)` {
		t.Errorf("quarantine %+v", q)
	}
}

func TestFieldMapsCSV(t *testing.T) {
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "Id,Account.Name,CreatedDate,Amount\n006A,Acme,2026-01-02T03:04:05.000+0000,12.5\n006B,,,\n")
	}))
	ent := &config.Entity{
		Path: "/q", Format: "csv", Pagination: config.Pagination{Type: "none"}, PrimaryKey: "opportunity_id",
		Columns: config.Columns{
			{Name: "opportunity_id", Type: "string", Field: "Id"},
			{Name: "account_name", Type: "string", Field: "Account.Name"}, // a header name, dots and all
			{Name: "amount", Type: "float64", Field: "Amount"},
			{Name: "amount_text", Type: "string", Field: "Amount"}, // one field, two columns
			{Name: "missing", Type: "string", Field: "NoSuchHeader", Optional: true},
		},
	}
	store := newStore(t)
	m := mustLand(t, store, testSource(srv.URL), ent, testOptions(t, "r1"))
	rows := landedRows(t, store, m)
	if len(rows) != 2 {
		t.Fatalf("%d rows, quarantine %s", len(rows), m.QuarantineKey)
	}
	if rows[0]["opportunity_id"] != "006A" || rows[0]["account_name"] != "Acme" || rows[0]["amount"] != 12.5 || rows[0]["amount_text"] != "12.5" || rows[0]["missing"] != nil {
		t.Errorf("row 0 %v", rows[0])
	}
	if rows[1]["account_name"] != nil || rows[1]["amount"] != nil || rows[0]["_raw"] != "006A,Acme,2026-01-02T03:04:05.000+0000,12.5" {
		t.Errorf("rows %v", rows)
	}
}

func TestNDJSON(t *testing.T) {
	body := "\uFEFF" + strings.Join([]string{
		`{"id":"a1","name":"One","employees":3}`,
		``,
		`   `,
		`{"id":"a2", "name": "Two"}  `,
		`{"id":"a3","name":"cut`,
		`[1,2]`,
		`{"id":"a4","employees":"many"}`,
		"{\"id\":\"a5\"}\r",
		`{"id":"a1"}`,
	}, "\n") + "\n"
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		fmt.Fprint(w, body)
	}))
	ent := accountsJSON("/a.ndjson", "", config.Pagination{Type: "none"})
	ent.Format = "ndjson"
	store := newStore(t)
	m := mustLand(t, store, testSource(srv.URL), ent, testOptions(t, "r1"))
	rows := landedRows(t, store, m)
	if got := ids(rows); !reflect.DeepEqual(got, []any{"a1", "a2", "a5"}) {
		t.Fatalf("landed %v", got)
	}
	if rows[1]["_raw"] != `{"id":"a2", "name": "Two"}` || rows[0]["employees"] != int64(3) {
		t.Errorf("rows %v", rows)
	}
	want := []struct {
		index  int
		reason string
	}{
		{2, "line is not valid JSON"},
		{3, "record is not a JSON object (it is a JSON array)"},
		{4, `column employees: "many" is not an int64`},
		{6, `repeated primary key id "a1" with other content: an earlier record in this landing has it, and the entity has no incremental cursor_column to tell which is newer`},
	}
	q := quarantined(t, store, m.QuarantineKey)
	if len(q) != len(want) {
		t.Fatalf("quarantine %+v", q)
	}
	for i, w := range want {
		if q[i].Index != w.index || q[i].Reason != w.reason {
			t.Errorf("quarantined %d: %d %q, want %d %q", i, q[i].Index, q[i].Reason, w.index, w.reason)
		}
	}
	if q[0].Raw != `{"id":"a3","name":"cut` {
		t.Errorf("raw %q", q[0].Raw)
	}
}

func TestNDJSONPagedAndCutOff(t *testing.T) {
	// Page-numbered NDJSON; the first answer to page 2 is cut inside its last line (and has
	// no line end), so it is asked for again.
	var n atomic.Int32
	var log requestLog
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.add(r)
		switch r.URL.Query().Get("page") {
		case "1":
			fmt.Fprint(w, "{\"id\":\"a0\"}\n{\"id\":\"a1\"}\n")
		case "2":
			if n.Add(1) == 1 {
				fmt.Fprint(w, "{\"id\":\"a2\"}\n{\"id\":\"a")
				return
			}
			fmt.Fprint(w, "{\"id\":\"a2\"}\n{\"id\":\"a3\"}") // no final line end: fine when it parses
		default:
			fmt.Fprint(w, "\n")
		}
	}))
	ent := accountsJSON("/a", "", config.Pagination{Type: "page", PageParam: "page", LimitParam: "per_page"})
	ent.Format = "ndjson"
	store := newStore(t)
	m := mustLand(t, store, testSource(srv.URL), ent, testOptions(t, "r1"))
	if got := ids(landedRows(t, store, m)); !reflect.DeepEqual(got, wantIDs(4)) || m.Quarantined != 0 || m.Pages != 3 {
		t.Errorf("ids %v quarantined %d pages %d (requests %v)", got, m.Quarantined, m.Pages, log.urls())
	}
	if log.count() != 4 {
		t.Errorf("requests %v: the cut page is asked for once more", log.urls())
	}
	if accept := log.reqs[0].Header.Get("Accept"); !strings.Contains(accept, "application/x-ndjson") {
		t.Errorf("Accept %q", accept)
	}
}
