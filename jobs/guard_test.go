package jobs

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
)

// "Today" is the config's: the same instant is a different date in Auckland and Los Angeles.
func TestCheckAsOfJudgesTodayInTheConfigZone(t *testing.T) {
	now := time.Date(2026, 12, 6, 23, 30, 0, 0, time.UTC) // 2026-12-07 12:30 in Auckland, 15:30 on the 6th in LA
	date := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	for _, c := range []struct {
		zone, asOf string
		refused    bool
	}{
		{"UTC", "2026-12-06", false},
		{"UTC", "2026-12-07", true},
		{"Pacific/Auckland", "2026-12-07", false},
		{"Pacific/Auckland", "2026-12-08", true},
		{"America/Los_Angeles", "2026-12-06", false},
		{"America/Los_Angeles", "2026-12-07", true},
		{"UTC", "2031-01-01", true},
		{"UTC", "2020-02-29", false},
	} {
		cfg := &config.Config{Timezone: c.zone}
		err := CheckAsOf(cfg, date(c.asOf), now, false)
		if got := errors.Is(err, ErrFutureAsOf); got != c.refused {
			t.Errorf("%s in %s: refused %v (%v), want %v", c.asOf, c.zone, got, err, c.refused)
		}
		if err := CheckAsOf(cfg, date(c.asOf), now, true); err != nil {
			t.Errorf("%s in %s with allowFuture: %v", c.asOf, c.zone, err)
		}
	}
	err := CheckAsOf(&config.Config{Timezone: "UTC"}, date("2031-01-01"), now, false)
	if err == nil || !strings.Contains(err.Error(), "as_of 2031-01-01 is 1487 days after today (2026-12-06 in UTC)") {
		t.Errorf("message: %v", err)
	}
}
