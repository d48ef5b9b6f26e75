package extract

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/segpipe/segpipe/internal/config"
)

// timeLayout reads a timestamp or date column whose export is not RFC 3339: a Go reference
// layout (1/2/2006, 02-01-06, ...) read in a zone, or epoch seconds or milliseconds
// (config.Column.Layout and Timezone).
type timeLayout struct {
	layout string // "" for RFC 3339 / YYYY-MM-DD, config.LayoutUnix, config.LayoutUnixMS
	loc    *time.Location
	reason string // the end of a quarantine reason: "is not a timestamp in layout 1/2/2006"
}

func newTimeLayout(layout, zone string) (*timeLayout, error) {
	if err := config.CheckLayout(layout); err != nil {
		return nil, err
	}
	tl := &timeLayout{layout: layout, loc: time.UTC}
	if zone != "" {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			return nil, fmt.Errorf("time zone %q: %w", zone, err)
		}
		tl.loc = loc
	}
	switch layout {
	case "":
		tl.reason = "(RFC 3339 or YYYY-MM-DD)"
	case config.LayoutUnix:
		tl.reason = "(whole Unix seconds)"
	case config.LayoutUnixMS:
		tl.reason = "(whole Unix milliseconds)"
	default:
		tl.reason = "in layout " + strconv.Quote(layout)
	}
	return tl, nil
}

// fromText converts a CSV field or a JSON string.
func (tl *timeLayout) fromText(k colKind, s string) (cell, string) {
	t := strings.TrimSpace(s)
	if t == "" {
		return nullCell(), ""
	}
	var tm time.Time
	switch tl.layout {
	case config.LayoutUnix, config.LayoutUnixMS:
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return cell{}, k.notA() + " " + tl.reason
		}
		c, p := tl.epoch(k, n)
		return c, p
	case "":
		if len(t) == 10 {
			d, err := time.ParseInLocation(time.DateOnly, t, tl.loc)
			if err != nil {
				return cell{}, k.notA() + " " + tl.reason
			}
			tm = d
		} else {
			if len(t) > 10 && t[10] == ' ' {
				t = t[:10] + "T" + t[11:]
			}
			d, err := time.Parse(time.RFC3339Nano, t)
			if err != nil {
				// No offset: a wall-clock time in the zone.
				d, err = time.ParseInLocation("2006-01-02T15:04:05.999999999", t, tl.loc)
				if err != nil {
					return cell{}, k.notA() + " " + tl.reason
				}
			}
			tm = d
		}
	default:
		d, err := time.ParseInLocation(tl.layout, t, tl.loc)
		if err != nil {
			return cell{}, k.notA() + " " + tl.reason
		}
		tm = d
	}
	return timeCell(k, tm), ""
}

// fromJSON converts a JSON value: a string through fromText, a number as epoch seconds or
// milliseconds when the layout says so.
func (tl *timeLayout) fromJSON(k colKind, v []byte) (cell, string) {
	if len(v) == 0 || v[0] == 'n' {
		return nullCell(), ""
	}
	switch v[0] {
	case '"':
		s, err := jsonString(v)
		if err != nil {
			return cell{}, k.notA() + " (bad string escape)"
		}
		return tl.fromText(k, s)
	case '{', '[', 't', 'f':
		return cell{}, k.notA() + " " + tl.reason
	}
	if tl.layout != config.LayoutUnix && tl.layout != config.LayoutUnixMS {
		return cell{}, k.notA() + " " + tl.reason + " (it is a JSON number)"
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return cell{}, k.notA() + " " + tl.reason
	}
	return tl.epoch(k, n)
}

func (tl *timeLayout) epoch(k colKind, n int64) (cell, string) {
	var tm time.Time
	if tl.layout == config.LayoutUnixMS {
		if n > math.MaxInt64/1000 || n < math.MinInt64/1000 {
			return cell{}, k.notA() + " (out of range)"
		}
		tm = time.UnixMilli(n)
	} else {
		if n > math.MaxInt64/1_000_000 || n < math.MinInt64/1_000_000 {
			return cell{}, k.notA() + " (out of range)"
		}
		tm = time.Unix(n, 0)
	}
	if k == kindDate {
		// An instant names the date it falls on in the zone.
		tm = tm.In(tl.loc)
	}
	return timeCell(k, tm), ""
}

// timeCell is a timestamp as UTC microseconds, or a date as the days since the epoch of the
// calendar date the time has where it was read.
func timeCell(k colKind, tm time.Time) cell {
	if k == kindDate {
		y, m, d := tm.Date()
		return cell{i: floorDiv(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix(), 86400)}
	}
	return cell{i: tm.UnixMicro()}
}
