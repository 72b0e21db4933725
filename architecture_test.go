package refhub_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// codeSpan is a `…` span of a Markdown page.
var codeSpan = regexp.MustCompile("`([^`]+)`")

// goRef is a span naming a Go file, and optionally a function or method of
// it: `app/ingest/webhook.go` or `app/ingest/webhook.go:Receive`.
var goRef = regexp.MustCompile(`^([\w./-]+\.go)(?::(\w+))?$`)

// folderRef is a span naming a folder of the repository: `app/queue`.
var folderRef = regexp.MustCompile(`^[a-z][\w-]*(/[\w-]+)+/?$`)

// TestArchitectureDocNamesWhatExists: every file, function and folder
// docs/ARCHITECTURE.md names exists (a function in the very file named), and
// every package of its rooms table is a folder: the map a newcomer reads
// stays the map of the code.
func TestArchitectureDocNamesWhatExists(t *testing.T) {
	raw, err := os.ReadFile("docs/ARCHITECTURE.md")
	require.NoError(t, err)
	doc := string(raw)
	files, funcs, folders := 0, 0, 0
	for _, m := range codeSpan.FindAllStringSubmatch(doc, -1) {
		span := m[1]
		switch {
		case goRef.MatchString(span):
			ref := goRef.FindStringSubmatch(span)
			files++
			if !assert.FileExists(t, ref[1], "docs/ARCHITECTURE.md names %s", span) || ref[2] == "" {
				continue
			}
			funcs++
			assert.True(t, declaresFunc(t, ref[1], ref[2]), "docs/ARCHITECTURE.md names %s: %s has no function or method %s", span, ref[1], ref[2])
		case folderRef.MatchString(span):
			folders++
			assert.DirExists(t, strings.TrimSuffix(span, "/"), "docs/ARCHITECTURE.md names %s", span)
		}
	}
	for _, pkg := range roomsTablePackages(doc) {
		folders++
		assert.DirExists(t, pkg, "the rooms table names the package %s", pkg)
	}
	assert.Greater(t, files, 20, "the page names files")
	assert.Greater(t, funcs, 15, "the page names functions")
	assert.Greater(t, folders, 20, "the page names packages")
}

// roomsTablePackages lists the packages in the first column of the table
// under "## Rooms".
func roomsTablePackages(doc string) []string {
	_, section, _ := strings.Cut(doc, "## Rooms\n")
	section, _, _ = strings.Cut(section, "\n## ")
	var out []string
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") || strings.TrimSpace(cells[1]) == "package" {
			continue
		}
		for _, m := range codeSpan.FindAllStringSubmatch(cells[1], -1) {
			out = append(out, m[1])
		}
	}
	return out
}

// declaresFunc reports whether the Go file at path declares a function or
// method named name.
func declaresFunc(t *testing.T, path, name string) bool {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	require.NoError(t, err)
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == name {
			return true
		}
	}
	return false
}
