// Package config loads segpipe's YAML configuration, expands ${ENV} references and
// validates every value with errors that name the file, line and key.
package config

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config is the whole of one segpipe.yaml.
type Config struct {
	// Currency is the one currency every amount is reported in (ISO 4217).
	Currency string `yaml:"currency"`
	// FXRates converts other currencies: units of Currency per one unit of the key currency.
	FXRates map[string]float64 `yaml:"fx_rates"`
	// Lake is where data lands and marts are published: a path, file:// URL or gs://bucket/prefix.
	Lake string `yaml:"lake"`
	// GCS configures Google Cloud Storage lakes (gs://bucket/prefix).
	GCS GCS `yaml:"gcs"`
	// Lease keeps two runs from writing the same partition at once.
	Lease Lease `yaml:"lease"`
	// Publish configures what stays published besides the current release.
	Publish Publish `yaml:"publish"`
	// Timezone is the IANA zone schedules run in and the default as_of is taken in.
	Timezone string `yaml:"timezone"`
	// Schedule maps a job name (ingest, segment) to a five-field cron expression.
	Schedule map[string]string `yaml:"schedule"`
	// Serve configures `segpipe serve`: retries, shutdown and the ops HTTP server.
	Serve Serve `yaml:"serve"`
	// Notify says whom `segpipe serve` tells about a run that failed for good.
	Notify Notify `yaml:"notify"`
	// Warehouse tunes the DuckDB session.
	Warehouse Warehouse `yaml:"warehouse"`
	// Audit configures the checks a segment run makes before it publishes.
	Audit Audit `yaml:"audit"`
	// Sources are the HTTP export systems to extract, by name (crm, billing, support, ...).
	Sources map[string]*Source `yaml:"sources"`
	// Segments holds every threshold of docs/domain rules.
	Segments Segments `yaml:"segments"`
	// Sync writes the published segments back to the CRM (`segpipe run sync`, docs/sync.md).
	Sync Sync `yaml:"sync"`
	// Models is a folder of SQL read at run time beside sql/ (docs/your-data.md): staging/<source>/,
	// intermediate/, marts/ and tests/; a file at a built-in model's path replaces it. A relative
	// path is taken from the config file's folder.
	Models string `yaml:"models"`

	// File is the path the config was loaded from ("" when built in code).
	File string `yaml:"-"`
	// lines holds the line of each key path of the file, to place later problems.
	lines map[string]int
}

// GCS configures access to a Google Cloud Storage lake.
type GCS struct {
	// CredentialsFile is a service-account key file; empty means Application Default
	// Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud auth, or the metadata server).
	CredentialsFile string `yaml:"credentials_file"`
	// CacheDir keeps downloaded lake files, keyed by object generation (default: the user
	// cache directory's segpipe folder).
	CacheDir string `yaml:"cache_dir"`
}

// Lease configures the run lease: one writer per job and as_of at a time.
type Lease struct {
	// TTL is how long a lease holds without renewal; a holder that died loses it after this.
	TTL Duration `yaml:"ttl"`
	// OnConflict is wait (poll until the lease is free or WaitTimeout passes) or exit.
	OnConflict string `yaml:"on_conflict"`
	// WaitTimeout bounds the wait for a held lease.
	WaitTimeout Duration `yaml:"wait_timeout"`
}

// Publish configures the releases kept in the lake (releases/<as_of>_<run>/).
type Publish struct {
	// KeepReleases is how many releases are kept besides the current one: the ones
	// `segpipe rollback --to` can go back to, and what a reader that opened files just before a
	// switch finishes on.
	KeepReleases int `yaml:"keep_releases"`
}

// DefaultKeepReleases is publish.keep_releases when the config does not set it: a week of
// nightly releases to roll back to.
const DefaultKeepReleases = 7

// Serve configures the scheduler (`segpipe serve`).
type Serve struct {
	// Address is where the ops HTTP server (/healthz, /readyz, /metrics) listens.
	Address string `yaml:"address"`
	// Retries is how many times a failed scheduled run is retried (default 2); lease
	// conflicts and failed audits are never retried.
	Retries *int `yaml:"retries"`
	// RetryBackoff is the wait before the first retry; it doubles for each further one.
	RetryBackoff Duration `yaml:"retry_backoff"`
	// ShutdownGrace is how long a running job may finish after SIGTERM before it is cancelled.
	ShutdownGrace Duration `yaml:"shutdown_grace"`
}

