// Package sql embeds segpipe's DuckDB models: staging, intermediate and marts, the empty
// shapes of the previous run's state inputs in state/, and the assertions in tests/ that must
// return zero rows before anything is published.
package sql

import "embed"

// Files holds every model and assertion, by path (staging/<vendor>/stg_accounts.sql, ...).
//
//go:embed prelude.sql generic/*.sql staging/*/*.sql state/*.sql intermediate/*.sql marts/*.sql tests/*.sql
var Files embed.FS
