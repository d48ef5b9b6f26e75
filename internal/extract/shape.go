package extract

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/lake"
)

// When a source renames a field (employee_count becomes employees from page 2, a CSV header
// changes), every record still converts: the column is just null. A landing therefore
// follows, for each declared column, which records carried its field, and fails, naming the
// column and the pages, when
//   - the field is in none of the landing's records;
//   - the field is in none of the records of some pages while the other pages have it, and
//     that is not chance: were the field missing at random at the rate it is missing on the
//     pages that have it, the chance of it missing from every record of those pages is below
//     absentByChance;
//   - the landed rows' null share of the column rose by more than the source's
//     max_null_share_increase against the previous landing of the entity in the same mode,
//     both landings holding at least minRowsForNullShare rows.
//
// Columns declared optional are exempt: a field the vendor leaves out when it is empty, a
// custom property some accounts lack.

// absentByChance is the chance below which a field missing from whole pages is taken for a
// change of shape, not for a sparse field's luck.
const absentByChance = 1e-6

// minRowsForNullShare is the fewest rows, in this landing and the previous one, for their
// null shares to be compared: a share of a handful of records says nothing.
const minRowsForNullShare = 100

// shape is what the landing knows of each declared column's presence.
type shape struct {
	cols       []columnShape
	pageRecs   int64   // converted records of the current page
	pagePres   []int64 // of them, those that carry each column's field
	pageSample []byte  // the current page's first converted record (JSON)
	pageHeader []string
}

// columnShape follows one declared column.
type columnShape struct {
	name, field string
	optional    bool

	present       int64      // converted records that carry the field
	records       int64      // converted records of the pages where some record carries it
	absentRecords int64      // converted records of the pages where none carries it
	presentPages  pageRanges // pages where some record carries it
	absentPages   pageRanges // pages with records where none carries it
	sample        []byte     // a record of the first page where none carries it (JSON)
	sampleHeader  []string   // that page's CSV header

	nulls, absentNulls int64 // landed rows where null, and of them where the field is absent
}

func newShape(cols config.Columns) *shape {
	s := &shape{cols: make([]columnShape, len(cols)), pagePres: make([]int64, len(cols))}
	for i, c := range cols {
		s.cols[i] = columnShape{name: c.Name, field: c.Source(), optional: c.Optional}
	}
	return s
}

// record counts one converted record of the current page; absent says which columns'
// fields it lacks. The page's first record (or its CSV header) is kept until the page ends,
// to name the fields it has should a column's field be missing from the whole page.
func (s *shape) record(absent []bool, raw []byte, header []string) {
	s.pageRecs++
	if s.pageRecs == 1 {
		s.pageSample, s.pageHeader = raw, header
	}
	for i, a := range absent {
		if !a {
			s.pagePres[i]++
		}
	}
}

// endPage folds the page's counts into each column's.
func (s *shape) endPage(pg *page) {
	if s.pageRecs == 0 {
		return
	}
	for i := range s.cols {
		c := &s.cols[i]
		if s.pagePres[i] > 0 {
			c.present += s.pagePres[i]
			c.records += s.pageRecs
			c.presentPages.add(pg.num)
		} else {
			c.absentRecords += s.pageRecs
			c.absentPages.add(pg.num)
			if c.sample == nil && c.sampleHeader == nil {
				c.sample = slices.Clone(s.pageSample)
				for _, h := range s.pageHeader {
					c.sampleHeader = append(c.sampleHeader, strings.Clone(h))
				}
			}
		}
		s.pagePres[i] = 0
	}
	s.pageRecs, s.pageSample, s.pageHeader = 0, nil, nil
}

// landedNull counts a landed row whose column col is null.
func (s *shape) landedNull(col int, absent bool) {
	s.cols[col].nulls++
	if absent {
		s.cols[col].absentNulls++
	}
}

// counts are the manifest's per-column null counts.
func (s *shape) counts() []lake.ColumnCount {
	out := make([]lake.ColumnCount, len(s.cols))
	for i, c := range s.cols {
		out[i] = lake.ColumnCount{Name: c.name, Nulls: c.nulls, Absent: c.absentNulls}
	}
	return out
}

// ShapeError is returned when a declared column's field went missing from the export, or its
// null share jumped against the previous landing. Nothing is landed.
type ShapeError struct {
	Source, Entity, Dt string
	// Problems name each column, its field, the pages and the counts.
	Problems []string
}

func (e *ShapeError) Error() string {
	return fmt.Sprintf("the export's fields are not what the config declares, nothing landed: %s. If the source renamed a field, point the column's field at the new name; if the field is missing or null by nature, declare the column optional (name: {type: T, field: F, optional: true})",
		strings.Join(e.Problems, "; "))
}

// checkShape applies the rules above once every page is in.
func (l *landing) checkShape(ctx context.Context) error {
	var problems []string
	for i := range l.conv.shape.cols {
		c := &l.conv.shape.cols[i]
		if c.optional || c.present+c.absentRecords == 0 {
			continue
		}
		what := "column " + c.name
		if c.field != c.name {
			what += " (field " + c.field + ")"
		}
		switch {
		case c.present == 0:
			problems = append(problems, fmt.Sprintf("%s is in none of the %d records (%s)%s",
				what, c.absentRecords, c.absentPages.String(), l.unreadFields(c)))
		case c.absentRecords > 0 && !missingByChance(c):
			problems = append(problems, fmt.Sprintf("%s is in %d of the %d records of %s but in none of the %d records of %s%s",
				what, c.present, c.records, c.presentPages.String(), c.absentRecords, c.absentPages.String(), l.unreadFields(c)))
		}
	}
	more, err := l.nullShareJumps(ctx)
	if err != nil {
		return err
	}
	problems = append(problems, more...)
	if len(problems) > 0 {
		return &ShapeError{Source: l.source, Entity: l.entity, Dt: l.opts.Dt, Problems: problems}
	}
	return nil
}

