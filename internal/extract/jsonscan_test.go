package extract

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// jsonScanSeeds are texts on both sides of every rule json.Valid applies.
var jsonScanSeeds = []string{
	``, ` `, `null`, `true`, `false`, `nul`, `truex`, `nullnull`, `[]`, `{}`, `[ ]`, `{ }`,
	`[1,]`, `[,1]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":}`, `[1 2]`, `[1,2]]`, `{"a":1}}`,
	`0`, `-0`, `01`, `-`, `-a`, `1.`, `1.5`, `.5`, `1e`, `1e+`, `1E-7`, `1e5.3`, `-01`, `1.0e+10`,
	`"a"`, `"\""`, `"\\"`, `"\/"`, `"\b\f\n\r\t"`, `"\u00e9"`, `"\u00E9"`, `"\u00g9"`, `"\u12"`,
	`"\x"`, `"\'"`, "\"tab\there\"", "\"nl\nhere\"", "\"\x7f\"", "\"\x00\"", "\"\x1f\"",
	"\"\xff\xfe\"", "\"\xc3\"", "\"\xed\xa0\x80\"", `"\ud800"`, "[\"\xe9\"]", "\xef\xbb\xbf[]",
	` [1] `, "\t\n\r[1]\r\n", "\v[1]", "\f[1]", "[1]\x00", "[1] x", `"unterminated`, `[`, `{"a":[`,
	`{"data":[{"id":1},{"id":2}],"next_cursor":"c2"}`,
	`{"data":[1,2],"data":[3]}`, `{"data":[1],"data":null}`, `{"data":{"x":[1]},"data":{"y":2}}`,
	`{"d\u0061ta":[1,2]}`, `{"a":{"b":[[1,2],[3]]},"n":1}`, `[[1],[2,[3]],{"a":[4]}]`,
	` { "a" : [ 1 , "x\"]}" , {"b":[{}]} , null ] , "k\u0065y" : {"n": -1.5e3}, "s": "\\" } `,
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40),
}

var jsonScanPaths = []string{"", "data", "a", "a.b", "a.b.0", "0", "1.1", "data.0", "n", "k\u0065y", "-0", "+1", "x.", "..", "d\u0061ta"}

// FuzzJSONScan checks the scanner against what it replaces: json.Valid on any text, and on
// valid text lookupPath and eachElem for the record array, and lookupPath for a signal.
func FuzzJSONScan(f *testing.F) {
	for _, s := range jsonScanSeeds {
		for _, p := range jsonScanPaths {
			f.Add([]byte(s), p)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		checkJSONScan(t, body, path)
	})
}

func checkJSONScan(t *testing.T, body []byte, path string) {
	t.Helper()
	want := json.Valid(body)
	if got := validJSON(body); got != want {
		t.Fatalf("validJSON(%q) = %v, json.Valid says %v", body, got, want)
	}
	sc := newJSONScan(path)
	if got := sc.scan(body); got != want {
		t.Fatalf("scan(%q) = %v, json.Valid says %v", body, got, want)
	}
	if !want {
		return
	}
	root := bytes.TrimSpace(body)
	if !bytes.Equal(sc.root, root) {
		t.Fatalf("%q: root %q, want %q", body, sc.root, root)
	}
	target, found := root, true
	if path != "" {
		target, found = lookupPath(root, path)
	}
	if found != (sc.target != nil) || !bytes.Equal(sc.target, target) {
		t.Fatalf("%q at %q: target %q, lookupPath finds %q (%v)", body, path, sc.target, target, found)
	}
	if found && target[0] == '[' {
		var elems [][]byte
		eachElem(target, func(e []byte) { elems = append(elems, e) })
		if len(elems) != len(sc.elems) || (len(elems) > 0 && !reflect.DeepEqual(elems, sc.elems)) {
			t.Fatalf("%q at %q: elements %q, eachElem splits %q", body, path, sc.elems, elems)
		}
	}
	for _, p := range []string{path, "next_cursor", "a.b", "data", "0"} {
		if p == "" {
			continue
		}
		v, ok := sc.lookup(p)
		w, wok := lookupPath(root, p)
		if ok != wok || !bytes.Equal(v, w) {
			t.Fatalf("%q: lookup(%q) = %q %v, lookupPath %q %v", body, p, v, ok, w, wok)
		}
	}
}

func TestJSONScan(t *testing.T) {
	for _, s := range jsonScanSeeds {
		for _, p := range jsonScanPaths {
			checkJSONScan(t, []byte(s), p)
		}
	}
	// json.Valid takes any bytes inside a string, invalid UTF-8 too; the scanner follows it
	// (the converter rejects a record that is not valid UTF-8).
	for _, s := range []string{"\"\xff\"", "{\"a\xc3\":\"\xed\xa0\x80\"}"} {
		if !validJSON([]byte(s)) || !json.Valid([]byte(s)) {
			t.Errorf("%q: invalid UTF-8 in a string is valid JSON to json.Valid", s)
		}
	}
	deep := strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth)
	if !validJSON([]byte(deep)) || validJSON([]byte("["+deep+"]")) {
		t.Errorf("nesting: %d levels are valid, %d are not", maxJSONDepth, maxJSONDepth+1)
	}
}

func TestJSONScanSplitsRecords(t *testing.T) {
	body := []byte(`{"data":[{"id":1}, {"id":"a,b]"} ,[2],null],"meta":{"data":[9]},"data2":[8],"next":"x"}`)
	sc := newJSONScan("data")
	if !sc.scan(body) {
		t.Fatal("invalid")
	}
	var got []string
	for _, e := range sc.elems {
		got = append(got, string(e))
	}
	if want := []string{`{"id":1}`, `{"id":"a,b]"}`, `[2]`, `null`}; !reflect.DeepEqual(got, want) {
		t.Errorf("elements %q, want %q", got, want)
	}
	if v, ok := sc.lookup("next"); !ok || string(v) != `"x"` {
		t.Errorf("next = %q %v", v, ok)
	}
	if v, ok := sc.lookup("meta.data.0"); !ok || string(v) != `9` {
		t.Errorf("meta.data.0 = %q %v", v, ok)
	}
}
