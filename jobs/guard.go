package jobs

import (
	"errors"
	"fmt"
	"time"

	"github.com/segpipe/segpipe/internal/config"
)

// ErrFutureAsOf marks a run asked to describe a date after today: it would publish a release
// with no facts (0 active customers) that every later nightly then sits behind, as "a newer
// date is already published". Params.AllowFuture (--allow-future) lets it run.
var ErrFutureAsOf = errors.New("as_of is after today")

// CheckAsOf refuses an as_of after today in the config's time zone (today itself is allowed:
// its facts are those known so far). now is the wall clock.
func CheckAsOf(cfg *config.Config, asOf, now time.Time, allowFuture bool) error {
	if allowFuture {
		return nil
	}
	local := now.In(cfg.Location())
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
	day := time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 0, 0, 0, 0, time.UTC)
	if !day.After(today) {
		return nil
	}
	return fmt.Errorf("%w: as_of %s is %s after today (%s in %s); a run as of a future date publishes a release every later nightly would sit behind. Check the date, or pass --allow-future if you mean it",
		ErrFutureAsOf, day.Format(time.DateOnly), days(day.Sub(today)), today.Format(time.DateOnly), cfg.Location())
}

func days(d time.Duration) string {
	n := int(d.Hours() / 24)
	return fmt.Sprintf("%d day%s", n, plural(n))
}

func (p *Params) checkAsOf() error {
	return CheckAsOf(p.Config, p.AsOf, p.now(), p.AllowFuture)
}

// now is the wall clock: Params.Now when a test sets it, else time.Now.
func (p *Params) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}
