package extract

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A record can come more than once in one export: Zendesk documents repeated items in its
// time-based incremental export, and any export paged while records change can list a
// record again after it changed (a ticket updated mid-export moves to a later page). The
// rule for a primary key that comes again within one landing (docs/sources.md, "Records
// that come twice"):
//
//   - the same text as the version last landed with the key is an exact repeat: dropped and
//     counted (Manifest.RepeatsDropped);
//   - another version with a different cursor_column value is a newer (or older) version:
//     both are landed, and counted (Manifest.Superseded, the copies that are not the newest).
//     Staging keeps, per key, the version known at as_of by the cursor, as it does across
//     landings, so a backfill still sees the version of its date;
//   - different text that cannot be ordered, because the entity has no cursor column, or
//     the cursor is the same or null, is a conflict: the later record is quarantined with
//     that reason, as a duplicate key always was.
//
// The key set holds 8 bytes a key and nothing of the record, so a repeat cannot be judged
// when it arrives. It is held aside instead (repeats are rare), and every landed record's key
// hash and version word go to a temporary log, 16 bytes a record on disk, none in memory.
// After the last page, when something was held, one pass over the log finds the version of
// the held keys' first records and the held records are judged in the order they came. A
// version word is the top 32 bits of a hash of the record's raw text and 32 bits of a hash of
// its cursor value (0 when null or the entity has none): two texts of one key that share the
// hash (2⁻³² a pair) and the cursor are taken for an exact repeat.
type repeat int

const (
	repeatVersion  repeat = iota + 1 // another version of the key by its cursor: land it
	repeatExact                      // the same text again: drop it, counted
	repeatConflict                   // another text, no cursor to order it: quarantine it
)

var versionSeed = maphash.MakeSeed()

// heldRecord is a record whose key came before in this landing, judged after the last page.
type heldRecord struct {
	key       uint64 // keyHash of its primary key
	page      int
	index     int
	fetchedAt time.Time
	raw       []byte
	fields    []string // CSV fields
	csvMap    []int    // CSV: the page's column → field mapping
}

// versionLog is the temporary file of (key hash, version word) of every landed record.
type versionLog struct {
	tempDir string
	f       *os.File
	w       *bufio.Writer
	buf     [16]byte
	// err is the log's first failure. The log is only read when a record repeats, so the
	// landing fails on it only then (versionsOf), naming it.
	err error
}

func (v *versionLog) add(key, version uint64) {
	if v.err != nil {
		return
	}
	if v.f == nil {
		f, err := os.CreateTemp(v.tempDir, "segpipe-versions-*.bin")
		if err != nil {
			v.err = fmt.Errorf("create the version log: %w", err)
			return
		}
		v.f, v.w = f, bufio.NewWriterSize(f, 1<<16)
	}
	binary.LittleEndian.PutUint64(v.buf[:8], key)
	binary.LittleEndian.PutUint64(v.buf[8:], version)
	if _, err := v.w.Write(v.buf[:]); err != nil {
		v.err = fmt.Errorf("write the version log: %w", err)
	}
}

// versionsOf reads the log back and returns the version word of each wanted key (its first
// landed record: a held key has exactly one record in the log).
func (v *versionLog) versionsOf(wanted map[uint64]uint64) error {
	if v.err != nil {
		return fmt.Errorf("records repeat in this landing, but %w", v.err)
	}
	if v.f == nil {
		return nil
	}
	if err := v.w.Flush(); err != nil {
		return fmt.Errorf("write the version log: %w", err)
	}
	if _, err := v.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("read the version log: %w", err)
	}
	r := bufio.NewReaderSize(v.f, 1<<16)
	var b [16]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read the version log: %w", err)
		}
		k := binary.LittleEndian.Uint64(b[:8])
		if _, ok := wanted[k]; ok {
			wanted[k] = binary.LittleEndian.Uint64(b[8:])
		}
	}
}

func (v *versionLog) discard() {
	if v.f != nil {
		v.f.Close()
		os.Remove(v.f.Name())
		v.f = nil
	}
}

// version is the version word of the converted record with raw text raw.
func (c *rowConverter) version(raw []byte) uint64 {
	v := maphash.Bytes(versionSeed, raw) &^ (1<<32 - 1)
	if i, ok := c.cursor(); ok {
		cur := uint32(maphash.Comparable(versionSeed, i))
		if cur == 0 {
			cur = 1
		}
		v |= uint64(cur)
	}
	return v
}