// Notify configures failure notifications of scheduled runs.
type Notify struct {
	// WebhookURL gets a JSON POST when a scheduled run fails for good; it may carry a token,
	// so it is a Secret (never printed).
	WebhookURL Secret `yaml:"webhook_url"`
	// Timeout bounds one POST to the webhook (default 10s).
	Timeout Duration `yaml:"timeout"`
}

// Warehouse tunes the in-process DuckDB session.
type Warehouse struct {
	// Threads DuckDB may use; 0 means all cores.
	Threads int `yaml:"threads"`
	// MemoryLimit is DuckDB's memory_limit, e.g. "2GB"; "" keeps DuckDB's default.
	MemoryLimit string `yaml:"memory_limit"`
}

// Audit configures the write-audit-publish checks of a segment run (docs/configuration.md).
type Audit struct {
	// MaxStagingDropShare: assert_staging_drops fires when staging leaves out more than this
	// share of a canonical table's rows for one reason (a required field missing, a record
	// its vendor lists without its parent). Default 0.02; 0 fires on any such record.
	MaxStagingDropShare *float64 `yaml:"max_staging_drop_share"`
	// Assertions sets the severity of assertions by name (sql/tests/<name>.sql); an assertion
	// not named here is an error whenever it returns rows.
	Assertions map[string]*AssertionRule `yaml:"assertions"`
}

// Severities of an assertion.
const (
	SeverityError = "error"
	SeverityWarn  = "warn"
)

// DefaultMaxStagingDropShare is audit.max_staging_drop_share when it is not set.
const DefaultMaxStagingDropShare = 0.02

// AssertionRule is how one assertion's failing rows are judged, as dbt judges a test.
type AssertionRule struct {
	// Severity is error (failing rows stop the publish; the default) or warn (they are
	// reported in the summary and the run record, and the run publishes).
	Severity string `yaml:"severity"`
	// ErrorIf, when set, is the threshold above which failing rows are an error whatever the
	// severity: "> N" rows, or "> P%" of the assertion's population (its -- population:
	// header); at or below it they are a warning.
	ErrorIf string `yaml:"error_if"`
}

// Threshold is a parsed error_if: a count of rows or a share of the population.
type Threshold struct {
	// Count is set for "> N".
	Count *int64
	// Share is set for "> P%" (as a fraction: 5% is 0.05).
	Share *float64
}

var errorIfPattern = regexp.MustCompile(`^>\s*([0-9]+(?:\.[0-9]+)?)\s*(%?)$`)

// ParseErrorIf parses an error_if threshold: "> 10" (rows) or "> 2.5%" (of the population).
func ParseErrorIf(s string) (Threshold, error) {
	m := errorIfPattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return Threshold{}, fmt.Errorf("must be \"> N\" (failing rows) or \"> P%%\" (a share of the population), got %q", s)
	}
	if m[2] == "%" {
		v, _ := strconv.ParseFloat(m[1], 64)
		if v > 100 {
			return Threshold{}, fmt.Errorf("a share is at most 100%%, got %q", s)
		}
		v /= 100
		return Threshold{Share: &v}, nil
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return Threshold{}, fmt.Errorf("a row count is a whole number, got %q", s)
	}
	return Threshold{Count: &n}, nil
}

// StagingDropShare is audit.max_staging_drop_share, or its default when unset.
func (a Audit) StagingDropShare() float64 {
	if a.MaxStagingDropShare == nil {
		return DefaultMaxStagingDropShare
	}
	return *a.MaxStagingDropShare
}

// Generic is the vendor of a source that is none of the registry's (internal/vendors): its
// entities name the canonical table they provide and map their columns onto it in config
// (docs/your-data.md).
const Generic = "generic"

