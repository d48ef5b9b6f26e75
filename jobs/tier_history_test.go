package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	defaultconfig "github.com/segpipe/segpipe/config"
	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/vendors"
	"github.com/segpipe/segpipe/internal/warehouse"
	"github.com/segpipe/segpipe/jobs"
)

// The three dates of the migration story in internal/warehouse/testdata/tiers_raw.sql.
const (
	tierD1 = "2025-06-30"
	tierD2 = "2025-07-31"
	tierD3 = "2025-09-30"
)

// tierEnv lands internal/warehouse/testdata/tiers_raw.sql in a fresh lake as a full export of every
// configured demo entity for each of D1, D2 and D3 (at D3 without account T3B, deleted from the
// CRM and billing), and returns params for segment runs on it.
func tierEnv(t *testing.T) jobs.Params {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Parse(defaultconfig.DemoName, defaultconfig.DemoYAML, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	store, err := lake.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s, err := warehouse.Open(ctx, warehouse.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var raw []byte
	for _, f := range []string{"raw_schema.sql", "tiers_raw.sql"} { // as the warehouse tests load it
		b, err := os.ReadFile("../internal/warehouse/testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		raw = append(append(raw, b...), '\n')
	}
	if err := s.Exec(ctx, string(raw)); err != nil {
		t.Fatal(err)
	}
	fixtureTables := map[string]bool{}
	tables, err := s.Query(ctx, "select table_name from information_schema.tables")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range tables {
		fixtureTables[r.Get("table_name").(string)] = true
	}
	deletedAtD3 := map[string]string{"accounts": "id", "invoices": "customer_id", "subscriptions": "customer_id"}
	dir := t.TempDir()
	for _, dt := range []string{tierD1, tierD2, tierD3} {
		for _, sourceName := range cfg.SourceNames() {
			src := cfg.Sources[sourceName]
			for _, entity := range src.EntityNames() {
				view := vendors.RawView(src.Vendor, entity)
				if !fixtureTables[view] {
					continue // an optional input the fixture does not have: staging's default fills it
				}
				q := "select * from " + view
				if col, ok := deletedAtD3[entity]; ok && dt == tierD3 {
					q += " where " + col + " <> 'T3B'"
				}
				file := filepath.Join(dir, fmt.Sprintf("%s_%s_%s.parquet", sourceName, entity, dt))
				if err := s.Exec(ctx, fmt.Sprintf("copy (%s) to '%s' (format parquet)", q, file)); err != nil {
					t.Fatalf("land %s/%s: %v", sourceName, entity, err)
				}
				rows, err := s.Query(ctx, "select count(*) from read_parquet(?)", file)
				if err != nil {
					t.Fatal(err)
				}
				f, err := os.Open(file)
				if err != nil {
					t.Fatal(err)
				}
				key := lake.RawPrefix(sourceName, entity, dt) + "part-00000.parquet"
				info, err := store.Put(ctx, key, f)
				f.Close()
				if err != nil {
					t.Fatal(err)
				}
				n := rows[0].Float("count_star()")
				if err := lake.WriteManifest(ctx, store, &lake.Manifest{
					Source: sourceName, Entity: entity, Dt: dt, RunID: "fixture", Mode: "full",
					Rows: int64(n), Bytes: info.Size, Files: []lake.LandedFile{{Key: key, Rows: int64(n), Bytes: info.Size}},
				}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return jobs.Params{Config: cfg, Lake: store, WorkDir: t.TempDir()}
}

func segmentAt(t *testing.T, p jobs.Params, asOf string, n int) *jobs.SegmentResult {
	t.Helper()
	p.AsOf = date(asOf)
	p.RunID = jobs.NewRunID(time.Now().Add(time.Duration(n) * time.Second))
	res, err := jobs.Segment(context.Background(), p)
	if err != nil {
		t.Fatalf("segment %s: %v", asOf, err)
	}
	return res
}

func day(v any) string {
	if v == nil {
		return "-"
	}
	return v.(time.Time).Format(time.DateOnly)
}

// Hysteresis over three consecutive runs of the real segment job, each carrying the previous
// run's tier_history forward through the lake (domain.md section 7: up at once, down only after
// one renewal cycle), and a rerun of the middle date after the last one.
func TestTierHistoryAcrossRuns(t *testing.T) {
	p := tierEnv(t)
	ctx := context.Background()

	r1 := segmentAt(t, p, tierD1, 1)
	r2 := segmentAt(t, p, tierD2, 2)
	r3 := segmentAt(t, p, tierD3, 3)
	// Each run reads the newest partition strictly before its as_of; the first has none.
	for i, c := range []struct {
		res  *jobs.SegmentResult
		want string
	}{{r1, ""}, {r2, tierD1}, {r3, tierD2}} {
		for _, table := range []string{"tier_history", "segment_history"} {
			if got := c.res.Previous[table]; got != c.want {
				t.Errorf("run %d read the previous %s of %q, want %q", i+1, table, got, c.want)
			}
		}
	}
	// The run record says which previous partition was read.
	b, err := lake.GetBytes(ctx, p.Lake, "runs/"+r3.RunID+".json")
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Extra struct {
			PreviousAsOf map[string]string `json:"previous_as_of"`
		} `json:"extra"`
	}
	if err := json.Unmarshal(b, &rec); err != nil || rec.Extra.PreviousAsOf["tier_history"] != tierD2 {
		t.Errorf("run record of D3: previous_as_of %v (%v), want tier_history %s", rec.Extra.PreviousAsOf, err, tierD2)
	}

	assignments := func(asOf string) map[string]warehouse.Row {
		out := map[string]warehouse.Row{}
		for _, r := range readTable(t, historyFile(p, "tier_assignments", asOf)) {
			out[r.Get("account_id").(string)] = r
		}
		return out
	}
	check := func(asOf, id string, want map[string]string) {
		t.Helper()
		r, ok := assignments(asOf)[id]
		if !ok {
			t.Errorf("%s: %s is not in tier_assignments", asOf, id)
			return
		}
		for col, w := range want {
			got := fmt.Sprint(r.Get(col))
			if col == "held_until" {
				got = day(r.Get(col))
			}
			if got != w {
				t.Errorf("%s %s %s = %q, want %q", asOf, id, col, got, w)
			}
		}
	}
	// D1: T1A's ARR 120,000 > 100,000: Tier 1.
	check(tierD1, "T1A", map[string]string{"rule_tier": "1", "tier": "1", "change": "new", "held_until": "-"})
	// D2: T1A's ARR fell to 60,000 (rule: Tier 2); it is held at Tier 1 until its renewal, the
	// current_period_end 2025-08-31 of its active subscription. T3's ARR rose from 24,000 to
	// 36,000: up to Tier 2 at once.
	check(tierD2, "T1A", map[string]string{"rule_tier": "2", "previous_tier": "1", "tier": "1", "change": "held",
		"held_until": "2025-08-31", "reason": "held at Tier 1 until renewal 2025-08-31: rule gives Tier 2"})
	check(tierD2, "T3", map[string]string{"rule_tier": "2", "previous_tier": "3", "tier": "2", "change": "up", "held_until": "-"})
	// D3 (after the renewal): T1A moves down to Tier 2. T3 stays. T4, churned at D2 (no July
	// invoice), pays again in September: reactivated in Tier 4.
	check(tierD3, "T1A", map[string]string{"rule_tier": "2", "previous_tier": "1", "tier": "2", "change": "down", "held_until": "-",
		"reason": "moved down at renewal 2025-08-31: ARR 60000 >= 25000, no Tier 1 rule"})
	check(tierD3, "T3", map[string]string{"tier": "2", "previous_tier": "2", "change": "unchanged"})
	check(tierD3, "T4", map[string]string{"tier": "4", "previous_tier": "<nil>", "change": "reactivated"})
	if _, ok := assignments(tierD3)["T3B"]; ok {
		t.Error("T3B, deleted at D3, is still tiered")
	}

	// tier_history after run 3: the closed and open intervals of each account.
	var got []string
	for _, r := range readTable(t, historyFile(p, "tier_history", tierD3)) {
		got = append(got, fmt.Sprintf("%v [%s,%s) tier=%v %v %v current=%v held_until=%s",
			r.Get("account_id"), day(r.Get("valid_from")), day(r.Get("valid_to")), r.Get("tier"), r.Get("state"), r.Get("change"),
			r.Get("is_current"), day(r.Get("held_until"))))
	}
	want := []string{
		"T1A [2025-06-30,2025-07-31) tier=1 active new current=false held_until=-",
		"T1A [2025-07-31,2025-09-30) tier=1 held held current=false held_until=2025-08-31",
		"T1A [2025-09-30,-) tier=2 active down current=true held_until=-",
		"T1G [2025-06-30,-) tier=1 active new current=true held_until=-",
		"T1S [2025-06-30,-) tier=1 active new current=true held_until=-",
		"T2E [2025-06-30,-) tier=2 active new current=true held_until=-",
		"T2S [2025-06-30,-) tier=2 active new current=true held_until=-",
		"T3 [2025-06-30,2025-07-31) tier=3 active new current=false held_until=-",
		"T3 [2025-07-31,-) tier=2 active up current=true held_until=-",
		"T3B [2025-06-30,2025-09-30) tier=3 active new current=false held_until=-",
		"T3B [2025-09-30,-) tier=<nil> deleted deleted current=true held_until=-",
		"T4 [2025-06-30,2025-07-31) tier=4 active new current=false held_until=-",
		"T4 [2025-07-31,2025-09-30) tier=<nil> churned churned current=false held_until=-",
		"T4 [2025-09-30,-) tier=4 active reactivated current=true held_until=-",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("tier_history at D3:\n got  %q\n want %q", got, want)
	}

	// segment_history after run 3: explicit churned, deleted and reactivated rows.
	seg := map[string]string{}
	for _, r := range readTable(t, historyFile(p, "segment_history", tierD3)) {
		k := fmt.Sprintf("%v %v %s", r.Get("account_id"), r.Get("dimension"), day(r.Get("valid_from")))
		seg[k] = fmt.Sprintf("%v|%v|%s", r.Get("segment"), r.Get("change_reason"), day(r.Get("valid_to")))
	}
	for k, w := range map[string]string{
		"T4 arr_band 2025-06-30":   "SMB|new account|2025-07-31",
		"T4 arr_band 2025-07-31":   "<nil>|churned|2025-09-30",
		"T4 arr_band 2025-09-30":   "SMB|reactivated|-",
		"T3B size_band 2025-09-30": "<nil>|deleted|-",
		"T3B tier 2025-09-30":      "<nil>|deleted|-",
		"T1A tier 2025-09-30":      "Tier 2 (Core)|entered Tier 2 (Core) from Tier 1 (Strategic)|-",
		"T1A tier 2025-06-30":      "Tier 1 (Strategic)|new account|2025-09-30",
		"T1A arr_band 2025-07-31":  "Mid-market|entered Mid-market from Enterprise|-",
	} {
		if seg[k] != w {
			t.Errorf("segment_history %s = %q, want %q", k, seg[k], w)
		}
	}

	// A rerun of D2 after D3 reads D1's history again (strictly before D2), so D2's
	// partitions are what its first run wrote.
	before := map[string][]warehouse.Row{}
	tables := []string{"tier_assignments", "tier_history", "segment_history", "tier_summary"}
	for _, table := range tables {
		before[table] = sortedTable(t, historyFile(p, table, tierD2))
	}
	rerun := segmentAt(t, p, tierD2, 4)
	if rerun.Previous["tier_history"] != tierD1 || rerun.LatestMoved {
		t.Errorf("rerun of D2: previous %v, latest moved %v; want %s and false", rerun.Previous, rerun.LatestMoved, tierD1)
	}
	for _, table := range tables {
		after := sortedTable(t, historyFile(p, table, tierD2))
		if len(after) != len(before[table]) {
			t.Fatalf("%s at D2: %d rows after the rerun, %d before", table, len(after), len(before[table]))
		}
		for i := range after {
			if !after[i].Equal(before[table][i], 1e-9) {
				t.Errorf("%s at D2 row %d changed on rerun:\n before %s\n after  %s", table, i, before[table][i], after[i])
			}
		}
	}
}
