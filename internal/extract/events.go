package extract

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/segpipe/segpipe/internal/config"
)

// An entity whose export cannot be asked for what changed since a time (Stripe lists filter
// only by creation, and an invoice is paid or voided long after it is created) is read
// incrementally through the vendor's list of change events (config Incremental.Events;
// docs/sources.md, "Event feeds"). Each event carries the object as it was after the change
// (Stripe: data.object, https://docs.stripe.com/api/events/object), so the object is what
// lands, as the export would have listed it then. The list comes newest first
// (https://docs.stripe.com/api/events/list): the first event of an object in a landing is
// its newest state, and the later ones, older states, are left out and counted
// (Manifest.OlderEvents). An event without an object, or whose time is not Unix seconds, is
// quarantined with that reason. The saved cursor is the newest event's time.

// eventReader turns the pages of an event list into pages of the objects they carry.
type eventReader struct {
	objectPath, timeField, keyField string
	seen                            map[string]struct{} // the keys (JSON text) of the objects landed so far
	older                           int64
	newest                          int64 // the newest event's time, Unix seconds
	haveTime                        bool
}

func newEventReader(ent *config.Entity) *eventReader {
	ev := ent.Incremental.Events
	r := &eventReader{objectPath: ev.ObjectPath, timeField: ev.TimeField, seen: map[string]struct{}{}}
	for _, col := range ent.Columns {
		if col.Name == ent.PrimaryKey {
			r.keyField = col.Source()
		}
	}
	return r
}

// eventsURL is base_url + the event list's path with its fixed params.
func eventsURL(src *config.Source, ev *config.EventFeed) (*url.URL, error) {
	return entityURL(src, &config.Entity{Path: ev.Path, Params: ev.Params})
}

// unwrap replaces pg's events by the objects they carry, the newest state of each object
// once, and quarantines the events it cannot read. The paginator has already read the
// page's own cursor (the last event's id).
func (r *eventReader) unwrap(pg *page, q *quarantine) error {
	kept := pg.records[:0]
	for i, rec := range pg.records {
		obj, key, when, why := r.read(rec.raw)
		if why != "" {
			if err := q.add(pg.num, i, why, rec.raw); err != nil {
				return fmt.Errorf("page %d: %w", pg.num, err)
			}
			continue
		}
		if !r.haveTime || when > r.newest {
			r.newest, r.haveTime = when, true
		}
		if key != "" {
			if _, dup := r.seen[key]; dup {
				r.older++
				continue
			}
			r.seen[key] = struct{}{}
		}
		// An object without a key lands as the export's would: the conversion quarantines it.
		kept = append(kept, rawRecord{raw: obj})
	}
	clear(pg.records[len(kept):])
	pg.records = kept
	return nil
}

// read finds an event's object, the object's key ("" when it has none) and the event's time.
func (r *eventReader) read(raw []byte) (obj []byte, key string, when int64, why string) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, "", 0, "the event is not a JSON object"
	}
	t, ok := lookupPath(raw, r.timeField)
	if !ok || t[0] == 'n' {
		return nil, "", 0, fmt.Sprintf("the event has no %s (its time)", r.timeField)
	}
	when, err := strconv.ParseInt(string(t), 10, 64)
	if err != nil {
		return nil, "", 0, fmt.Sprintf("the event's %s is %s, not Unix seconds", r.timeField, strings.TrimSpace(string(t)))
	}
	obj, ok = lookupPath(raw, r.objectPath)
	if !ok || obj[0] != '{' {
		return nil, "", 0, fmt.Sprintf("the event carries no object at %s", r.objectPath)
	}
	if v, ok := lookupPath(obj, r.keyField); ok && v[0] != 'n' {
		key = string(v) // its JSON text: the same id is the same text
	}
	return obj, key, when, ""
}
