// Package docs embeds the data dictionary, tables.md, so that the binary carries the one
// description of every published table and column (internal/datadocs reads it).
package docs

import _ "embed"

// TablesName is the dictionary's path in the repository, for messages.
const TablesName = "docs/tables.md"

// Tables is docs/tables.md: per published table its grain, its key and a row per column
// (name, DuckDB type, meaning).
//
//go:embed tables.md
var Tables string
