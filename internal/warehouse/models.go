package warehouse

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
)

// Layer is a stage of models, run in this order: staging, intermediate, marts.
type Layer string

// The model layers, in run order.
const (
	Staging      Layer = "staging"
	Intermediate Layer = "intermediate"
	Marts        Layer = "marts"
)

var layerRank = map[Layer]int{Staging: 0, Intermediate: 1, Marts: 2}

// Model is one SQL file: a single SELECT whose result becomes a table named after the file.
type Model struct {
	Name  string
	Layer Layer
	Path  string
	SQL   string
	// Refs are the other models this one reads.
	Refs []string
}

// Assertion is one file of tests/: a SELECT that returns the rows breaking a rule.
type Assertion struct {
	Name string
	Path string
	SQL  string
}

var (
	modelName    = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	lineComment  = regexp.MustCompile(`--[^\n]*`)
	blockComment = regexp.MustCompile(`(?s)/\*.*?\*/`)
	word         = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
)

// StripComments removes SQL comments (used to find references and to check a body).
func StripComments(s string) string {
	return lineComment.ReplaceAllString(blockComment.ReplaceAllString(s, " "), " ")
}

// LoadModels reads staging/, intermediate/ and marts/ from fsys and returns the models in an
// order that runs every model after the ones it reads (and every layer after the one before).
func LoadModels(fsys fs.FS) ([]Model, error) {
	var models []Model
	byName := map[string]*Model{}
	for _, layer := range []Layer{Staging, Intermediate, Marts} {
		files, err := fs.Glob(fsys, string(layer)+"/*.sql")
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			b, err := fs.ReadFile(fsys, f)
			if err != nil {
				return nil, fmt.Errorf("read model %s: %w", f, err)
			}
			name := strings.TrimSuffix(path.Base(f), ".sql")
			if !modelName.MatchString(name) {
				return nil, fmt.Errorf("model %s: file names are lower-case identifiers", f)
			}
			if _, dup := byName[name]; dup {
				return nil, fmt.Errorf("model %s: a model named %s already exists", f, name)
			}
			body := strings.TrimSpace(string(b))
			if strings.TrimSpace(StripComments(body)) == "" {
				return nil, fmt.Errorf("model %s is empty", f)
			}
			models = append(models, Model{Name: name, Layer: layer, Path: f, SQL: strings.TrimRight(body, "; \n\t")})
			byName[name] = &models[len(models)-1]
		}
	}
	for i := range models {
		m := &models[i]
		seen := map[string]bool{}
		for _, w := range word.FindAllString(StripComments(m.SQL), -1) {
			w = strings.ToLower(w)
			dep, ok := byName[w]
			if !ok || w == m.Name || seen[w] {
				continue
			}
			seen[w] = true
			if layerRank[dep.Layer] > layerRank[m.Layer] {
				return nil, fmt.Errorf("model %s (%s) reads %s from the later layer %s", m.Path, m.Layer, dep.Name, dep.Layer)
			}
			m.Refs = append(m.Refs, w)
		}
		sort.Strings(m.Refs)
	}
	return order(models)
}

// order sorts models topologically; ties go by layer then name, so runs are reproducible.
func order(models []Model) ([]Model, error) {
	idx := map[string]int{}
	for i, m := range models {
		idx[m.Name] = i
	}
	done := make([]bool, len(models))
	var out []Model
	for len(out) < len(models) {
		next := -1
		for i, m := range models {
			if done[i] {
				continue
			}
			ready := true
			for _, r := range m.Refs {
				if !done[idx[r]] {
					ready = false
					break
				}
			}
			if ready && (next < 0 || less(m, models[next])) {
				next = i
			}
		}
		if next < 0 {
			var stuck []string
			for i, m := range models {
				if !done[i] {
					stuck = append(stuck, m.Name)
				}
			}
			return nil, fmt.Errorf("models read each other in a cycle: %s", strings.Join(stuck, ", "))
		}
		done[next] = true
		out = append(out, models[next])
	}
	return out, nil
}

func less(a, b Model) bool {
	if layerRank[a.Layer] != layerRank[b.Layer] {
		return layerRank[a.Layer] < layerRank[b.Layer]
	}
	return a.Name < b.Name
}

// LoadAssertions reads tests/*.sql from fsys, in name order.
func LoadAssertions(fsys fs.FS) ([]Assertion, error) {
	files, err := fs.Glob(fsys, "tests/*.sql")
	if err != nil {
		return nil, err
	}
	var out []Assertion
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("read assertion %s: %w", f, err)
		}
		name := strings.TrimSuffix(path.Base(f), ".sql")
		if !strings.HasPrefix(name, "assert_") {
			return nil, fmt.Errorf("assertion %s: names start with assert_", f)
		}
		out = append(out, Assertion{Name: name, Path: f, SQL: strings.TrimRight(strings.TrimSpace(string(b)), "; \n\t")})
	}
	return out, nil
}
