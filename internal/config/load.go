package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong with a config file, located by line and key path.
type Problem struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (p Problem) String() string {
	loc := p.File
	if p.Line > 0 {
		loc = fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	if p.Key == "" {
		return fmt.Sprintf("%s: %s", loc, p.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", loc, p.Key, p.Msg)
}

// Error lists every problem found in a config file. It is returned by Load and Parse.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return "invalid config: " + strings.Join(parts, "; ")
}

// LookupEnv finds an environment variable; os.LookupEnv is the usual one.
type LookupEnv func(name string) (string, bool)

// Load reads and validates the config file at path, expanding ${ENV} with os.LookupEnv.
func Load(path string) (*Config, error) {
	return LoadWith(path, os.LookupEnv)
}

// LoadWith is Load with a chosen environment lookup.
func LoadWith(path string, env LookupEnv) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data, env)
}

// Parse validates a config held in memory; name is used in error messages.
func Parse(name string, data []byte, env LookupEnv) (*Config, error) {
	p := &parser{file: name, env: env, lines: map[string]int{}, values: map[string]string{}}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		line := yamlErrLine(err)
		msg := "not valid YAML: " + cleanYAMLErr(err)
		// The parser may report the line before the one it choked on.
		if strings.Contains(msg, "did not find expected") {
			lines := strings.Split(string(data), "\n")
			for _, l := range []int{line, line + 1} {
				if l > 0 && l <= len(lines) && strings.Contains(lines[l-1], "${") && strings.Contains(lines[l-1], ": {") {
					msg += ` (inside { } a ${VAR} reference must be quoted: token: "${VAR}")`
					break
				}
			}
		}
		return nil, &Error{Problems: []Problem{{File: name, Line: line, Msg: msg}}}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, &Error{Problems: []Problem{{File: name, Line: 1, Msg: "the file must be a YAML mapping of keys to values"}}}
	}
	root := doc.Content[0]
	if err := applyPresets(root); err != nil {
		return nil, &Error{Problems: []Problem{{File: name, Msg: err.Error()}}}
	}
	p.walk(root, "", reflect.TypeOf(Config{}))
	if len(p.problems) > 0 {
		return nil, &Error{Problems: p.problems}
	}
	cfg := &Config{File: name}
	if err := root.Decode(cfg); err != nil {
		p.typeErrors(err)
		return nil, &Error{Problems: p.problems}
	}
	p.defaultSegments(&cfg.Segments)
	cfg.applyDefaults()
	cfg.lines = p.lines
	p.validate(cfg)
	if len(p.problems) > 0 {
		return nil, &Error{Problems: p.problems}
	}
	return cfg, nil
}

type parser struct {
	file     string
	env      LookupEnv
	lines    map[string]int    // key path -> line
	values   map[string]string // key path -> scalar value, to place type errors
	problems []Problem
}

// Problem is a problem found after loading (segpipe config check's model build), placed at
// the line of key in the config file (or of its nearest parent there).
func (c *Config) Problem(key, format string, args ...any) Problem {
	p := &parser{file: c.File, lines: c.lines}
	return Problem{File: c.File, Line: p.lineOf(key), Key: key, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) add(key, format string, args ...any) {
	p.problems = append(p.problems, Problem{File: p.file, Line: p.lineOf(key), Key: key, Msg: fmt.Sprintf(format, args...)})
}

// lineOf finds the line of key, or of its nearest parent that is in the file.
func (p *parser) lineOf(key string) int {
	for k := key; k != ""; {
		if l, ok := p.lines[k]; ok {
			return l
		}
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return 0
}

var (
	durationType = reflect.TypeOf(Duration(0))
	columnsType  = reflect.TypeOf(Columns(nil))
)

// walk records the line of every key, expands ${ENV} in scalars and reports keys the
// target type does not have.
func (p *parser) walk(n *yaml.Node, path string, t reflect.Type) {
	if path != "" {
		if _, seen := p.lines[path]; !seen {
			p.lines[path] = n.Line
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode {
		p.expand(n, path)
		p.values[path] = n.Value
		return
	}
	if n.Kind == yaml.AliasNode {
		p.add(path, "YAML aliases are not supported; write the value out")
		return
	}
	switch {
	case t == columnsType:
		if n.Kind != yaml.MappingNode {
			p.add(path, "must be a mapping of column name to type")
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			kp := join(path, k.Value)
			p.lines[kp] = k.Line
			if v.Kind == yaml.MappingNode {
				p.walk(v, kp, reflect.TypeOf(columnSpec{}))
			} else {
				p.walk(v, kp, reflect.TypeOf(""))
			}
		}
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			p.add(path, "must be a mapping")
			return
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			kp := join(path, k.Value)
			p.lines[kp] = k.Line
			ft, ok := fields[k.Value]
			if !ok {
				p.add(kp, "unknown key (known here: %s)", strings.Join(sortedKeys(fields), ", "))
				continue
			}
			p.walk(v, kp, ft)
		}
	case t.Kind() == reflect.Map:
		if n.Kind != yaml.MappingNode {
			p.add(path, "must be a mapping")
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			kp := join(path, k.Value)
			p.lines[kp] = k.Line
			p.walk(v, kp, t.Elem())
		}
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			p.add(path, "must be a list")
			return
		}
		for i, v := range n.Content {
			p.walk(v, fmt.Sprintf("%s[%d]", path, i), t.Elem())
		}
	default:
		p.add(path, "must be a single value, not a %s", kindName(n.Kind))
	}
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "value"
}

func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		out[tag] = f.Type
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var envRef = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// expand replaces ${NAME} and ${NAME:-default} in a scalar; $$ is a literal $.
func (p *parser) expand(n *yaml.Node, path string) {
	if !strings.Contains(n.Value, "$") {
		return
	}
	n.Value = envRef.ReplaceAllStringFunc(n.Value, func(m string) string {
		if m == "$$" {
			return "$"
		}
		sub := envRef.FindStringSubmatch(m)
		if v, ok := p.env(sub[1]); ok && v != "" {
			return v
		}
		if sub[2] != "" {
			return sub[3]
		}
		p.add(path, "environment variable %s is not set", sub[1])
		return ""
	})
	// A value that came from the environment is a string, whatever it looks like.
	if n.Tag == "!!null" && n.Value != "" {
		n.Tag = "!!str"
	}
}

var yamlLine = regexp.MustCompile(`line (\d+): (.*)`)

func (p *parser) typeErrors(err error) {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		// Our own UnmarshalYAML errors ("line N: ...") name a line: find its key.
		line, text := 0, cleanYAMLErr(err)
		if m := yamlLine.FindStringSubmatch(text); m != nil {
			line, _ = strconv.Atoi(m[1])
			text = m[2]
		}
		p.problems = append(p.problems, Problem{File: p.file, Line: line, Key: p.keyAt(line, text), Msg: text})
		return
	}
	for _, msg := range te.Errors {
		line, text := 0, msg
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			text = m[2]
		}
		p.problems = append(p.problems, Problem{File: p.file, Line: line, Key: p.keyAt(line, text), Msg: friendlyType(text)})
	}
}

