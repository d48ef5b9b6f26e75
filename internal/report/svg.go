package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// The charts are SVG written here, inline in the page: no script, no library, no network.
// Every drawn value is an element of class "mark" carrying data-series, data-key and
// data-value (the published number, unrounded), inside an <svg data-chart="<id>">, so a test
// can count the marks and check them against the tables; a <title> gives the value on hover.
// A NULL value draws no mark: the table beside the chart says "n/a".

const (
	chartWidth = 860.0
	fontSize   = 11.0
)

// series is one colour of a chart.
type series struct {
	Name  string
	Color string
}

// Colours: movements keep their meaning across charts (gains green/blue, losses orange/red).
var (
	colNew          = "#2b8a3e"
	colExpansion    = "#82c91e"
	colReactivation = "#1c7ed6"
	colContraction  = "#f59f00"
	colChurn        = "#e03131"
	colA            = "#4263eb"
	colB            = "#f08c00"
	colC            = "#12b886"
	colMuted        = "#adb5bd"
)

type svgBuf struct{ b strings.Builder }

func (s *svgBuf) f(format string, a ...any) { fmt.Fprintf(&s.b, format, a...) }

func (s *svgBuf) open(id, title string, h float64) {
	s.f(`<svg data-chart="%s" role="img" aria-label="%s" viewBox="0 0 %s %s" width="100%%" preserveAspectRatio="xMinYMin meet">`,
		esc(id), esc(title), num(chartWidth), num(h))
}

func (s *svgBuf) html() template.HTML {
	s.b.WriteString("</svg>")
	return template.HTML(s.b.String()) // #nosec: every text in it went through esc
}

func esc(s string) string { return html.EscapeString(s) }