// Source is one HTTP export system.
type Source struct {
	// Vendor names the system's wire shape: its preset (entities, pagination, columns) and the
	// staging SQL in sql/staging/<vendor>/ that maps it to canonical tables.
	Vendor string `yaml:"vendor"`
	// BaseURL is prefixed to every entity path.
	BaseURL string `yaml:"base_url"`
	// Auth says how requests authenticate.
	Auth Auth `yaml:"auth"`
	// PageSize is the number of records asked for per page.
	PageSize int `yaml:"page_size"`
	// Timeout bounds one HTTP request.
	Timeout Duration `yaml:"timeout"`
	// MaxRetries bounds the retries of one request (429, 5xx, network errors).
	MaxRetries int `yaml:"max_retries"`
	// MaxBadShare fails the extract when more than this share of records is quarantined.
	MaxBadShare float64 `yaml:"max_bad_share"`
	// MaxNullShareIncrease fails a landing when a declared column's null share rose by more
	// than this against the entity's previous landing in the same mode (default 0.2; 1 turns
	// the check off).
	MaxNullShareIncrease float64 `yaml:"max_null_share_increase"`
	// MaxRetryWait bounds the total time one request may spend waiting between retries.
	MaxRetryWait Duration `yaml:"max_retry_wait"`
	// RequestsPerSecond is the source's token-bucket rate; 0 means no limit.
	RequestsPerSecond float64 `yaml:"requests_per_second"`
	// Concurrency is how many of the source's entities are pulled at once (default 1).
	Concurrency int `yaml:"concurrency"`
	// Currency is the ISO 4217 code the source's amounts are in when a record carries none
	// (a single-currency CRM portal, an export without a currency column); "" leaves such an
	// amount unknown (HubSpot and Salesforce deals: in the reporting currency).
	Currency string `yaml:"currency"`
	// Entities are the exports of this source, by entity name.
	Entities map[string]*Entity `yaml:"entities"`
}

// EntityNames returns the source's entity names in sorted order.
func (s *Source) EntityNames() []string { return sortedKeys(s.Entities) }

// Auth is a source's authentication. Secret values come from ${ENV} or a file.
type Auth struct {
	// Type is none, bearer, basic or header.
	Type string `yaml:"type"`
	// Token is the bearer token or the header value.
	Token Secret `yaml:"token"`
	// TokenFile names a file holding Token (trailing newline trimmed).
	TokenFile string `yaml:"token_file"`
	// Username for basic auth.
	Username string `yaml:"username"`
	// Password for basic auth.
	Password Secret `yaml:"password"`
	// PasswordFile names a file holding Password.
	PasswordFile string `yaml:"password_file"`
	// Header is the header name for type header (e.g. X-API-Key).
	Header string `yaml:"header"`
}

// Entity is one export endpoint and the shape of its records.
type Entity struct {
	// Path is appended to the source's base_url.
	Path string `yaml:"path"`
	// Format of the response body: json, ndjson or csv.
	Format string `yaml:"format"`
	// Params are fixed query parameters sent with the first request (and kept by paginators
	// that build URLs from it), e.g. properties=name,industry.
	Params map[string]string `yaml:"params"`
	// RecordsPath is the dot path of the record array in a JSON envelope; "" means the body is the array.
	RecordsPath string `yaml:"records_path"`
	// Pagination says how to walk the pages.
	Pagination Pagination `yaml:"pagination"`
	// PrimaryKey is the column that identifies a record; records without it are quarantined.
	PrimaryKey string `yaml:"primary_key"`
	// Columns are the landed columns, in order, with their types and source fields.
	Columns Columns `yaml:"columns"`
	// Incremental, when set, pulls only what changed since the last landed cursor.
	Incremental *Incremental `yaml:"incremental"`
	// BulkQuery, when set, runs a Salesforce Bulk API 2.0 query job and pages its results.
	BulkQuery *BulkQuery `yaml:"bulk_query"`
	// Provides names the canonical table (docs/staging.md) a generic source's entity maps onto,
	// e.g. stg_opportunities; preset vendors' staging SQL says it instead.
	Provides string `yaml:"provides,omitempty"`
	// Map gives each canonical column its value from the landed columns (generic sources):
	// canonical column -> mapping. The generated staging model (docs/your-data.md) applies it.
	Map map[string]*Mapping `yaml:"map,omitempty"`
}