// primaryKey is the converted record's primary key as text, in c.keyBuf; "" with a reason
// when it is empty.
func (c *rowConverter) primaryKey() ([]byte, string) {
	v := c.cells[c.pk]
	var kb []byte
	switch c.kinds[c.pk] {
	case kindString:
		if v.isS {
			kb = append(c.keyBuf[:0], v.s...)
		} else {
			kb = append(c.keyBuf[:0], v.b...)
		}
		if len(bytes.TrimSpace(kb)) == 0 {
			return nil, "primary key " + c.names[c.pk] + " is empty"
		}
	case kindFloat64:
		kb = strconv.AppendFloat(c.keyBuf[:0], v.f, 'g', -1, 64)
	default:
		kb = strconv.AppendInt(c.keyBuf[:0], v.i, 10)
	}
	c.keyBuf = kb
	return kb, ""
}

// admit decides what becomes of the converted record whose key hash is h, fresh when the
// key set took it as new: land it now (the key is new; it is logged), or hold it when its
// key came before (it is kept aside for judgeRepeats), which admit reports.
func (l *landing) admit(pg *page, idx int, rec rawRecord, h uint64, fresh bool) (held bool) {
	if !fresh {
		hr := heldRecord{key: h, page: pg.num, index: idx, fetchedAt: pg.fetchedAt, raw: slices.Clone(rec.raw)}
		if l.ent.Format == "csv" {
			hr.fields = make([]string, len(rec.fields))
			for i, f := range rec.fields {
				hr.fields[i] = strings.Clone(f)
			}
			hr.csvMap = slices.Clone(l.conv.csvMap)
		}
		l.held = append(l.held, hr)
		return true
	}
	l.versions.add(h, l.conv.version(rec.raw))
	return false
}

// judgeRepeats lands, drops or quarantines the held records, in the order they came, against
// the version last landed with their key.
func (l *landing) judgeRepeats(ctx context.Context) error {
	if len(l.held) == 0 {
		return nil
	}
	last := make(map[uint64]uint64, len(l.held))
	for _, hr := range l.held {
		last[hr.key] = 0
	}
	if err := l.versions.versionsOf(last); err != nil {
		return err
	}
	for i := range l.held {
		hr := &l.held[i]
		if hr.csvMap != nil {
			copy(l.conv.csvMap, hr.csvMap)
		}
		reason := l.conv.convert(rawRecord{raw: hr.raw, fields: hr.fields})
		if reason == "" {
			kind, why := l.judge(last[hr.key], l.conv.version(hr.raw))
			switch kind {
			case repeatExact:
				l.repeatsDropped++
				continue
			case repeatVersion:
				l.superseded++
				last[hr.key] = l.conv.version(hr.raw)
				if err := l.landRow(ctx, &page{num: hr.page, fetchedAt: hr.fetchedAt}, hr.raw); err != nil {
					return err
				}
				continue
			}
			reason = why
		}
		if err := l.q.add(hr.page, hr.index, reason, hr.raw); err != nil {
			return fmt.Errorf("page %d: %w", hr.page, err)
		}
	}
	l.held = nil
	return nil
}

// judge compares a held record's version word with the one last landed with its key.
func (l *landing) judge(prev, v uint64) (repeat, string) {
	if prev == v {
		return repeatExact, ""
	}
	c := l.conv
	kb, _ := c.primaryKey()
	key := "repeated primary key " + c.names[c.pk] + " " + strconv.Quote(snippet(string(kb))) + " with other content: an earlier record in this landing has it"
	if c.cursorCol < 0 {
		return repeatConflict, key + ", and the entity has no incremental cursor_column to tell which is newer"
	}
	cursor := c.names[c.cursorCol]
	prevCur, cur := uint32(prev), uint32(v)
	switch {
	case prevCur == 0 || cur == 0:
		return repeatConflict, key + ", and " + cursor + " is null in one of them: cannot tell which is newer"
	case prevCur == cur:
		return repeatConflict, key + " with the same " + cursor + ": cannot tell which is newer"
	}
	return repeatVersion, ""
}
