package extract

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sync/atomic"
	"testing"
	"time"
)

func TestValueRules(t *testing.T) {
	ts := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMicro()
	}
	day := func(s string) int64 {
		tm, _ := time.Parse(time.DateOnly, s)
		return tm.Unix() / 86400
	}
	type want struct {
		null    bool
		i       int64
		f       float64
		text    string
		problem string
	}
	for _, tc := range []struct {
		kind colKind
		json string // a JSON value; "" means absent
		text string // or a CSV field, when json is ""
		want want
	}{
		// timestamps
		{kindTimestamp, `"2024-03-01T10:20:30Z"`, "", want{i: ts("2024-03-01T10:20:30Z")}},
		{kindTimestamp, `"2024-03-01T10:20:30.123456789Z"`, "", want{i: ts("2024-03-01T10:20:30.123456Z")}},
		{kindTimestamp, `"2024-03-01T12:20:30+02:00"`, "", want{i: ts("2024-03-01T10:20:30Z")}},
		{kindTimestamp, `"2024-03-01T05:20:30.5-05:00"`, "", want{i: ts("2024-03-01T10:20:30.5Z")}},
		{kindTimestamp, `"2024-03-01"`, "", want{i: ts("2024-03-01T00:00:00Z")}},
		{kindTimestamp, `"2024-03-01 10:20:30Z"`, "", want{i: ts("2024-03-01T10:20:30Z")}},
		{kindTimestamp, `1709288430`, "", want{i: 1709288430 * 1_000_000}},
		{kindTimestamp, `-86400`, "", want{i: -86400 * 1_000_000}},
		{kindTimestamp, `""`, "", want{null: true}},
		{kindTimestamp, `null`, "", want{null: true}},
		{kindTimestamp, "", "", want{null: true}},
		{kindTimestamp, "", "2024-03-01T10:20:30Z", want{i: ts("2024-03-01T10:20:30Z")}},
		{kindTimestamp, "", " 2024-03-01 ", want{i: ts("2024-03-01T00:00:00Z")}},
		{kindTimestamp, `"2024-03-01T10:20:30"`, "", want{problem: "is not a timestamp (RFC 3339 or YYYY-MM-DD)"}},
		{kindTimestamp, `"1709288430"`, "", want{problem: "is not a timestamp (RFC 3339 or YYYY-MM-DD)"}},
		{kindTimestamp, `1709288430.5`, "", want{problem: "is not a timestamp (a number must be whole Unix seconds)"}},
		{kindTimestamp, `99999999999999999`, "", want{problem: "is not a timestamp (Unix seconds out of range)"}},
		{kindTimestamp, `true`, "", want{problem: "is not a timestamp"}},
		// dates
		{kindDate, `"2024-03-01"`, "", want{i: day("2024-03-01")}},
		{kindDate, `"1969-12-31"`, "", want{i: -1}},
		{kindDate, `"2024-03-01T23:30:00-02:00"`, "", want{i: day("2024-03-02")}},
		{kindDate, `"1969-12-31T23:00:00Z"`, "", want{i: -1}},
		{kindDate, "", "2024-02-29", want{i: day("2024-02-29")}},
		{kindDate, "", "2023-02-29", want{problem: "is not a date (YYYY-MM-DD or RFC 3339)"}},
		{kindDate, "", "03/01/2024", want{problem: "is not a date (YYYY-MM-DD or RFC 3339)"}},
		{kindDate, `20240301`, "", want{problem: "is not a date"}},
		// int64
		{kindInt64, `42`, "", want{i: 42}},
		{kindInt64, `-7`, "", want{i: -7}},
		{kindInt64, `9223372036854775807`, "", want{i: 9223372036854775807}},
		{kindInt64, `-9223372036854775808`, "", want{i: -9223372036854775808}},
		{kindInt64, `9223372036854775808`, "", want{problem: "is not an int64 (out of range)"}},
		{kindInt64, `-9223372036854775809`, "", want{problem: "is not an int64 (out of range)"}},
		{kindInt64, `12.0`, "", want{i: 12}},
		{kindInt64, `1e3`, "", want{i: 1000}},
		{kindInt64, `1e300`, "", want{problem: "is not an int64 (too large to be exact in exponent form)"}},
		{kindInt64, `12.5`, "", want{problem: "is not an int64 (it has a fraction)"}},
		{kindInt64, `1.5e0`, "", want{problem: "is not an int64 (it has a fraction)"}},
		{kindInt64, `"42"`, "", want{i: 42}},
		{kindInt64, `"4 2"`, "", want{problem: "is not an int64"}},
		{kindInt64, `true`, "", want{problem: "is not an int64"}},
		{kindInt64, "", "+5", want{i: 5}},
		{kindInt64, "", "0x10", want{problem: "is not an int64"}},
		{kindInt64, "", "1_000", want{problem: "is not an int64"}},
		{kindInt64, "", "99999999999999999999.0", want{problem: "is not an int64 (out of range)"}},
		// float64
		{kindFloat64, `1.5`, "", want{f: 1.5}},
		{kindFloat64, `-2e-3`, "", want{f: -0.002}},
		{kindFloat64, `7`, "", want{f: 7}},
		{kindFloat64, `1e400`, "", want{problem: "is not a float64 (out of range)"}},
		{kindFloat64, "", "NaN", want{problem: "is not a float64"}},
		{kindFloat64, "", "Inf", want{problem: "is not a float64"}},
		{kindFloat64, "", "0x1p-2", want{problem: "is not a float64"}},
		{kindFloat64, "", "3.25", want{f: 3.25}},
		// bool
		{kindBool, `true`, "", want{i: 1}},
		{kindBool, `false`, "", want{i: 0}},
		{kindBool, "", "TRUE", want{i: 1}},
		{kindBool, "", "False", want{i: 0}},
		{kindBool, "", "1", want{i: 1}},
		{kindBool, "", "0", want{i: 0}},
		{kindBool, "", "yes", want{problem: "is not a bool (true, false, 1 or 0)"}},
		{kindBool, `1`, "", want{problem: "is not a bool"}},
		// string
		{kindString, `"plain"`, "", want{text: "plain"}},
		{kindString, `"tab\tand \u00e9 and \ud83d\ude00"`, "", want{text: "tab\tand é and 😀"}},
		{kindString, `""`, "", want{text: ""}},
		{kindString, `12.50`, "", want{text: "12.50"}},
		{kindString, `-1e5`, "", want{text: "-1e5"}},
		{kindString, `false`, "", want{text: "false"}},
		{kindString, `null`, "", want{null: true}},
		{kindString, `{"a":1}`, "", want{problem: "is not a string (it is a JSON object)"}},
		{kindString, `[]`, "", want{problem: "is not a string (it is a JSON array)"}},
		{kindString, "", " spaced ", want{text: " spaced "}},
	} {
		name := fmt.Sprintf("%s %s%q", tc.kind, tc.json, tc.text)
		var c cell
		var problem string
		if tc.json != "" || tc.text == "" {
			var v []byte
			if tc.json != "" {
				v = []byte(tc.json)
			}
			c, problem = fromJSON(tc.kind, v)
		} else {
			c, problem = fromText(tc.kind, tc.text)
		}
		if problem != tc.want.problem {
			t.Errorf("%s: problem %q, want %q", name, problem, tc.want.problem)
			continue
		}
		if problem != "" {
			continue
		}
		if c.null != tc.want.null {
			t.Errorf("%s: null = %v", name, c.null)
			continue
		}
		if c.null {
			continue
		}
		switch tc.kind {
		case kindString:
			if c.text() != tc.want.text {
				t.Errorf("%s: %q, want %q", name, c.text(), tc.want.text)
			}
		case kindFloat64:
			if c.f != tc.want.f {
				t.Errorf("%s: %v, want %v", name, c.f, tc.want.f)
			}
		default:
			if c.i != tc.want.i {
				t.Errorf("%s: %v, want %v", name, c.i, tc.want.i)
			}
		}
	}
}

