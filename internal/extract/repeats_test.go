package extract

import (
	"fmt"
	"net/http"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
)

// pagedJSON serves pages of JSON records with page-number pagination (?page=1, 2, ...).
func pagedJSON(pages ...[]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n := 1
		fmt.Sscan(r.URL.Query().Get("page"), &n)
		w.Header().Set("Content-Type", "application/json")
		if n < 1 || n > len(pages) {
			fmt.Fprint(w, `{"data":[]}`)
			return
		}
		fmt.Fprintf(w, `{"data":[%s]}`, strings.Join(pages[n-1], ","))
	}
}

// A record that comes again within one landing: an exact repeat is dropped and counted, a
// version with another cursor value is landed and counted as superseding, and a repeat
// that cannot be ordered is quarantined with the reason.
func TestRepeatedRecordsWithCursor(t *testing.T) {
	p1 := []string{
		`{"id":"a1","name":"One","created_at":"2026-02-01T10:00:00Z"}`,
		`{"id":"a2","name":"Two","created_at":"2026-02-01T10:00:00Z"}`,
		`{"id":"a1","name":"One","created_at":"2026-02-01T10:00:00Z"}`, // exact repeat, same page
		`{"id":"a4","name":"Four"}`,                                    // no cursor value
		`{"id":"a5","name":"Five v2","created_at":"2026-02-03T00:00:00Z"}`,
	}
	p2 := []string{
		`{"id":"a1","name":"One, renamed","created_at":"2026-02-02T09:00:00Z"}`, // changed mid-export
		`{"id":"a2","name":"Two?","created_at":"2026-02-01T10:00:00Z"}`,         // same cursor, other text
		`{"id":"a4","name":"Four?"}`,                                            // null cursor both times
		`{"id":"a5","name":"Five v1","created_at":"2026-02-02T00:00:00Z"}`,      // an older version, later
		`{"id":"a1","name":"One","created_at":"2026-02-01T10:00:00Z"}`,          // repeat of the first version
	}
	p3 := []string{
		`{"id":"a1","name":"One, renamed","created_at":"2026-02-02T09:00:00Z"}`, // not the version last landed
		`{"id":"a1","name":"One, renamed","created_at":"2026-02-02T09:00:00Z"}`, // exact repeat of the last landed
		`{"id":"a3","name":"Three","created_at":"2026-02-01T10:00:00Z"}`,
	}
	srv := serve(t, pagedJSON(p1, p2, p3))
	ent := accountsJSON("/a", "data", config.Pagination{Type: "page", PageParam: "page"})
	ent.Incremental = &config.Incremental{CursorColumn: "created_at"}
	src := testSource(srv.URL)
	src.MaxBadShare = 0.5
	store := newStore(t)
	m := mustLand(t, store, src, ent, testOptions(t, "r1"))

	// An exact repeat is one of the version last landed with the key. Landed: a1 four times
	// (One, renamed, One again, renamed again: each another version than the one before it),
	// a2, a4, a5 v2, a5 v1, a3. Dropped: a1 One on page 1, a1 renamed the second time on
	// page 3. Superseded: the 3 a1 copies before the last, a5 once. Quarantined: a2 (same
	// cursor), a4 (null cursor).
	if m.Rows != 9 || m.RepeatsDropped != 2 || m.Superseded != 4 || m.Quarantined != 2 {
		t.Errorf("rows %d, repeats dropped %d, superseded %d, quarantined %d; want 9, 2, 4, 2", m.Rows, m.RepeatsDropped, m.Superseded, m.Quarantined)
	}
	rows := landedRows(t, store, m)
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%v %v p%v", r["id"], r["name"], r["_page"]))
	}
	// Records whose key came before are judged after the last page and land after the rest.
	want := []string{"a1 One p1", "a2 Two p1", "a4 Four p1", "a5 Five v2 p1", "a3 Three p3", "a1 One, renamed p2", "a5 Five v1 p2", "a1 One p2", "a1 One, renamed p3"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("landed\n got %q\nwant %q", got, want)
	}
	q := quarantined(t, store, m.QuarantineKey)
	reasons := map[string]string{}
	for _, r := range q {
		reasons[r.Raw] = r.Reason
	}
	wantQ := map[string]string{
		p2[1]: `repeated primary key id "a2" with other content: an earlier record in this landing has it with the same created_at: cannot tell which is newer`,
		p2[2]: `repeated primary key id "a4" with other content: an earlier record in this landing has it, and created_at is null in one of them: cannot tell which is newer`,
	}
	if !reflect.DeepEqual(reasons, wantQ) {
		t.Errorf("quarantined\n got %q\nwant %q", reasons, wantQ)
	}
	if m.CursorMax == nil || !m.CursorMax.Equal(time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("cursor max %v", m.CursorMax)
	}
}

