package datadocs

import (
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
)

// Model is one model of the graph: a SQL file whose result is a table.
type Model struct {
	Name string
	// Layer is staging, state, intermediate or marts; marts are the published tables.
	Layer string
	// Path is the file, relative to sql/ (or the origin of a models-folder file).
	Path string
	// Refs are the models it reads.
	Refs []string
}

// Assertion is one audit query of the graph.
type Assertion struct {
	Name, Path string
	// Reads are the models it reads.
	Reads []string
}

// Site is what `segpipe docs` renders: the models and assertions one run builds, in build
// order, and the dictionary that describes the published tables.
type Site struct {
	// Config names the config the run's models were chosen by.
	Config     string
	Models     []Model
	Assertions []Assertion
	Dictionary *Dictionary
}

// Edges counts the dependencies the graph draws: a model's refs and an assertion's reads.
func (s Site) Edges() int {
	n := 0
	for _, m := range s.Models {
		n += len(m.Refs)
	}
	for _, a := range s.Assertions {
		n += len(a.Reads)
	}
	return n
}

// graph columns, left to right.
var columns = []string{"staging", "intermediate", "marts", "assertions"}

func column(layer string) int {
	switch layer {
	case "intermediate":
		return 1
	case "marts":
		return 2
	case "assertions":
		return 3
	}
	return 0 // staging and state
}

const (
	nodeW, nodeH, rowH, colW, top = 230, 18, 22, 330, 40
)

type node struct {
	Name, Layer, Href string
	X, Y              int
}

type edge struct{ D, From, To string }

type published struct {
	Model
	Doc        *Table
	Assertions []string
	ReadBy     []string
}

type page struct {
	Site
	Width, Height int
	Columns       []struct {
		Name string
		X    int
	}
	Nodes    []node
	EdgeList []edge
	Tables   []published
}

// Render writes the site as one self-contained HTML file: inline CSS, the model graph as
// inline SVG (staging, intermediate, marts, assertions, an edge per dependency) and a
// section per published table with its grain, key, columns, upstream models and the
// assertions that read it. It references nothing outside the file.
func Render(w io.Writer, s Site) error {
	p := page{Site: s}
	pos := map[string]node{}
	count := make([]int, len(columns))
	add := func(name, layer, href string) error {
		if _, dup := pos[name]; dup {
			return fmt.Errorf("docs: %s is in the graph twice", name)
		}
		c := column(layer)
		n := node{Name: name, Layer: layer, Href: href, X: 10 + c*colW, Y: top + count[c]*rowH}
		count[c]++
		pos[name] = n
		p.Nodes = append(p.Nodes, n)
		return nil
	}
	readBy := map[string][]string{}
	for _, m := range s.Models {
		href := ""
		if m.Layer == "marts" {
			href = "#table-" + m.Name
		}
		if err := add(m.Name, m.Layer, href); err != nil {
			return err
		}
		for _, r := range m.Refs {
			readBy[r] = append(readBy[r], m.Name)
		}
	}
	guards := map[string][]string{}
	for _, a := range s.Assertions {
		if err := add(a.Name, "assertions", "#assertion-"+a.Name); err != nil {
			return err
		}
		for _, r := range a.Reads {
			guards[r] = append(guards[r], a.Name)
		}
	}
	edgeTo := func(from, to string) error {
		f, ok := pos[from]
		if !ok {
			return fmt.Errorf("docs: %s reads %s, which is not a model of the run", to, from)
		}
		t := pos[to]
		x1, y1, x2, y2 := f.X+nodeW, f.Y+nodeH/2, t.X, t.Y+nodeH/2
		if x2 <= x1 { // same column: loop out to the right
			x2 = t.X + nodeW
			d := fmt.Sprintf("M%d,%d C%d,%d %d,%d %d,%d", x1, y1, x1+40, y1, x2+40, y2, x2, y2)
			p.EdgeList = append(p.EdgeList, edge{D: d, From: from, To: to})
			return nil
		}
		mid := (x1 + x2) / 2
		d := fmt.Sprintf("M%d,%d C%d,%d %d,%d %d,%d", x1, y1, mid, y1, mid, y2, x2, y2)
		p.EdgeList = append(p.EdgeList, edge{D: d, From: from, To: to})
		return nil
	}
	for _, m := range s.Models {
		for _, r := range m.Refs {
			if err := edgeTo(r, m.Name); err != nil {
				return err
			}
		}
	}
	for _, a := range s.Assertions {
		for _, r := range a.Reads {
			if err := edgeTo(r, a.Name); err != nil {
				return err
			}
		}
	}
	p.Width = 20 + len(columns)*colW
	p.Height = top + slices.Max(count)*rowH + 10
	for i, c := range columns {
		p.Columns = append(p.Columns, struct {
			Name string
			X    int
		}{c, 10 + i*colW})
	}
	for _, m := range s.Models {
		if m.Layer != "marts" {
			continue
		}
		t := published{Model: m, Assertions: guards[m.Name], ReadBy: readBy[m.Name]}
		if s.Dictionary != nil {
			t.Doc, _ = s.Dictionary.Table(m.Name)
		}
		p.Tables = append(p.Tables, t)
	}
	return siteTemplate.Execute(w, p)
}

