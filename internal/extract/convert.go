package extract

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/segpipe/segpipe/internal/config"
)

// rowConverter turns one entity's records, JSON objects or CSV rows, into typed cells and
// appends them with the lineage columns to an Arrow record batch. It knows the entity's
// columns and nothing of how pages are fetched, where batches go or a landing's lifecycle
// (extract.go). It also counts which records carry each column's field (shape.go).
//
// A record is converted into cells (convert), then either appended (appendRow) or rejected
// with the reason convert gave; the cells stay readable until the next convert.
type rowConverter struct {
	csv    bool
	runID  string
	schema *arrow.Schema
	names  []string
	kinds  []colKind
	// layouts read the text of timestamp and date columns configured with a layout or zone
	// (nil for the default RFC 3339 / YYYY-MM-DD reading).
	layouts   []*timeLayout
	jsonTop   map[string][]fieldRef // a JSON record's top-level key → the columns read through it
	csvCols   map[string][]int      // a CSV header name → the columns read from it
	pk        int
	cursorCol int // the incremental cursor column's index; -1 when the entity has none

	shape *shape

	rb      *array.RecordBuilder
	pending int // rows appended since the last batch

	// Scratch space reused for every record. cells and absent are those of the current slot
	// (useSlot): a landing converts a run of records, each into its own slot, before it
	// lands them.
	spans    [][]byte
	absent   []bool // the column's field is not in the record (shape.go)
	cells    []cell
	slots    []convSlot
	problems []string
	csvMap   []int // CSV: column → field index in the current page's header, -1 when absent
	keyBuf   []byte
}

// convSlot holds one converted record's cells.
type convSlot struct {
	cells  []cell
	absent []bool
}

// useSlot makes slot k's cells current: convert fills them, and appendRow, cursor,
// primaryKey and version read them, until another slot is used.
func (c *rowConverter) useSlot(k int) {
	for len(c.slots) <= k {
		n := len(c.kinds)
		c.slots = append(c.slots, convSlot{cells: make([]cell, n), absent: make([]bool, n)})
	}
	c.cells, c.absent = c.slots[k].cells, c.slots[k].absent
}

// fieldRef is a column read through a top-level key of a JSON record: rest is the remaining
// dot path below that key (nil when the key holds the value itself).
type fieldRef struct {
	col  int
	rest []string
}

// newRowConverter plans the conversion of ent's records (config.PrepareEntity has checked
// ent); runID fills the _run_id column.
func newRowConverter(ent *config.Entity, runID string) (*rowConverter, error) {
	schema, err := LandedSchema(ent)
	if err != nil {
		return nil, err
	}
	n := len(ent.Columns)
	c := &rowConverter{
		csv:       ent.Format == "csv",
		runID:     runID,
		schema:    schema,
		names:     make([]string, n),
		kinds:     make([]colKind, n),
		layouts:   make([]*timeLayout, n),
		jsonTop:   make(map[string][]fieldRef, n),
		csvCols:   make(map[string][]int, n),
		pk:        -1,
		cursorCol: -1,
		shape:     newShape(ent.Columns),
		spans:     make([][]byte, n),
		absent:    make([]bool, n),
		cells:     make([]cell, n),
		csvMap:    make([]int, n),
	}
	c.slots = []convSlot{{cells: c.cells, absent: c.absent}}
	for i, col := range ent.Columns {
		c.names[i] = col.Name
		c.kinds[i], _ = kindOf(col.Type) // checked by LandedSchema
		if col.Layout != "" || col.Timezone != "" {
			tl, err := newTimeLayout(col.Layout, col.Timezone)
			if err != nil {
				return nil, fmt.Errorf("column %s: %w", col.Name, err)
			}
			c.layouts[i] = tl
		}
		field := col.Source()
		c.csvCols[field] = append(c.csvCols[field], i)
		top, rest, nested := strings.Cut(field, ".")
		ref := fieldRef{col: i}
		if nested {
			ref.rest = strings.Split(rest, ".")
		}
		c.jsonTop[top] = append(c.jsonTop[top], ref)
		if col.Name == ent.PrimaryKey {
			c.pk = i
		}
		if inc := ent.Incremental; inc != nil && col.Name == inc.CursorColumn && c.kinds[i] == kindTimestamp {
			c.cursorCol = i
		}
	}
	if c.pk < 0 {
		return nil, fmt.Errorf("primary_key %q is not one of the columns", ent.PrimaryKey)
	}
	if ent.Incremental != nil && c.cursorCol < 0 {
		return nil, fmt.Errorf("incremental cursor_column %q must name a timestamp column", ent.Incremental.CursorColumn)
	}
	c.rb = array.NewRecordBuilder(memory.DefaultAllocator, schema)
	return c, nil
}