// Mapping is how one canonical column of a generic entity gets its value: from a landed
// column (Column), or a constant, transformed in this order: trim, case, split, values or in,
// multiply, default. Ref replaces the value by the id of the record of another entity it names.
// In YAML a bare string is Column.
type Mapping struct {
	// Column is the landed column read (a name under columns:, or _extracted_at).
	Column string `yaml:"column,omitempty"`
	// Const is the value when no column is read (a string, number or bool).
	Const any `yaml:"const,omitempty"`
	// Trim removes leading and trailing blanks of text.
	Trim bool `yaml:"trim,omitempty"`
	// Case is upper or lower: the text's case is changed.
	Case string `yaml:"case,omitempty"`
	// Split cuts text into a list at this separator (for list columns).
	Split string `yaml:"split,omitempty"`
	// Values maps a landed value (compared trimmed, ignoring case) to the canonical one.
	Values map[string]any `yaml:"values,omitempty"`
	// Unmapped is what a value that Values does not list becomes: null (default) or keep.
	Unmapped string `yaml:"unmapped,omitempty"`
	// In makes a boolean: true when the value is one of these (compared trimmed, ignoring
	// case), false when it is another, NULL when it is NULL.
	In []string `yaml:"in,omitempty"`
	// Multiply scales a number (revenue in millions: 1000000; cents: 0.01).
	Multiply *float64 `yaml:"multiply,omitempty"`
	// Default stands for a NULL value (currency: USD).
	Default any `yaml:"default,omitempty"`
	// Ref looks the value up in another entity and yields that record's id.
	Ref *Ref `yaml:"ref,omitempty"`

	// Line is where the mapping is in the config file (0 when built in code).
	Line int `yaml:"-"`
}

// Ref names the entity a value refers to and the canonical column of that entity the value is
// matched against (trimmed, ignoring case), e.g. a deal naming its account by account_name.
type Ref struct {
	// Entity is another entity of the same source, or <source>.<entity>.
	Entity string `yaml:"entity"`
	// By is the canonical column of that entity's mapping the value is matched against.
	By string `yaml:"by"`
}

// Incremental configures incremental loads of an entity.
type Incremental struct {
	// CursorColumn is the landed timestamp column whose maximum becomes the saved cursor.
	CursorColumn string `yaml:"cursor_column"`
	// Param is the request parameter carrying the cursor (start_time, updated_since, ...); empty
	// means the API has no such filter and records at or before the cursor are dropped client-side.
	Param string `yaml:"param"`
	// ParamFormat renders the cursor: unix (seconds), rfc3339 or date; default rfc3339.
	ParamFormat string `yaml:"param_format"`
	// ParamOn is first (only the first request carries Param, e.g. Zendesk cursor exports) or
	// every (default).
	ParamOn string `yaml:"param_on"`
	// Lookback re-reads this much before the saved cursor, to catch late updates.
	Lookback Duration `yaml:"lookback"`
	// Events, when set, makes an incremental landing read the vendor's list of change events
	// instead of the entity's export, for an API whose export cannot filter by change time
	// (Stripe: GET /v1/events). Each event carries the changed object whole; the object is what
	// lands. Param, ParamFormat, ParamOn and Lookback apply to the event list, which pages as
	// the export does (pagination). The saved cursor is the newest event's time; a full
	// landing's is the largest CursorColumn value, which must then be the objects' creation
	// time (no object listed was created after the list was read, and it is the vendor's
	// clock, as the events' times are).
	Events *EventFeed `yaml:"events"`
}

// EventFeed is a vendor's list of change events, read by the incremental landings of an
// entity (Incremental.Events; docs/sources.md, "Event feeds").
type EventFeed struct {
	// Path is appended to the source's base_url (Stripe: /events).
	Path string `yaml:"path"`
	// Params are fixed query parameters of the event list, e.g. the event types.
	Params map[string]string `yaml:"params"`
	// ObjectPath is the dot path of the changed object in an event (Stripe: data.object).
	ObjectPath string `yaml:"object_path"`
	// TimeField is the dot path of the event's time in an event, Unix seconds (Stripe: created).
	TimeField string `yaml:"time_field"`
	// Retention is how far back the vendor keeps events (Stripe: 30 days, 720h). When the
	// saved cursor less the lookback is older than that, the landing is a full one.
	Retention Duration `yaml:"retention"`
}

// BulkQuery is a Salesforce Bulk API 2.0 query: segpipe creates the job, polls it until it
// completes, then pages its CSV results (entity path is ignored).
type BulkQuery struct {
	// SOQL is the query; {{cursor}} is replaced by the incremental cursor as a SOQL datetime
	// literal, or by 1970-01-01T00:00:00Z on a full load.
	SOQL string `yaml:"soql"`
	// APIVersion such as v60.0.
	APIVersion string `yaml:"api_version"`
	// PollInterval between job status checks (default 2s).
	PollInterval Duration `yaml:"poll_interval"`
	// Timeout bounds the wait for the job to complete (default 30m).
	Timeout Duration `yaml:"timeout"`
}