// keyAt finds the key a type error on line is about: of the keys on that line, the one whose
// value the message quotes, else the deepest.
func (p *parser) keyAt(line int, msg string) string {
	best, quoted := "", false
	for k, l := range p.lines {
		if l != line {
			continue
		}
		v, ok := p.values[k]
		q := ok && strings.Contains(msg, "`"+v+"`")
		if (q && !quoted) || (q == quoted && (len(k) > len(best) || (len(k) == len(best) && k < best))) {
			best, quoted = k, q
		}
	}
	return best
}

func friendlyType(s string) string {
	s = strings.Replace(s, "cannot unmarshal !!str", "cannot read the text", 1)
	s = strings.Replace(s, "cannot unmarshal !!seq", "cannot read a list", 1)
	s = strings.Replace(s, "cannot unmarshal !!map", "cannot read a mapping", 1)
	s = strings.Replace(s, "float64", "a number", 1)
	s = strings.Replace(s, "into int", "as a whole number", 1)
	s = strings.Replace(s, "into bool", "as true or false", 1)
	return s
}

func cleanYAMLErr(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "yaml: ")
	return s
}

func yamlErrLine(err error) int {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		l, _ := strconv.Atoi(m[1])
		return l
	}
	return 0
}

// UnmarshalYAML reads "30s"-style durations.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 30s or 2m", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as text.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// columnSpec is the long form of a column: name: {type: T, field: path}.
type columnSpec struct {
	Type     string `yaml:"type"`
	Field    string `yaml:"field"`
	Optional bool   `yaml:"optional"`
	Layout   string `yaml:"layout"`
	Timezone string `yaml:"timezone"`
}

// UnmarshalYAML reads a mapping: a bare string names the landed column.
func (m *Mapping) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*m = Mapping{Column: n.Value, Line: n.Line}
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a mapping is a column name or {column: ..., ...}", n.Line)
	}
	type plain Mapping
	var v plain
	if err := n.Decode(&v); err != nil {
		return err
	}
	*m = Mapping(v)
	m.Line = n.Line
	return nil
}

// UnmarshalYAML reads columns from a mapping name: type (or name: {type, field}), keeping
// their order.
func (c *Columns) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: columns must be a mapping of name to type", n.Line)
	}
	out := make(Columns, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		col := Column{Name: n.Content[i].Value}
		v := n.Content[i+1]
		if v.Kind == yaml.MappingNode {
			var spec columnSpec
			if err := v.Decode(&spec); err != nil {
				return err
			}
			col.Type, col.Field, col.Optional = spec.Type, spec.Field, spec.Optional
			col.Layout, col.Timezone = spec.Layout, spec.Timezone
		} else {
			col.Type = v.Value
		}
		out = append(out, col)
	}
	*c = out
	return nil
}

// MarshalYAML writes columns back as an ordered mapping.
func (c Columns) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, col := range c {
		var v *yaml.Node
		if col.Field == "" && !col.Optional && col.Layout == "" && col.Timezone == "" {
			v = &yaml.Node{Kind: yaml.ScalarNode, Value: col.Type}
		} else {
			v = &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
				{Kind: yaml.ScalarNode, Value: "type"}, {Kind: yaml.ScalarNode, Value: col.Type},
			}}
			if col.Field != "" {
				v.Content = append(v.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "field"}, &yaml.Node{Kind: yaml.ScalarNode, Value: col.Field})
			}
			if col.Optional {
				v.Content = append(v.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "optional"}, &yaml.Node{Kind: yaml.ScalarNode, Value: "true", Tag: "!!bool"})
			}
			if col.Layout != "" {
				v.Content = append(v.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "layout"}, &yaml.Node{Kind: yaml.ScalarNode, Value: col.Layout, Style: yaml.DoubleQuotedStyle})
			}
			if col.Timezone != "" {
				v.Content = append(v.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "timezone"}, &yaml.Node{Kind: yaml.ScalarNode, Value: col.Timezone})
			}
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: col.Name}, v)
	}
	return n, nil
}
