package config

import (
	"strings"
	"testing"
	"time"
)

// An entity built in code is held to the rules an entity from a YAML file is: PrepareEntity
// applies Load's defaults to a copy (the caller's value is left alone) and names every
// problem by its key below the entity.
func TestPrepareEntity(t *testing.T) {
	ent := &Entity{
		Path: "/a", Format: "json", RecordsPath: "data", PrimaryKey: "id",
		Pagination:  Pagination{Type: "page", PageParam: "page"},
		Columns:     Columns{{Name: "id", Type: "string"}, {Name: "updated_at", Type: "timestamp"}},
		Incremental: &Incremental{CursorColumn: "updated_at", Param: "since"},
	}
	got, err := PrepareEntity("accounts", ent)
	if err != nil {
		t.Fatal(err)
	}
	if *got.Pagination.FirstPage != 1 || got.Incremental.ParamFormat != "rfc3339" || got.Incremental.ParamOn != "every" {
		t.Errorf("defaults not applied: first page %v, incremental %+v", got.Pagination.FirstPage, got.Incremental)
	}
	if ent.Pagination.FirstPage != nil || ent.Incremental.ParamFormat != "" {
		t.Errorf("the caller's entity changed: %+v", ent)
	}
	bulk := &Entity{Format: "csv", PrimaryKey: "id", Columns: Columns{{Name: "id", Type: "string"}},
		Pagination: Pagination{Type: "cursor", CursorParam: "locator", NextCursorHeader: "Sforce-Locator"},
		BulkQuery:  &BulkQuery{SOQL: "SELECT Id FROM Account", APIVersion: "v60.0"}}
	got, err = PrepareEntity("accounts", bulk)
	if err != nil {
		t.Fatal(err)
	}
	if got.BulkQuery.PollInterval.D() != 2*time.Second || got.BulkQuery.Timeout.D() != 30*time.Minute || bulk.BulkQuery.PollInterval != 0 {
		t.Errorf("bulk defaults: %+v (caller's %+v)", got.BulkQuery, bulk.BulkQuery)
	}

	cases := []struct {
		name   string
		change func(*Entity)
		want   []string
	}{
		{"format", func(e *Entity) { e.Format = "xml" }, []string{"format: "}},
		{"primary key", func(e *Entity) { e.PrimaryKey = "nope" }, []string{`primary_key: "nope" is not one of the columns`}},
		{"pagination", func(e *Entity) { e.Pagination = Pagination{Type: "scroll"} }, []string{`pagination.type: unknown pagination type "scroll"`}},
		{"offset", func(e *Entity) { e.Pagination = Pagination{Type: "offset"} }, []string{"pagination.offset_param"}},
		{"dot path", func(e *Entity) { e.Columns[0].Field = "a..b" }, []string{`columns.id.field: "a..b" is not a dot path`}},
		{"cursor", func(e *Entity) { e.Incremental.CursorColumn = "id" }, []string{"incremental.cursor_column: must name a timestamp column"}},
		{"two at once", func(e *Entity) { e.Columns[1].Type = "datetime"; e.Incremental.ParamOn = "last" },
			[]string{`columns.updated_at: unknown type "datetime"`, "; ", "incremental.param_on: must be first or every"}},
	}
	for _, c := range cases {
		e := *ent
		e.Columns = append(Columns(nil), ent.Columns...)
		inc := *ent.Incremental
		e.Incremental = &inc
		c.change(&e)
		_, err := PrepareEntity("accounts", &e)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q lacks %q", c.name, err, w)
			}
		}
		if strings.Contains(err.Error(), "accounts.") {
			t.Errorf("%s: %q repeats the entity name in the keys", c.name, err)
		}
	}
	if _, err := PrepareEntity("accounts", nil); err == nil {
		t.Error("a nil entity must be an error")
	}
}

// An entity read incrementally through an event feed (Stripe's events list) is held to what
// the feed needs: an event list path, dot paths into an event, a time filter in Unix seconds,
// a retention longer than the lookback, a JSON export and a creation-time cursor column.
func TestPrepareEventFeed(t *testing.T) {
	base := func() *Entity {
		return &Entity{
			Path: "/invoices", Format: "json", RecordsPath: "data", PrimaryKey: "id",
			Pagination: Pagination{Type: "cursor", LimitParam: "limit", CursorParam: "starting_after", CursorFromRecord: "id", HasMorePath: "has_more"},
			Columns:    Columns{{Name: "id", Type: "string"}, {Name: "created", Type: "timestamp"}},
			Incremental: &Incremental{CursorColumn: "created", Param: "created[gte]", ParamFormat: "unix", Lookback: Duration(time.Hour),
				Events: &EventFeed{Path: "/events", Params: map[string]string{"types[0]": "invoice.paid"}, ObjectPath: "data.object", TimeField: "created", Retention: Duration(720 * time.Hour)}},
		}
	}
	if _, err := PrepareEntity("invoices", base()); err != nil {
		t.Fatalf("the Stripe-like feed: %v", err)
	}
	cases := []struct {
		name   string
		change func(*Entity)
		want   string
	}{
		{"path", func(e *Entity) { e.Incremental.Events.Path = "events" }, `incremental.events.path: must start with /, got "events"`},
		{"object path", func(e *Entity) { e.Incremental.Events.ObjectPath = "" }, `incremental.events.object_path: must be a dot path into an event`},
		{"time field", func(e *Entity) { e.Incremental.Events.TimeField = "a..b" }, `incremental.events.time_field: must be a dot path into an event, got "a..b"`},
		{"retention", func(e *Entity) { e.Incremental.Events.Retention = Duration(time.Hour) }, "incremental.events.retention: must be longer than the lookback (1h0m0s), got 1h0m0s"},
		{"no param", func(e *Entity) { e.Incremental.Param = "" }, "incremental.param: an event list must be asked for the events since the cursor"},
		{"param format", func(e *Entity) { e.Incremental.ParamFormat = "rfc3339" }, "incremental.param_format: must be unix"},
		{"csv", func(e *Entity) { e.Format = "csv"; e.RecordsPath = "" }, "format: an event list is JSON"},
		{"no cursor column", func(e *Entity) { e.Incremental.CursorColumn = "" }, "incremental.cursor_column: must name a timestamp column"},
	}
	for _, c := range cases {
		e := base()
		c.change(e)
		_, err := PrepareEntity("invoices", e)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}
