package extract

import (
	"testing"
	"time"
)

// A column layout reads the export's own time format (config.Column.Layout, Timezone): each
// case is a value as an export writes it and the instant (or date) it is.
func TestTimeLayouts(t *testing.T) {
	cases := []struct {
		layout, zone string
		kind         colKind
		text         string
		want         time.Time
		bad          string // the reason, when the value does not fit
	}{
		{"1/2/2006", "", kindDate, "3/7/2026", time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC), ""},
		{"1/2/2006", "", kindDate, "12/31/2025", time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC), ""},
		{"1/2/2006", "", kindDate, "31/12/2025", time.Time{}, `is not a date in layout "1/2/2006"`},
		{"02-01-06", "", kindDate, "07-03-26", time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC), ""},
		{"1/2/2006", "America/New_York", kindTimestamp, "3/7/2026", time.Date(2026, 3, 7, 5, 0, 0, 0, time.UTC), ""},
		// Daylight saving time: 4 hours behind UTC in July.
		{"2006-01-02 15:04", "America/New_York", kindTimestamp, "2026-07-01 20:30", time.Date(2026, 7, 2, 0, 30, 0, 0, time.UTC), ""},
		{"unix", "", kindTimestamp, "1700000000", time.Unix(1700000000, 0), ""},
		{"unix_ms", "", kindTimestamp, "1700000000123", time.UnixMilli(1700000000123), ""},
		{"unix_ms", "", kindTimestamp, "17000000.5", time.Time{}, "is not a timestamp (whole Unix milliseconds)"},
		// An instant names the date it falls on in the zone: 02:00 UTC is the day before in New York.
		{"unix", "America/New_York", kindDate, "1772416800", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), ""},
		{"", "America/New_York", kindTimestamp, "2026-03-07T10:00:00", time.Date(2026, 3, 7, 15, 0, 0, 0, time.UTC), ""},
		{"", "America/New_York", kindTimestamp, "2026-03-07T10:00:00Z", time.Date(2026, 3, 7, 10, 0, 0, 0, time.UTC), ""},
	}
	for _, c := range cases {
		tl, err := newTimeLayout(c.layout, c.zone)
		if err != nil {
			t.Fatal(err)
		}
		got, bad := tl.fromText(c.kind, c.text)
		if bad != c.bad {
			t.Errorf("%s %q in %q: reason %q, want %q", c.layout, c.text, c.zone, bad, c.bad)
			continue
		}
		if bad != "" {
			continue
		}
		want := c.want.UnixMicro()
		if c.kind == kindDate {
			want = c.want.Unix() / 86400
		}
		if got.i != want || got.null {
			t.Errorf("%s %q in %q: %d, want %d (%s)", c.layout, c.text, c.zone, got.i, want, c.want)
		}
	}
	// JSON numbers are epoch values only for the unix layouts.
	tl, _ := newTimeLayout("unix_ms", "")
	if c, bad := tl.fromJSON(kindTimestamp, []byte("1700000000123")); bad != "" || c.i != time.UnixMilli(1700000000123).UnixMicro() {
		t.Errorf("unix_ms JSON number: %v %q", c, bad)
	}
	tl, _ = newTimeLayout("1/2/2006", "")
	if _, bad := tl.fromJSON(kindDate, []byte("20260307")); bad != `is not a date in layout "1/2/2006" (it is a JSON number)` {
		t.Errorf("a JSON number in a text layout: %q", bad)
	}
	if c, bad := tl.fromJSON(kindDate, []byte(`"3/7/2026"`)); bad != "" || c.i != time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC).Unix()/86400 {
		t.Errorf("a JSON string: %v %q", c, bad)
	}
}