func (c *rowConverter) release() { c.rb.Release() }

// beginPage readies the converter for pg's records: a CSV page's header says where each
// column's field is.
func (c *rowConverter) beginPage(pg *page) {
	if !c.csv {
		return
	}
	for i := range c.csvMap {
		c.csvMap[i] = -1
	}
	for h, name := range pg.header {
		for _, ci := range c.csvCols[name] {
			if c.csvMap[ci] < 0 {
				c.csvMap[ci] = h
			}
		}
	}
}

// convert fills c.cells from rec, or says why the record is rejected.
func (c *rowConverter) convert(rec rawRecord) string {
	switch {
	case rec.bad != "":
		return rec.bad
	case c.csv:
		return c.convertCSV(rec)
	}
	return c.convertJSON(rec.raw)
}

// convertJSON fills c.cells from a JSON record, or says why the record is rejected.
func (c *rowConverter) convertJSON(raw []byte) string {
	if !utf8.Valid(raw) {
		return "record is not valid UTF-8"
	}
	if raw[0] != '{' {
		return "record is not a JSON object (it is a JSON " + jsonKind(raw) + ")"
	}
	clear(c.spans)
	for i := range c.absent {
		c.absent[i] = true
	}
	eachField(raw, func(key, val []byte) {
		name, ok := keyName(key)
		if !ok {
			return
		}
		for _, ref := range c.jsonTop[string(name)] {
			if ref.rest == nil {
				c.spans[ref.col], c.absent[ref.col] = val, false
			} else {
				// nil (null) when the path is missing
				c.spans[ref.col], c.absent[ref.col] = lookupField(val, ref.rest)
			}
		}
	})
	c.problems = c.problems[:0]
	for i := range c.kinds {
		v, p := c.fromJSON(i, c.spans[i])
		if p != "" {
			c.problems = append(c.problems, "column "+c.names[i]+": "+snippet(string(c.spans[i]))+" "+p)
			continue
		}
		c.cells[i] = v
	}
	if len(c.problems) > 0 {
		return strings.Join(c.problems, "; ")
	}
	if c.cells[c.pk].null {
		if c.spans[c.pk] == nil {
			return "primary key " + c.names[c.pk] + " is missing"
		}
		return "primary key " + c.names[c.pk] + " is null or empty"
	}
	return ""
}

// convertCSV fills c.cells from a CSV row, read through c.csvMap, or says why the row is
// rejected (convert has rejected a row the decoder marked bad).
func (c *rowConverter) convertCSV(rec rawRecord) string {
	if !utf8.Valid(rec.raw) {
		return "record is not valid UTF-8"
	}
	c.problems = c.problems[:0]
	for i := range c.kinds {
		h := c.csvMap[i]
		c.absent[i] = h < 0
		if h < 0 || rec.fields[h] == "" {
			c.cells[i] = nullCell()
			continue
		}
		v, p := c.fromText(i, rec.fields[h])
		if p != "" {
			c.problems = append(c.problems, "column "+c.names[i]+": "+strconv.Quote(snippet(rec.fields[h]))+" "+p)
			continue
		}
		c.cells[i] = v
	}
	if len(c.problems) > 0 {
		return strings.Join(c.problems, "; ")
	}
	if c.cells[c.pk].null {
		if c.csvMap[c.pk] < 0 {
			return "primary key " + c.names[c.pk] + " is missing (no such column in the CSV header)"
		}
		return "primary key " + c.names[c.pk] + " is empty"
	}
	return ""
}