// Zero tolerance for bad records (the example config's max_bad_share: 0) still lands an
// export that repeats records, as Zendesk's incremental export documents it may: repeats are
// not bad records.
func TestRepeatsAreNotBadRecords(t *testing.T) {
	srv := serve(t, pagedJSON(
		[]string{`{"id":"t1","created_at":"2026-02-01T00:00:00Z"}`, `{"id":"t2","created_at":"2026-02-01T00:00:00Z"}`},
		[]string{`{"id":"t2","created_at":"2026-02-01T00:00:00Z"}`, `{"id":"t1","name":"updated","created_at":"2026-02-05T00:00:00Z"}`},
	))
	ent := accountsJSON("/t", "data", config.Pagination{Type: "page", PageParam: "page"})
	ent.Incremental = &config.Incremental{CursorColumn: "created_at"}
	src := testSource(srv.URL)
	src.MaxBadShare = 0
	store := newStore(t)
	m := mustLand(t, store, src, ent, testOptions(t, "r1"))
	if m.Rows != 3 || m.Quarantined != 0 || m.RepeatsDropped != 1 || m.Superseded != 1 || m.QuarantineKey != "" {
		t.Errorf("%+v", m)
	}
}

// Without a cursor column, an exact repeat is still only a repeat; another text for the same
// key cannot be ordered and is quarantined. CSV rows compare by their line's text.
func TestRepeatedRowsWithoutCursorCSV(t *testing.T) {
	body := "ticket_id,subject,created_at,csat,escalated\n" +
		"t1,first,2026-01-01T00:00:00Z,5,true\n" +
		"t2,second,,,\n" +
		"t1,first,2026-01-01T00:00:00Z,5,true\n" +
		"t2,second (edited),,,\n" +
		"t3,third,,,\n"
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) }))
	ent := ticketsCSV("/t.csv")
	ent.Pagination = config.Pagination{Type: "none"}
	store := newStore(t)
	m := mustLand(t, store, testSource(srv.URL), ent, testOptions(t, "r1"))
	if m.Rows != 3 || m.RepeatsDropped != 1 || m.Superseded != 0 || m.Quarantined != 1 {
		t.Errorf("rows %d, repeats dropped %d, superseded %d, quarantined %d; want 3, 1, 0, 1", m.Rows, m.RepeatsDropped, m.Superseded, m.Quarantined)
	}
	var ids []string
	for _, r := range landedRows(t, store, m) {
		ids = append(ids, r["ticket_id"].(string)+" "+r["subject"].(string))
	}
	sort.Strings(ids)
	if want := []string{"t1 first", "t2 second", "t3 third"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("landed %q", ids)
	}
	q := quarantined(t, store, m.QuarantineKey)
	if len(q) != 1 || q[0].Raw != "t2,second (edited),,," ||
		q[0].Reason != `repeated primary key ticket_id "t2" with other content: an earlier record in this landing has it, and the entity has no incremental cursor_column to tell which is newer` {
		t.Errorf("quarantined %+v", q)
	}
}