func TestJSONWalk(t *testing.T) {
	body := []byte(` { "a" : [ 1 , "x\"]}" , {"b":[{}]} , null ] , "k\u0065y" : {"n": -1.5e3}, "s": "\\" } `)
	v, ok := lookupPath(body[1:len(body)-1], "a")
	if !ok || string(v) != `[ 1 , "x\"]}" , {"b":[{}]} , null ]` {
		t.Fatalf("a = %q %v", v, ok)
	}
	var elems []string
	eachElem(v, func(e []byte) { elems = append(elems, string(e)) })
	if !reflect.DeepEqual(elems, []string{`1`, `"x\"]}"`, `{"b":[{}]}`, `null`}) {
		t.Errorf("elements %q", elems)
	}
	if v, ok := lookupPath(body[1:len(body)-1], "key.n"); !ok || string(v) != "-1.5e3" {
		t.Errorf("key.n (escaped key) = %q %v", v, ok)
	}
	if v, ok := lookupPath(body[1:len(body)-1], "s"); !ok || string(v) != `"\\"` {
		t.Errorf("s = %q %v", v, ok)
	}
	for _, p := range []string{"nope", "a.b", "key.n.x"} {
		if _, ok := lookupPath(body[1:len(body)-1], p); ok {
			t.Errorf("%s found", p)
		}
	}
	var n int
	eachElem([]byte("[ ]"), func([]byte) { n++ })
	eachField([]byte("{ }"), func(_, _ []byte) { n++ })
	if n != 0 {
		t.Error("empty containers have members")
	}
}