// Pagination describes how an export is paged.
type Pagination struct {
	// Type is none, cursor, page (page number), offset (offset/limit), link (Link header
	// rel="next") or next_url (the next page's URL in the body).
	Type string `yaml:"type"`
	// LimitParam is the query parameter carrying the page size (limit, per_page, ...).
	LimitParam string `yaml:"limit_param"`
	// CursorParam is the query parameter the cursor is sent in (type cursor).
	CursorParam string `yaml:"cursor_param"`
	// NextCursorPath is the dot path of the next cursor in the body (type cursor).
	NextCursorPath string `yaml:"next_cursor_path"`
	// NextCursorHeader is the response header holding the next cursor, e.g. Sforce-Locator (type cursor).
	NextCursorHeader string `yaml:"next_cursor_header"`
	// CursorFromRecord is the field of the page's last record that is the next cursor, e.g. id
	// for Stripe's starting_after (type cursor).
	CursorFromRecord string `yaml:"cursor_from_record"`
	// HasMorePath is the dot path of a boolean in the body; false ends the export.
	HasMorePath string `yaml:"has_more_path"`
	// EndPath is the dot path of a boolean in the body; true ends the export (e.g. end_of_stream).
	EndPath string `yaml:"end_path"`
	// PageParam is the query parameter of the page number (type page).
	PageParam string `yaml:"page_param"`
	// FirstPage is the number of the first page (type page), 1 unless set.
	FirstPage *int `yaml:"first_page"`
	// OffsetParam is the query parameter of the record offset (type offset).
	OffsetParam string `yaml:"offset_param"`
	// NextURLPath is the dot path of the next page's URL in the body (type next_url).
	NextURLPath string `yaml:"next_url_path"`
}

// Column is one landed column.
type Column struct {
	Name string
	// Type is string, int64, float64, bool, timestamp or date.
	Type string
	// Field is where the value is in a record: a dot path into a JSON object (digits index
	// arrays: lines.data.0.period.start) or a CSV header name. Empty means Name.
	Field string
	// Optional exempts the column from the checks that fail a landing when the column's
	// field is missing from the export or its null share jumps: for a field the vendor leaves
	// out when empty, or a custom property some accounts lack.
	Optional bool
	// Layout reads a timestamp or date column's text: a Go reference layout such as 1/2/2006,
	// 02-01-06 or 2006-01-02 15:04, or unix / unix_ms (epoch seconds or milliseconds). Empty
	// means RFC 3339 or YYYY-MM-DD.
	Layout string
	// Timezone is the IANA zone a layout without a zone is read in (default UTC).
	Timezone string
}

// Source returns the field the column is read from.
func (c Column) Source() string {
	if c.Field != "" {
		return c.Field
	}
	return c.Name
}

// ColumnTypes are the accepted column types.
var ColumnTypes = []string{"string", "int64", "float64", "bool", "timestamp", "date"}

// Columns is an ordered list of columns, written in YAML as a mapping name: type, or
// name: {type: T, field: path} when the vendor's field differs from the landed name.
type Columns []Column

// Duration is a time.Duration written as "30s", "2m" in YAML.
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Secret holds a credential; it prints as [redacted] so it cannot leak through logs or errors.
type Secret string

// String redacts the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString redacts the secret in %#v.
func (s Secret) GoString() string { return s.String() }

// MarshalText redacts the secret in JSON and text encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Reveal returns the secret's value, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

// SourceNames returns the configured sources in sorted order.
func (c *Config) SourceNames() []string { return sortedKeys(c.Sources) }

// Location returns the configured time zone (UTC when unset).
func (c *Config) Location() *time.Location {
	if c.Timezone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil { // validated at load; unreachable for a loaded config
		return time.UTC
	}
	return loc
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ModelsDir is the models folder as a path ("" when none is configured): relative to the
// config file's folder.
func (c *Config) ModelsDir() string {
	if c.Models == "" || filepath.IsAbs(c.Models) || c.File == "" {
		return c.Models
	}
	return filepath.Join(filepath.Dir(c.File), c.Models)
}
