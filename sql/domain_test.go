package sql_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	segsql "github.com/segpipe/segpipe/sql"
)

var (
	domainHeading = regexp.MustCompile(`(?m)^## (\d+)\. (\S.*)$`)
	sectionSign   = regexp.MustCompile(`§(\d+)`)
	// The form docs/domain.md itself replaced: "domain.md section 4", "(section 11)".
	oldSection = regexp.MustCompile(`\bsections? \d`)
	// A citation in the other docs: "domain.md section 11", "domain.md sections 5, 8 and 11",
	// "domain.md §7".
	docCitation = regexp.MustCompile(`(?i)domain\.md,? (?:sections? |§)(\d+(?:(?:, | and )§?\d+)*)`)
)

// domainSections reads the numbered headings of docs/domain.md ("## 4. Behavioural segments").
func domainSections(t *testing.T) map[int]string {
	t.Helper()
	doc, err := os.ReadFile("../docs/domain.md")
	if err != nil {
		t.Fatal(err)
	}
	sections := map[int]string{}
	for _, m := range domainHeading.FindAllStringSubmatch(string(doc), -1) {
		n, _ := strconv.Atoi(m[1])
		if other, dup := sections[n]; dup {
			t.Errorf("docs/domain.md has two sections %d: %q and %q", n, other, m[2])
		}
		sections[n] = m[2]
	}
	if len(sections) < 10 {
		t.Fatalf("docs/domain.md: read only %d numbered sections", len(sections))
	}
	return sections
}

// Every SQL file cites docs/domain.md in one form, "docs/domain.md §N" (a bare "§N" within a
// file), and every section it cites is a heading of docs/domain.md.
func TestSQLCitesDomainSections(t *testing.T) {
	sections := domainSections(t)
	citations, files := 0, 0
	err := fs.WalkDir(segsql.Files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".sql") {
			return err
		}
		b, err := fs.ReadFile(segsql.Files, path)
		if err != nil {
			return err
		}
		text := string(b)
		cites := false
		for i, line := range strings.Split(text, "\n") {
			where := path + ":" + strconv.Itoa(i+1)
			for _, m := range sectionSign.FindAllStringSubmatch(line, -1) {
				n, _ := strconv.Atoi(m[1])
				if _, ok := sections[n]; !ok {
					t.Errorf("%s cites §%d, which docs/domain.md does not have: %s", where, n, strings.TrimSpace(line))
				}
				citations++
				cites = true
			}
			if strings.HasPrefix(strings.TrimSpace(line), "--") && oldSection.MatchString(line) {
				t.Errorf("%s: cite a section as §N (docs/domain.md §N), not %q", where, oldSection.FindString(line))
			}
		}
		for _, loc := range regexp.MustCompile(`domain\.md`).FindAllStringIndex(text, -1) {
			before, after := text[:loc[0]], text[loc[1]:]
			after = strings.TrimLeft(after, " \n")
			after = strings.TrimLeft(strings.TrimPrefix(after, "--"), " ")
			if !strings.HasSuffix(before, "docs/") || !strings.HasPrefix(after, "§") {
				line := strings.Count(before, "\n") + 1
				t.Errorf("%s:%d: cite docs/domain.md as \"docs/domain.md §N\"", path, line)
			}
		}
		if cites {
			files++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if citations == 0 || files < 50 {
		t.Fatalf("found %d citations in %d SQL files: the walk read too little", citations, files)
	}
}

// The other docs cite docs/domain.md by section number ("domain.md section 11", "domain.md
// sections 5, 8 and 11"): each number is a section of it.
func TestDocsCiteDomainSections(t *testing.T) {
	sections := domainSections(t)
	paths, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, p := range paths {
		if filepath.Base(p) == "domain.md" {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, m := range docCitation.FindAllStringSubmatch(line, -1) {
				for _, num := range regexp.MustCompile(`\d+`).FindAllString(m[1], -1) {
					n, _ := strconv.Atoi(num)
					found++
					if _, ok := sections[n]; !ok {
						t.Errorf("%s:%d cites domain.md section %d, which it does not have", filepath.Base(p), i+1, n)
					}
				}
			}
		}
	}
	if found == 0 {
		t.Fatal("found no citation of domain.md in docs/")
	}
}