// missingByChance reports whether a field missing from every record of some pages could be
// a sparse field's luck: the chance of that, at the rate the field is missing on the pages
// that have it, is at least absentByChance.
func missingByChance(c *columnShape) bool {
	missRate := 1 - float64(c.present)/float64(c.records)
	if missRate <= 0 {
		return false
	}
	return float64(c.absentRecords)*math.Log(missRate) >= math.Log(absentByChance)
}

// unreadFields names the fields no column reads in a record of the first page that lacks
// the column's field, at the level where the field was looked for: where a renamed field is.
func (l *landing) unreadFields(c *columnShape) string {
	var names []string
	if c.sampleHeader != nil {
		for _, h := range c.sampleHeader {
			if _, read := l.conv.csvCols[h]; !read {
				names = append(names, h)
			}
		}
	} else if c.sample != nil {
		// The deepest object on the field's path that the record has.
		segs := strings.Split(c.field, ".")
		parent, prefix := c.sample, ""
		for k := len(segs) - 1; k > 0; k-- {
			if p, absent := lookupField(c.sample, segs[:k]); !absent && len(p) > 0 && p[0] == '{' {
				parent, prefix = p, strings.Join(segs[:k], ".")+"."
				break
			}
		}
		read := map[string]bool{}
		for _, col := range l.ent.Columns {
			read[col.Source()] = true
			for f := col.Source(); strings.Contains(f, "."); {
				f = f[:strings.LastIndex(f, ".")]
				read[f] = true
			}
		}
		eachField(parent, func(key, _ []byte) {
			if name, ok := keyName(key); ok && !read[prefix+string(name)] {
				names = append(names, prefix+string(name))
			}
		})
	}
	if len(names) == 0 {
		return ""
	}
	const most = 10
	extra := ""
	if len(names) > most {
		extra = fmt.Sprintf(" and %d more", len(names)-most)
		names = names[:most]
	}
	return "; those records have fields no column reads: " + strings.Join(names, ", ") + extra
}

// nullShareJumps compares each column's null share with the previous landing's.
func (l *landing) nullShareJumps(ctx context.Context) ([]string, error) {
	limit := l.src.MaxNullShareIncrease
	if l.rows < minRowsForNullShare || limit <= 0 || limit >= 1 {
		return nil, nil
	}
	prev, err := l.previousLanding(ctx)
	if err != nil || prev == nil {
		return nil, err
	}
	before := make(map[string]int64, len(prev.Columns))
	for _, c := range prev.Columns {
		before[c.Name] = c.Nulls
	}
	var problems []string
	for _, c := range l.conv.shape.cols {
		was, ok := before[c.name]
		if c.optional || !ok {
			continue
		}
		then, now := float64(was)/float64(prev.Rows), float64(c.nulls)/float64(l.rows)
		if now-then > limit {
			problems = append(problems, fmt.Sprintf("column %s is null in %s of the %d landed rows against %s of %d in the %s landing of dt=%s (run %s): up %s, over max_null_share_increase %s",
				c.name, pct1(now), l.rows, pct1(then), prev.Rows, prev.Mode, prev.Dt, prev.RunID, pct1(now-then), pct(limit)))
		}
	}
	return problems, nil
}

// maxPreviousManifests bounds how far back previousLanding looks for a landing in this mode.
const maxPreviousManifests = 60

// previousLanding is the newest landing of the entity before this dt in this landing's mode
// with column counts and at least minRowsForNullShare rows; nil when there is none. A small
// landing does not become the baseline.
func (l *landing) previousLanding(ctx context.Context) (*lake.Manifest, error) {
	dts, err := lake.LandedDates(ctx, l.store, l.source, l.entity)
	if err != nil {
		return nil, fmt.Errorf("list earlier landings to compare null shares: %w", err)
	}
	looked := 0
	for i := len(dts) - 1; i >= 0 && looked < maxPreviousManifests; i-- {
		if dts[i] >= l.opts.Dt {
			continue
		}
		looked++
		m, err := lake.ReadManifest(ctx, l.store, l.source, l.entity, dts[i])
		if errors.Is(err, lake.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read the landing of dt=%s to compare null shares: %w", dts[i], err)
		}
		if m.Mode == l.mode() && len(m.Columns) > 0 && m.Rows >= minRowsForNullShare {
			return m, nil
		}
	}
	return nil, nil
}

// pct1 writes a share as a percentage to one decimal.
func pct1(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" }

// pageRanges is a sorted list of page ranges, added to in page order.
type pageRanges struct {
	r [][2]int
	n int
}

func (p *pageRanges) add(num int) {
	p.n++
	if k := len(p.r); k > 0 && p.r[k-1][1] == num-1 {
		p.r[k-1][1] = num
		return
	}
	p.r = append(p.r, [2]int{num, num})
}

// String is "page 3", "pages 2-40" or "pages 1-3, 7, 9-12" (the first few ranges).
func (p *pageRanges) String() string {
	const most = 5
	var b strings.Builder
	if p.n == 1 {
		b.WriteString("page ")
	} else {
		b.WriteString("pages ")
	}
	for i, r := range p.r {
		if i == most {
			fmt.Fprintf(&b, " and %d more ranges (%d pages in all)", len(p.r)-most, p.n)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(r[0]))
		if r[1] != r[0] {
			b.WriteString("-" + strconv.Itoa(r[1]))
		}
	}
	return b.String()
}
