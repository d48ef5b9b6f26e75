package canonical_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/segpipe/segpipe/internal/canonical"
)

// docs/staging.md and the contract say the same: every canonical table, its columns in order
// and their types.
func TestStagingDocMatchesTheContract(t *testing.T) {
	b, err := os.ReadFile("../../docs/staging.md")
	if err != nil {
		t.Fatal(err)
	}
	heading := regexp.MustCompile(`^### (stg_[a-z_]+)`)
	row := regexp.MustCompile(`^\| ([a-z_]+) \| ([A-Z\[\]]+) \|`)
	doc := map[string][]string{}
	var order []string
	table := ""
	for _, line := range strings.Split(string(b), "\n") {
		if m := heading.FindStringSubmatch(line); m != nil {
			table = m[1]
			order = append(order, table)
			continue
		}
		if strings.HasPrefix(line, "## ") {
			table = ""
		}
		if m := row.FindStringSubmatch(line); m != nil && table != "" {
			doc[table] = append(doc[table], m[1]+" "+m[2])
		}
	}
	if !slices.Equal(order, canonical.Names()) {
		t.Errorf("docs/staging.md lists %v, the contract %v", order, canonical.Names())
	}
	for _, tb := range canonical.Tables {
		var want []string
		for _, c := range tb.Columns {
			want = append(want, c.Name+" "+c.Type)
		}
		if !slices.Equal(doc[tb.Name], want) {
			t.Errorf("%s: docs/staging.md has\n  %v\nthe contract\n  %v", tb.Name, doc[tb.Name], want)
		}
	}
}

// Every key column is a column of its table; every vocabulary is non-empty.
func TestContractIsWellFormed(t *testing.T) {
	for _, tb := range canonical.Tables {
		for _, k := range tb.Key {
			if _, ok := tb.Column(k); !ok {
				t.Errorf("%s: key %s is not a column", tb.Name, k)
			}
		}
		if len(tb.Required()) < len(tb.Key) {
			t.Errorf("%s: required %v misses a key column", tb.Name, tb.Required())
		}
	}
}
