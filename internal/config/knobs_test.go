package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// Every key of the segments block is one knob: each field of Segments (a group such as
// tiers.score_weights may be one knob as a whole) is the Field of exactly one knob, whose Key
// is the field's key path. Each knob binds variables no other knob binds.
func TestKnobsCoverTheSegments(t *testing.T) {
	var s Segments
	type field struct {
		addr uintptr
		typ  reflect.Type
	}
	owner := map[field]string{}
	for _, k := range knobs {
		v := reflect.ValueOf(k).FieldByName("Field").Call([]reflect.Value{reflect.ValueOf(&s)})[0]
		f := field{v.Pointer(), v.Type().Elem()}
		if other, dup := owner[f]; dup {
			t.Errorf("knobs %s and %s hold the same field", other, k.key())
		}
		owner[f] = k.key()
	}
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		for i := range v.NumField() {
			key := yamlKey(v.Type().Field(i))
			if path != "" {
				key = path + "." + key
			}
			f := v.Field(i)
			if k, ok := owner[field{f.Addr().Pointer(), f.Type()}]; ok {
				if k != key {
					t.Errorf("knob %s holds segments.%s", k, key)
				}
				delete(owner, field{f.Addr().Pointer(), f.Type()})
				continue
			}
			if f.Kind() == reflect.Struct {
				walk(f, key)
				continue
			}
			t.Errorf("segments.%s has no knob: give it one in internal/config/segments.go", key)
		}
	}
	walk(reflect.ValueOf(&s).Elem(), "")
	for _, k := range owner {
		t.Errorf("knob %s holds no field of Segments", k)
	}

	bound := map[string]string{}
	d := DefaultSegments()
	for _, k := range knobs {
		vars := k.variables(&d)
		if len(vars) == 0 {
			t.Errorf("knob %s binds no variable", k.key())
		}
		for _, v := range vars {
			if v.Name == "" || v.Value == nil {
				t.Errorf("knob %s binds %q = %v", k.key(), v.Name, v.Value)
			}
			if other, dup := bound[v.Name]; dup {
				t.Errorf("knobs %s and %s both bind %s", other, k.key(), v.Name)
			}
			bound[v.Name] = k.key()
		}
	}
}

// Defaults are copies: changing a config's default list or pointer leaves the table's alone.
func TestDefaultsShareNothing(t *testing.T) {
	a := DefaultSegments()
	*a.Tiers.Targets[0].Retention = 0.5
	a.SizeBands[0].Name = "changed"
	a.ICP.EmployeeRanges[0] = 7
	b := DefaultSegments()
	if *b.Tiers.Targets[0].Retention != 0.98 || b.SizeBands[0].Name != "SMB" || b.ICP.EmployeeRanges[0] != 1 {
		t.Errorf("a change to one config's defaults reached the knobs table: %+v", b)
	}
}

const (
	docsTableStart = "<!-- segments table: written from the knobs of internal/config/segments.go by `go test ./internal/config -update`; edit it there -->\n"
	docsTableEnd   = "<!-- end of the segments table -->\n"
)

// docs/configuration.md's segments table has one row per knob, in the order of the table: its
// key, its default, the DuckDB variables it is bound as, its rule and the tables that read it.
// -update writes it.
func TestKnobsDocumented(t *testing.T) {
	const file = "../../docs/configuration.md"
	doc, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	start, end := strings.Index(text, docsTableStart), strings.Index(text, docsTableEnd)
	if start < 0 || end < start {
		t.Fatalf("%s has no segments table between %q and %q", file, docsTableStart, docsTableEnd)
	}
	start += len(docsTableStart)
	var b strings.Builder
	b.WriteString("| key | default | DuckDB variable | rule (domain.md) | read by |\n|---|---|---|---|---|\n")
	for _, k := range knobs {
		b.WriteString(k.docRow() + "\n")
	}
	want := b.String()
	if *update {
		if err := os.WriteFile(file, []byte(text[:start]+want+text[end:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got := text[start:end]
	if got == want {
		return
	}
	gotRows, wantRows := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(gotRows), len(wantRows)) {
		var g, w string
		if i < len(gotRows) {
			g = gotRows[i]
		}
		if i < len(wantRows) {
			w = wantRows[i]
		}
		if g != w {
			t.Errorf("%s: the segments table differs from the knobs (go test ./internal/config -update writes it) at row %d:\n got %s\nwant %s", file, i+1, g, w)
			return
		}
	}
}