var siteTemplate = template.Must(template.New("site").Funcs(template.FuncMap{
	"plain": Plain,
	"join":  func(s []string) string { return strings.Join(s, ", ") },
	"half":  func(n int) int { return n + nodeH/2 + 4 },
	"textx": func(n int) int { return n + 6 },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>segpipe data docs</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em; color: #222; }
p, ul { max-width: 60em; }
h1, h2, h3 { font-weight: 600; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { border: 1px solid #ccc; padding: .2em .5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
code { font-family: ui-monospace, monospace; font-size: 92%; }
.graph { overflow-x: auto; border: 1px solid #ddd; }
svg text { font: 11px ui-monospace, monospace; }
svg .edge { fill: none; stroke: #999; stroke-opacity: .45; }
svg .node rect { stroke: #555; rx: 3; }
svg .staging rect, svg .state rect { fill: #e8f1fb; }
svg .intermediate rect { fill: #eef7e8; }
svg .marts rect { fill: #fff3d6; }
svg .assertions rect { fill: #f9e3e3; }
svg .column { font-weight: bold; font-size: 13px; }
.muted { color: #777; }
</style>
</head>
<body>
<h1>segpipe data docs</h1>
<p>The models a segment run of <code>{{.Config}}</code> builds, in dependency order, the assertions
that must pass before anything is published, and every published table with its grain, key and
columns. Column descriptions come from <code>docs/tables.md</code>, the same text the export writes
as <code>COMMENT ON</code> into <code>segments.duckdb</code>.</p>
<p>{{len .Models}} models, {{len .Assertions}} assertions, {{.Edges}} dependencies.</p>

<h2 id="graph">Model graph</h2>
<div class="graph">
<svg width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-label="model graph">
{{range .Columns}}<text class="column" x="{{.X}}" y="20">{{.Name}}</text>
{{end}}{{range .EdgeList}}<path class="edge" d="{{.D}}" data-from="{{.From}}" data-to="{{.To}}"><title>{{.From}} → {{.To}}</title></path>
{{end}}{{range .Nodes}}<g class="node {{.Layer}}" id="node-{{.Name}}">{{if .Href}}<a href="{{.Href}}">{{end}}<rect x="{{.X}}" y="{{.Y}}" width="230" height="18"></rect><text x="{{textx .X}}" y="{{half .Y}}">{{.Name}}</text>{{if .Href}}</a>{{end}}</g>
{{end}}</svg>
</div>

<h2 id="tables">Published tables</h2>
<ul>{{range .Tables}}<li><a href="#table-{{.Name}}">{{.Name}}</a></li>{{end}}</ul>
{{range .Tables}}
<section id="table-{{.Name}}" class="table">
<h3>{{.Name}}</h3>
<p class="muted">sql/{{.Path}}</p>
{{if .Doc}}<p><strong>Grain:</strong> {{plain .Doc.Grain}}</p>
<p class="key"><strong>Key:</strong> {{range $i, $k := .Doc.Key}}{{if $i}}, {{end}}<code>{{$k}}</code>{{end}}{{if .Doc.Surrogate}}; <code>row_key</code> is its surrogate (the MD5 of the key columns as JSON, one id to upsert by){{end}}</p>
<table>
<tr><th>column</th><th>type</th><th>description</th></tr>
{{range .Doc.Columns}}<tr class="column"><td><code>{{.Name}}</code></td><td>{{.Type}}</td><td>{{.Description}}</td></tr>
{{end}}</table>
{{else}}<p>Not described in docs/tables.md.</p>
{{end}}<p><strong>Reads:</strong> {{if .Refs}}{{range $i, $r := .Refs}}{{if $i}}, {{end}}<a href="#node-{{$r}}">{{$r}}</a>{{end}}{{else}}nothing{{end}}</p>
{{if .ReadBy}}<p><strong>Read by:</strong> {{join .ReadBy}}</p>{{end}}
<p><strong>Guarded by:</strong> {{if .Assertions}}{{range $i, $a := .Assertions}}{{if $i}}, {{end}}<a class="guard" href="#assertion-{{$a}}">{{$a}}</a>{{end}}{{else}}no assertion{{end}}</p>
</section>
{{end}}
<h2 id="assertions">Assertions</h2>
<table>
<tr><th>assertion</th><th>file</th><th>reads</th></tr>
{{range .Assertions}}<tr id="assertion-{{.Name}}"><td><code>{{.Name}}</code></td><td>{{.Path}}</td><td>{{join .Reads}}</td></tr>
{{end}}</table>
</body>
</html>
`))