// num writes a coordinate: two decimals are plenty at this size.
func num(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// mark writes one value's rectangle.
func (s *svgBuf) markRect(ser, key string, value, x, y, w, h float64, color, tip string) {
	s.f(`<rect class="mark" data-series="%s" data-key="%s" data-value="%s" x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s</title></rect>`,
		esc(ser), esc(key), strconv.FormatFloat(value, 'g', -1, 64), num(x), num(y), num(math.Max(w, 0)), num(math.Max(h, 0)), color, esc(tip))
}

func (s *svgBuf) text(x, y float64, anchor, class, t string) {
	s.f(`<text x="%s" y="%s" text-anchor="%s" class="%s">%s</text>`, num(x), num(y), anchor, class, esc(t))
}

// yGrid draws a horizontal grid line and a label at each tick of a vertical scale.
func (s *svgBuf) yGrid(ticks []float64, y scale, left, right float64, format func(float64) string) {
	for _, t := range ticks {
		s.f(`<line class="grid" x1="%s" x2="%s" y1="%s" y2="%s"/>`, num(left), num(chartWidth-right), num(y.at(t)), num(y.at(t)))
		s.text(left-6, y.at(t)+4, "end", "tick", format(t))
	}
}

// niceTicks returns about n round tick values covering [lo, hi].
func niceTicks(lo, hi float64, n int) []float64 {
	if math.IsNaN(lo) || math.IsNaN(hi) || lo == hi {
		if math.IsNaN(lo) || math.IsNaN(hi) {
			lo, hi = 0, 1
		} else if lo == 0 {
			hi = 1
		} else {
			lo, hi = math.Min(lo, 0), math.Max(hi, 0)
			if lo == hi {
				hi = lo + 1
			}
		}
	}
	span := hi - lo
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	start := math.Floor(lo/step) * step
	var ticks []float64
	for v := start; v <= hi+step*0.5; v += step {
		ticks = append(ticks, math.Round(v/step)*step)
		if v >= hi {
			break
		}
	}
	return ticks
}

// scale maps [d0, d1] onto [r0, r1].
type scale struct{ d0, d1, r0, r1 float64 }

func (s scale) at(v float64) float64 {
	if s.d1 == s.d0 {
		return s.r0
	}
	return s.r0 + (v-s.d0)/(s.d1-s.d0)*(s.r1-s.r0)
}

// columnChart is vertical bars per category: grouped side by side, or stacked (negative
// values below the axis). Values[s][c] is series s at category c; NaN draws nothing.
type columnChart struct {
	ID, Title  string
	Categories []string
	Series     []series
	Values     [][]float64
	Stacked    bool
	// Below lists series drawn downwards from the axis (churn, contraction): their published
	// values are positive amounts lost.
	Below  map[string]bool
	Format func(float64) string
	Height float64
}

func (c columnChart) svg() template.HTML {
	h := c.Height
	if h == 0 {
		h = 280
	}
	const left, right, top, bottom = 70.0, 28.0, 12.0, 46.0
	signed := func(si int, v float64) float64 {
		if c.Below[c.Series[si].Name] {
			return -v
		}
		return v
	}
	lo, hi := 0.0, 0.0
	for ci := range c.Categories {
		pos, neg := 0.0, 0.0
		for si := range c.Series {
			v := c.Values[si][ci]
			if math.IsNaN(v) {
				continue
			}
			v = signed(si, v)
			if c.Stacked {
				if v >= 0 {
					pos += v
				} else {
					neg += v
				}
			} else {
				pos, neg = math.Max(pos, v), math.Min(neg, v)
			}
		}
		hi, lo = math.Max(hi, pos), math.Min(lo, neg)
	}
	ticks := niceTicks(lo, hi, 5)
	y := scale{ticks[0], ticks[len(ticks)-1], h - bottom, top}
	var s svgBuf
	s.open(c.ID, c.Title, h)
	s.yGrid(ticks, y, left, right, c.Format)
	band := (chartWidth - left - right) / float64(max(len(c.Categories), 1))
	every := 1 + len(c.Categories)*44/int(chartWidth-left-right)
	for ci, cat := range c.Categories {
		x0 := left + float64(ci)*band
		pos, neg := 0.0, 0.0
		for si, ser := range c.Series {
			v := c.Values[si][ci]
			if math.IsNaN(v) {
				continue
			}
			sv := signed(si, v)
			tip := fmt.Sprintf("%s · %s: %s", cat, ser.Name, c.Format(v))
			if c.Stacked {
				w := band * 0.75
				var a, b float64
				if sv >= 0 {
					a, b = pos, pos+sv
					pos = b
				} else {
					a, b = neg+sv, neg
					neg = a
				}
				s.markRect(ser.Name, cat, v, x0+band*0.125, y.at(b), w, y.at(a)-y.at(b), ser.Color, tip)
			} else {
				w := band * 0.8 / float64(len(c.Series))
				a, b := math.Min(0, sv), math.Max(0, sv)
				s.markRect(ser.Name, cat, v, x0+band*0.1+float64(si)*w, y.at(b), w*0.92, y.at(a)-y.at(b), ser.Color, tip)
			}
		}
		if ci%every == 0 {
			s.text(x0+band/2, h-bottom+16, "middle", "tick", cat)
		}
	}
	s.f(`<line class="axis" x1="%s" x2="%s" y1="%s" y2="%s"/>`, num(left), num(chartWidth-right), num(y.at(0)), num(y.at(0)))
	return s.html()
}

// barChart is horizontal bars, one row per label, series side by side in the row.
type barChart struct {
	ID, Title string
	Labels    []string
	Series    []series
	Values    [][]float64
	Format    func(float64) string
	// Ref draws a dashed reference line at that value (lift 1: as common as in the base).
	Ref      float64
	RefLabel string
	// Faint marks rows drawn lighter (a profile value that is not a trait).
	Faint []bool
}

func (c barChart) svg() template.HTML {
	const left, right, top, bottom = 190.0, 60.0, 8.0, 30.0
	rowH := 10.0 + 9.0*float64(len(c.Series))
	h := top + bottom + rowH*float64(len(c.Labels))
	lo, hi := 0.0, 0.0
	for si := range c.Series {
		for _, v := range c.Values[si] {
			if !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if c.RefLabel != "" {
		hi = math.Max(hi, c.Ref)
	}
	ticks := niceTicks(lo, hi, 5)
	x := scale{ticks[0], ticks[len(ticks)-1], left, chartWidth - right}
	var s svgBuf
	s.open(c.ID, c.Title, h)
	for _, t := range ticks {
		s.f(`<line class="grid" x1="%s" x2="%s" y1="%s" y2="%s"/>`, num(x.at(t)), num(x.at(t)), num(top), num(h-bottom))
		s.text(x.at(t), h-bottom+14, "middle", "tick", c.Format(t))
	}
	for li, label := range c.Labels {
		y0 := top + float64(li)*rowH
		s.text(left-6, y0+rowH/2+4, "end", "label", label)
		barH := (rowH - 8) / float64(len(c.Series))
		for si, ser := range c.Series {
			v := c.Values[si][li]
			if math.IsNaN(v) {
				continue
			}
			color := ser.Color
			if li < len(c.Faint) && c.Faint[li] {
				color = colMuted
			}
			a, b := math.Min(0, v), math.Max(0, v)
			yy := y0 + 4 + float64(si)*barH
			s.markRect(ser.Name, label, v, x.at(a), yy, x.at(b)-x.at(a), barH*0.9, color, fmt.Sprintf("%s · %s: %s", label, ser.Name, c.Format(v)))
			s.text(x.at(b)+4, yy+barH*0.9-1, "start", "value", c.Format(v))
		}
	}
	if c.RefLabel != "" {
		s.f(`<line class="ref" x1="%s" x2="%s" y1="%s" y2="%s"/>`, num(x.at(c.Ref)), num(x.at(c.Ref)), num(top), num(h-bottom))
		s.text(x.at(c.Ref)+3, h-bottom+26, "start", "tick", c.RefLabel)
	}
	s.f(`<line class="axis" x1="%s" x2="%s" y1="%s" y2="%s"/>`, num(x.at(0)), num(x.at(0)), num(top), num(h-bottom))
	return s.html()
}

// lineChart is one series over categories: a line with a dot (the mark) per value.
type lineChart struct {
	ID, Title  string
	Categories []string
	Series     series
	Values     []float64
	Format     func(float64) string
}

func (c lineChart) svg() template.HTML {
	const h, left, right, top, bottom = 240.0, 70.0, 28.0, 12.0, 40.0
	hi := 0.0
	for _, v := range c.Values {
		if !math.IsNaN(v) {
			hi = math.Max(hi, v)
		}
	}
	ticks := niceTicks(0, hi, 5)
	y := scale{ticks[0], ticks[len(ticks)-1], h - bottom, top}
	n := max(len(c.Categories), 1)
	band := (chartWidth - left - right) / float64(n)
	var s svgBuf
	s.open(c.ID, c.Title, h)
	s.yGrid(ticks, y, left, right, c.Format)
	var path strings.Builder
	every := 1 + len(c.Categories)*44/int(chartWidth-left-right)
	for i, v := range c.Values {
		if math.IsNaN(v) {
			continue
		}
		cmd := "L"
		if path.Len() == 0 {
			cmd = "M"
		}
		fmt.Fprintf(&path, "%s%s %s ", cmd, num(left+band*(float64(i)+0.5)), num(y.at(v)))
	}
	s.f(`<path class="line" d="%s" stroke="%s"/>`, strings.TrimSpace(path.String()), c.Series.Color)
	for i, v := range c.Values {
		cx := left + band*(float64(i)+0.5)
		if i%every == 0 {
			s.text(cx, h-bottom+16, "middle", "tick", c.Categories[i])
		}
		if math.IsNaN(v) {
			continue
		}
		s.f(`<circle class="mark" data-series="%s" data-key="%s" data-value="%s" cx="%s" cy="%s" r="2.6" fill="%s"><title>%s</title></circle>`,
			esc(c.Series.Name), esc(c.Categories[i]), strconv.FormatFloat(v, 'g', -1, 64), num(cx), num(y.at(v)), c.Series.Color,
			esc(fmt.Sprintf("%s · %s: %s", c.Categories[i], c.Series.Name, c.Format(v))))
	}
	return s.html()
}

// step is one bar of a waterfall: a total (from zero) or a movement from the running level.
type step struct {
	Label string
	Value float64
	Total bool
	Down  bool // a loss: drawn downwards, Value is the positive amount
	Color string
}

func waterfall(id, title string, steps []step, format func(float64) string) template.HTML {
	const h, left, right, top, bottom = 260.0, 70.0, 10.0, 12.0, 40.0
	level, hi := 0.0, 0.0
	for _, st := range steps {
		switch {
		case st.Total:
			level = st.Value
		case st.Down:
			level -= st.Value
		default:
			level += st.Value
		}
		hi = math.Max(hi, math.Max(level, st.Value))
	}
	ticks := niceTicks(0, hi, 5)
	y := scale{ticks[0], ticks[len(ticks)-1], h - bottom, top}
	band := (chartWidth - left - right) / float64(max(len(steps), 1))
	var s svgBuf
	s.open(id, title, h)
	s.yGrid(ticks, y, left, right, format)
	level = 0
	for i, st := range steps {
		var a, b float64
		switch {
		case st.Total:
			a, b, level = 0, st.Value, st.Value
		case st.Down:
			a, b = level-st.Value, level
			level = a
		default:
			a, b = level, level+st.Value
			level = b
		}
		x0 := left + float64(i)*band
		sign := ""
		if !st.Total {
			sign = map[bool]string{true: "−", false: "+"}[st.Down]
		}
		s.markRect("bridge", st.Label, st.Value, x0+band*0.15, y.at(b), band*0.7, y.at(a)-y.at(b), st.Color, st.Label+": "+sign+format(st.Value))
		s.text(x0+band/2, y.at(b)-4, "middle", "value", sign+format(st.Value))
		s.text(x0+band/2, h-bottom+16, "middle", "tick", st.Label)
	}
	return s.html()
}

// heatmap is a grid of cells: rows × columns, coloured by value (or by Colors when set).
type heatmap struct {
	ID, Title string
	Rows      []string
	Cols      []string
	Values    [][]float64 // [row][col]; NaN: no cell
	Colors    [][]string  // optional: a colour per cell instead of the scale
	Labels    [][]string  // optional: text drawn in the cell
	Max       float64     // the value drawn darkest (values above are as dark)
	// Pivot, when above 0, splits the scale: values below it in orange (darker further
	// below), values from it up in blue (darker towards Max). Net revenue retention pivots
	// at 1: under 100% the cohort shrank.
	Pivot  float64
	Format func(float64) string
	CellH  float64
	Series string
}

func (c heatmap) svg() template.HTML {
	cellH := c.CellH
	if cellH == 0 {
		cellH = 14
	}
	const left, right, top = 110.0, 10.0, 22.0
	cellW := (chartWidth - left - right) / float64(max(len(c.Cols), 1))
	h := top + cellH*float64(len(c.Rows)) + 6
	var s svgBuf
	s.open(c.ID, c.Title, h)
	every := 1 + len(c.Cols)*28/int(chartWidth-left-right)
	for ci, col := range c.Cols {
		if ci%every == 0 {
			s.text(left+cellW*(float64(ci)+0.5), top-8, "middle", "tick", col)
		}
	}
	for ri, row := range c.Rows {
		y0 := top + float64(ri)*cellH
		s.text(left-6, y0+cellH/2+4, "end", "label", row)
		for ci, col := range c.Cols {
			v := c.Values[ri][ci]
			color := ""
			if c.Colors != nil {
				color = c.Colors[ri][ci]
			}
			if math.IsNaN(v) {
				if color != "" && c.Labels != nil && c.Labels[ri][ci] != "" {
					// A verdict without a value (no effect size): the cell, but no mark.
					s.f(`<rect class="nomark" x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s</title></rect>`, num(left+float64(ci)*cellW+0.5), num(y0+0.5), num(cellW-1), num(cellH-1), color, esc(row+" · "+col+": "+c.Labels[ri][ci]))
					s.text(left+cellW*(float64(ci)+0.5), y0+cellH/2+4, "middle", "cell", c.Labels[ri][ci])
				}
				continue
			}
			if color == "" {
				switch {
				case c.Pivot > 0 && v < c.Pivot:
					color = rampBetween([3]float64{0xff, 0xf4, 0xe6}, [3]float64{0xe8, 0x59, 0x0c}, (c.Pivot-v)/c.Pivot)
				case c.Pivot > 0:
					color = rampBetween([3]float64{0xe7, 0xf5, 0xff}, [3]float64{0x18, 0x64, 0xab}, (v-c.Pivot)/math.Max(c.Max-c.Pivot, 1e-9))
				default:
					color = ramp(v / c.Max)
				}
			}
			s.markRect(c.Series, row+" · "+col, v, left+float64(ci)*cellW+0.5, y0+0.5, cellW-1, cellH-1, color, fmt.Sprintf("%s · %s: %s", row, col, c.Format(v)))
			if c.Labels != nil && c.Labels[ri][ci] != "" {
				s.text(left+cellW*(float64(ci)+0.5), y0+cellH/2+4, "middle", "cell", c.Labels[ri][ci])
			}
		}
	}
	return s.html()
}

// ramp maps t in [0, 1] from a pale grey-blue to a deep blue.
func ramp(t float64) string {
	return rampBetween([3]float64{0xf1, 0xf3, 0xf5}, [3]float64{0x18, 0x64, 0xab}, t)
}

// rampBetween mixes from and to, t in [0, 1].
func rampBetween(from, to [3]float64, t float64) string {
	t = math.Max(0, math.Min(1, t))
	var c [3]int
	for i := range c {
		c[i] = int(math.Round(from[i] + (to[i]-from[i])*t))
	}
	return fmt.Sprintf("#%02x%02x%02x", c[0], c[1], c[2])
}

// tierRow is one level of the tier pyramid.
type tierRow struct {
	Label          string
	Share          float64 // share of customers
	TargetMin      float64 // NaN: no target
	TargetMax      float64
	Text           string
	Color          string
	Key            string
	CustomersShare float64
}

// pyramid draws the tiers as centred bars, widest at the bottom when the shares follow the
// targets, each with its target range as a dashed outline; the tier's name on the left, its
// figures on the right.
func pyramid(id, title string, rows []tierRow) template.HTML {
	const rowH, top, mid, half, labelX, textX = 44.0, 8.0, 330.0, 150.0, 160.0, 500.0
	h := top*2 + rowH*float64(len(rows))
	var s svgBuf
	s.open(id, title, h)
	for i, r := range rows {
		y0 := top + float64(i)*rowH
		if !math.IsNaN(r.TargetMin) {
			a, b := half*r.TargetMin, half*r.TargetMax
			if math.IsNaN(r.TargetMax) {
				b = half
			}
			s.f(`<rect class="target" x="%s" y="%s" width="%s" height="%s"/>`, num(mid-b), num(y0+3), num(2*b), num(rowH-6))
			if a > 0 {
				s.f(`<rect class="target inner" x="%s" y="%s" width="%s" height="%s"/>`, num(mid-a), num(y0+3), num(2*a), num(rowH-6))
			}
		}
		if !math.IsNaN(r.Share) {
			w := half * r.Share
			s.markRect("share_of_customers", r.Key, r.Share, mid-w, y0+8, 2*w, rowH-16, r.Color, r.Label+": "+r.Text)
		}
		s.text(labelX, y0+rowH/2+4, "end", "label", r.Label)
		s.text(textX, y0+rowH/2+4, "start", "label", r.Text)
	}
	return s.html()
}