// The landing puts a run of records' keys into the key set at once (keySet.addBatch). It
// must judge repeats exactly as taking one record at a time does: the same rows in the same
// order, the same records held, dropped and quarantined with the same reasons, whether the
// repeat is in the same run, across a run's boundary or on another page.
func TestBatchedKeysJudgeAsOneAtATime(t *testing.T) {
	const perPage, nPages = 37, 4
	var pages [][]string
	for p := range nPages {
		var recs []string
		for i := range perPage {
			n := p*perPage + i
			id := fmt.Sprintf("k%d", (n*7)%61) // 148 records over 61 keys
			name := fmt.Sprintf("v%d", n%3)
			var at string
			switch n % 5 {
			case 0:
				at = `,"created_at":null`
			case 1, 2:
				at = `,"created_at":"2026-02-01T10:00:00Z"`
			default:
				at = fmt.Sprintf(`,"created_at":"2026-02-%02dT10:00:00Z"`, 2+n%4)
			}
			rec := fmt.Sprintf(`{"id":%q,"name":%q%s}`, id, name, at)
			switch {
			case n%23 == 0:
				rec = fmt.Sprintf(`{"id":%q,"employees":"many"}`, id) // does not convert
			case n%29 == 0:
				rec = `{"id":" ","name":"blank key"}`
			case n%31 == 0:
				rec = fmt.Sprintf(`{"id":%q,"created_at":"2026-01-15T00:00:00Z"}`, id) // filtered
			}
			recs = append(recs, rec)
		}
		pages = append(pages, recs)
	}
	// Repeats inside one run of 16, straddling the run boundary (15 | 16) and across pages.
	pages[0][3], pages[0][4] = `{"id":"dup-a","name":"x"}`, `{"id":"dup-a","name":"x"}`
	pages[0][15], pages[0][16] = `{"id":"dup-b","name":"x","created_at":"2026-02-01T10:00:00Z"}`, `{"id":"dup-b","name":"y","created_at":"2026-02-02T10:00:00Z"}`
	pages[0][31], pages[0][32] = `{"id":"dup-c","name":"x"}`, `{"id":"dup-c","name":"y"}`
	pages[2][0] = `{"id":"dup-b","name":"y","created_at":"2026-02-02T10:00:00Z"}`
	pages[3][36] = `{"id":"dup-a","name":"z"}`

	srv := serve(t, pagedJSON(pages...))
	ent := accountsJSON("/a", "data", config.Pagination{Type: "page", PageParam: "page"})
	ent.Incremental = &config.Incremental{CursorColumn: "created_at"}
	src := testSource(srv.URL)
	src.MaxBadShare = 0.9
	since := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)

	type outcome struct {
		rows                                 []string
		quarantine                           []string
		landed, dropped, superseded, quarant int64
	}
	landWith := func(batch int) outcome {
		store := newStore(t)
		opts := testOptions(t, "r1")
		opts.Since, opts.keyBatch = &since, batch
		m := mustLand(t, store, src, ent, opts)
		var o outcome
		for _, r := range landedRows(t, store, m) {
			o.rows = append(o.rows, fmt.Sprintf("%v %v %v p%v", r["id"], r["name"], r["created_at"], r["_page"]))
		}
		b, err := os.ReadFile(store.LocalPath(m.QuarantineKey))
		if err != nil {
			t.Fatal(err)
		}
		o.quarantine = strings.Split(string(b), "\n") // in the order written
		o.landed, o.dropped, o.superseded, o.quarant = m.Rows, m.RepeatsDropped, m.Superseded, m.Quarantined
		return o
	}
	one := landWith(1)
	if one.dropped == 0 || one.superseded == 0 || one.quarant == 0 {
		t.Fatalf("the export should repeat records: %d dropped, %d superseded, %d quarantined", one.dropped, one.superseded, one.quarant)
	}
	var conflicts int
	for _, q := range one.quarantine {
		if strings.Contains(q, "repeated primary key") {
			conflicts++
		}
	}
	if conflicts == 0 || conflicts == len(one.quarantine) {
		t.Fatalf("the quarantine should hold repeats and other bad records: %q", one.quarantine)
	}
	for _, batch := range []int{16, 5, 64} {
		if got := landWith(batch); !reflect.DeepEqual(got, one) {
			t.Errorf("%d keys at a time: %+v\none at a time: %+v", batch, got, one)
		}
	}
}

func TestKeySetAddBatch(t *testing.T) {
	one, batched := newKeySet(), newKeySet()
	var hs []uint64
	for i := range 100_000 {
		hs = append(hs, keyHash([]byte(strconv.Itoa(i*7919%40_000)))) // repeats, near and far
	}
	fresh := make([]bool, len(hs))
	for lo := 0; lo < len(hs); lo += 13 {
		hi := min(lo+13, len(hs))
		batched.addBatch(hs[lo:hi], fresh[lo:hi])
	}
	for i, h := range hs {
		if want := one.addHash(h); fresh[i] != want {
			t.Fatalf("key %d: batched says new %v, one at a time %v", i, fresh[i], want)
		}
	}
	if one.n != batched.n || one.n != 40_000 {
		t.Errorf("%d keys batched, %d one at a time; want 40000", batched.n, one.n)
	}
}