// fromJSON converts column i's JSON value (nil when absent or null), through the column's
// layout when it has one; a non-empty string says why it cannot.
func (c *rowConverter) fromJSON(i int, v []byte) (cell, string) {
	if tl := c.layouts[i]; tl != nil {
		return tl.fromJSON(c.kinds[i], v)
	}
	return fromJSON(c.kinds[i], v)
}

// fromText converts column i's CSV field, as fromJSON does a JSON value.
func (c *rowConverter) fromText(i int, s string) (cell, string) {
	if tl := c.layouts[i]; tl != nil {
		return tl.fromText(c.kinds[i], s)
	}
	return fromText(c.kinds[i], s)
}

// cursor is the converted record's incremental cursor, µs since the epoch; false when the
// entity has no cursor column or the record's is null.
func (c *rowConverter) cursor() (int64, bool) {
	if c.cursorCol < 0 {
		return 0, false
	}
	v := c.cells[c.cursorCol]
	return v.i, !v.null
}

// appendRow appends c.cells and the lineage columns (raw text, page, run id, fetch time) to
// the batch being built.
func (c *rowConverter) appendRow(pg *page, raw []byte) {
	for i, k := range c.kinds {
		b := c.rb.Field(i)
		v := c.cells[i]
		if v.null {
			c.shape.landedNull(i, c.absent[i])
			b.AppendNull()
			continue
		}
		switch k {
		case kindString:
			sb := b.(*array.StringBuilder)
			if v.isS {
				sb.Append(v.s)
			} else {
				sb.BinaryBuilder.Append(v.b)
			}
		case kindInt64:
			b.(*array.Int64Builder).Append(v.i)
		case kindFloat64:
			b.(*array.Float64Builder).Append(v.f)
		case kindBool:
			b.(*array.BooleanBuilder).Append(v.i == 1)
		case kindTimestamp:
			b.(*array.TimestampBuilder).Append(arrow.Timestamp(v.i))
		case kindDate:
			b.(*array.Date32Builder).Append(arrow.Date32(v.i))
		}
	}
	n := len(c.kinds)
	c.rb.Field(n).(*array.StringBuilder).BinaryBuilder.Append(raw)
	c.rb.Field(n + 1).(*array.Int32Builder).Append(int32(pg.num))
	c.rb.Field(n + 2).(*array.StringBuilder).Append(c.runID)
	c.rb.Field(n + 3).(*array.TimestampBuilder).Append(arrow.Timestamp(pg.fetchedAt.UnixMicro()))
	c.pending++
}

// batch returns the appended rows as one record batch (nil when there are none), owned by
// the caller, and readies the builders for the next.
func (c *rowConverter) batch() arrow.RecordBatch {
	rows := c.pending
	if rows == 0 {
		return nil
	}
	var dataLen []int
	for _, b := range c.rb.Fields() {
		if sb, ok := b.(*array.StringBuilder); ok {
			dataLen = append(dataLen, sb.DataLen())
		}
	}
	rec := c.rb.NewRecordBatch()
	c.pending = 0
	// The next batch is likely the size of this one: reserve room once instead of growing
	// the builders' buffers step by step.
	c.rb.Reserve(rows)
	i := 0
	for _, b := range c.rb.Fields() {
		if sb, ok := b.(*array.StringBuilder); ok {
			sb.ReserveData(dataLen[i] + dataLen[i]/4)
			i++
		}
	}
	return rec
}