func TestCSVCutOffIsRetried(t *testing.T) {
	full := "ticket_id,subject\r\nt1,\"multi\r\nline\"\r\nt2,x\r\n"
	for _, cut := range []string{
		"ticket_id,subject\r\nt1,\"multi\r\nli",           // inside a quoted field
		"ticket_id,subject\r\nt1,\"multi\r\nline\"\r\nt2", // a short last row without a line end
	} {
		var n atomic.Int32
		srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				fmt.Fprint(w, cut)
				return
			}
			fmt.Fprint(w, full)
		}))
		store := newStore(t)
		ent := ticketsCSV("/t.csv")
		ent.Pagination.Type = "none"
		m := mustLand(t, store, testSource(srv.URL), ent, testOptions(t, "r1"))
		if m.Rows != 2 || m.Quarantined != 0 || n.Load() != 2 {
			t.Errorf("cut %q: rows %d quarantined %d requests %d", cut, m.Rows, m.Quarantined, n.Load())
		}
		if rows := landedRows(t, store, m); rows[0]["subject"] != "multi\nline" || rows[0]["_raw"] != "t1,\"multi\r\nline\"" {
			t.Errorf("rows %v", rows)
		}
	}
}

func TestTransientErrorsAreTyped(t *testing.T) {
	var te *transientError
	var pe *permanentError
	if err := decodeJSONPage(&page{body: []byte(`{"data":[`)}, accountsJSON("/a", "data", cursorPaging)); !errors.As(err, &te) {
		t.Errorf("cut JSON: %v is not transient", err)
	}
	if err := decodeJSONPage(&page{body: []byte(``)}, accountsJSON("/a", "data", cursorPaging)); !errors.As(err, &te) {
		t.Errorf("empty body: %v is not transient", err)
	}
	if err := decodeJSONPage(&page{body: []byte(`{"data":[],"next_cursor":{}}`)}, accountsJSON("/a", "data", cursorPaging)); !errors.As(err, &pe) {
		t.Errorf("object cursor: %v is not permanent", err)
	}
}
