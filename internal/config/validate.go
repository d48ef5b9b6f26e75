package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/vendors"
)

// Jobs are the job names a schedule may name.
var Jobs = []string{"ingest", "segment", "sync"}

// CronParser parses the five-field cron expressions of schedule (with @daily-style descriptors).
var CronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func (c *Config) applyDefaults() {
	if c.Timezone == "" {
		c.Timezone = "UTC"
	}
	if c.Lease.TTL == 0 {
		c.Lease.TTL = Duration(30 * time.Minute)
	}
	if c.Lease.OnConflict == "" {
		c.Lease.OnConflict = "wait"
	}
	if c.Publish.KeepReleases == 0 {
		c.Publish.KeepReleases = DefaultKeepReleases
	}
	if c.Lease.WaitTimeout == 0 {
		c.Lease.WaitTimeout = Duration(2 * time.Hour)
	}
	if c.Serve.Address == "" {
		c.Serve.Address = "127.0.0.1:9464"
	}
	if c.Serve.Retries == nil {
		two := 2
		c.Serve.Retries = &two
	}
	if c.Serve.RetryBackoff == 0 {
		c.Serve.RetryBackoff = Duration(5 * time.Minute)
	}
	if c.Serve.ShutdownGrace == 0 {
		c.Serve.ShutdownGrace = Duration(5 * time.Minute)
	}
	c.applySyncDefaults()
	if c.Notify.Timeout == 0 {
		c.Notify.Timeout = Duration(10 * time.Second)
	}
	for _, s := range c.Sources {
		if s == nil {
			continue
		}
		if s.PageSize == 0 {
			s.PageSize = 500
		}
		if s.Timeout == 0 {
			s.Timeout = Duration(30 * time.Second)
		}
		if s.MaxRetries == 0 {
			s.MaxRetries = 5
		}
		if s.MaxRetryWait == 0 {
			s.MaxRetryWait = Duration(5 * time.Minute)
		}
		if s.Concurrency == 0 {
			s.Concurrency = 1
		}
		if s.MaxNullShareIncrease == 0 {
			s.MaxNullShareIncrease = 0.2
		}
		if s.Auth.Type == "" {
			s.Auth.Type = "none"
		}
		for _, e := range s.Entities {
			e.applyDefaults()
		}
	}
	for _, r := range c.Audit.Assertions {
		if r != nil && r.Severity == "" {
			r.Severity = SeverityError
		}
	}
}

var (
	currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)
	identifier   = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	dotPath      = regexp.MustCompile(`^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$`)
	fieldPath    = regexp.MustCompile(`^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$`)
)

// applyDefaults fills an entity's unset keys with their defaults.
func (e *Entity) applyDefaults() {
	if e == nil {
		return
	}
	if e.Pagination.Type == "" {
		e.Pagination.Type = "none"
	}
	if e.Pagination.FirstPage == nil {
		one := 1
		e.Pagination.FirstPage = &one
	}
	if inc := e.Incremental; inc != nil {
		if inc.ParamFormat == "" {
			inc.ParamFormat = "rfc3339"
		}
		if inc.ParamOn == "" {
			inc.ParamOn = "every"
		}
	}
	if bq := e.BulkQuery; bq != nil {
		if bq.PollInterval == 0 {
			bq.PollInterval = Duration(2 * time.Second)
		}
		if bq.Timeout == 0 {
			bq.Timeout = Duration(30 * time.Minute)
		}
	}
}

// PrepareEntity is entity config that did not come through Load (a test's, a caller's own)
// made ready to land: a copy with the defaults Load applies, checked by the rules Load checks
// (validateEntity, the one statement of them). The error names each problem by its key below
// the entity, e.g. "pagination.offset_param: offset pagination needs ...".
func PrepareEntity(name string, e *Entity) (*Entity, error) {
	if e == nil {
		return nil, fmt.Errorf("entity %s: no config", name)
	}
	c := *e
	c.Pagination.FirstPage = clonePtr(e.Pagination.FirstPage)
	c.Incremental = clonePtr(e.Incremental)
	c.BulkQuery = clonePtr(e.BulkQuery)
	c.applyDefaults()
	p := &parser{}
	p.validateEntity(name, name, &c)
	if len(p.problems) == 0 {
		return &c, nil
	}
	msgs := make([]string, len(p.problems))
	for i, pr := range p.problems {
		key := strings.TrimPrefix(strings.TrimPrefix(pr.Key, name), ".")
		if key == "" {
			msgs[i] = pr.Msg
		} else {
			msgs[i] = key + ": " + pr.Msg
		}
	}
	return nil, errors.New(strings.Join(msgs, "; "))
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

func (p *parser) validate(c *Config) {
	if !currencyCode.MatchString(c.Currency) {
		p.add("currency", "must be a three-letter ISO 4217 code such as USD, got %q", c.Currency)
	}
	for code, rate := range c.FXRates {
		key := "fx_rates." + code
		if !currencyCode.MatchString(code) {
			p.add(key, "must be a three-letter ISO 4217 code")
		}
		if code == c.Currency {
			p.add(key, "is the reporting currency; its rate is 1 by definition, remove it")
		}
		if !(rate > 0) {
			p.add(key, "must be a positive number of %s per unit, got %v", c.Currency, rate)
		}
	}
	if strings.TrimSpace(c.Lake) == "" {
		p.add("lake", "must name where data lands, e.g. ./segpipe-data or file:///var/lib/segpipe")
	} else if _, err := lake.ParseURL(c.Lake); err != nil {
		// The rule Open applies, so a config that checks is a config a run can open.
		p.add("lake", "%s", strings.TrimPrefix(err.Error(), fmt.Sprintf("lake %q: ", c.Lake)))
	}
	if c.Lease.TTL < Duration(time.Minute) {
		p.add("lease.ttl", "must be at least 1m (the holder renews it at a third of the TTL)")
	}
	if c.Publish.KeepReleases < 1 || c.Publish.KeepReleases > 1000 {
		p.add("publish.keep_releases", "must be between 1 and 1000 (releases kept besides the current one, for rollback and for readers mid-switch), got %d", c.Publish.KeepReleases)
	}
	if c.Lease.OnConflict != "wait" && c.Lease.OnConflict != "exit" {
		p.add("lease.on_conflict", "must be wait or exit, got %q", c.Lease.OnConflict)
	}
	if c.Lease.WaitTimeout < 0 {
		p.add("lease.wait_timeout", "must be positive")
	}
	if f := c.GCS.CredentialsFile; f != "" {
		if _, err := os.Stat(f); err != nil {
			p.add("gcs.credentials_file", "cannot read the service-account file: %v", err)
		}
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		p.add("timezone", "unknown time zone %q (use an IANA name such as Europe/Warsaw)", c.Timezone)
	}
	for job, spec := range c.Schedule {
		key := "schedule." + job
		if !slices.Contains(Jobs, job) {
			p.add(key, "unknown job (jobs: %s)", strings.Join(Jobs, ", "))
			continue
		}
		if _, err := CronParser.Parse(spec); err != nil {
			p.add(key, "not a five-field cron expression: %v", err)
		}
	}
	p.validateServe(&c.Serve, &c.Notify)
	if c.Warehouse.Threads < 0 {
		p.add("warehouse.threads", "must be 0 (all cores) or more")
	}
	if m := c.Warehouse.MemoryLimit; m != "" && !regexp.MustCompile(`^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$`).MatchString(m) {
		p.add("warehouse.memory_limit", "must be a size such as 2GB or 512MiB, got %q", m)
	}
	p.validateAudit(&c.Audit)
	p.validateSync(c)
	if len(c.Sources) == 0 {
		p.add("sources", "at least one source is needed")
	}
	rawNames := map[string]string{}
	for _, name := range c.SourceNames() {
		src := c.Sources[name]
		p.validateSource(name, src)
		if src == nil {
			continue
		}
		p.validateGeneric(c, name, src)
		p.validateSourceCurrency(name, src, c)
		for _, en := range src.EntityNames() {
			view := c.ViewOf(name, en)
			if other, dup := rawNames[view]; dup {
				p.add("sources."+name+".entities."+en, "source %s already lands a %s entity %s: one entity per vendor and name", other, src.Vendor, en)
			}
			rawNames[view] = name
		}
	}
	p.validateSegments(&c.Segments)
}

func (p *parser) validateAudit(a *Audit) {
	if v := a.MaxStagingDropShare; v != nil && (*v < 0 || *v > 1) {
		p.add("audit.max_staging_drop_share", "must be a share between 0 and 1, got %v", *v)
	}
	for _, name := range sortedKeys(a.Assertions) {
		key := "audit.assertions." + name
		r := a.Assertions[name]
		if !strings.HasPrefix(name, "assert_") {
			p.add(key, "assertion names start with assert_ (the files of sql/tests/)")
		}
		if r == nil {
			p.add(key, "is empty: give severity (error or warn) and optionally error_if")
			continue
		}
		if r.Severity != SeverityError && r.Severity != SeverityWarn {
			p.add(key+".severity", "must be error or warn, got %q", r.Severity)
		}
		if r.ErrorIf != "" {
			if _, err := ParseErrorIf(r.ErrorIf); err != nil {
				p.add(key+".error_if", "%v", err)
			}
		}
	}
}

func (p *parser) validateServe(s *Serve, n *Notify) {
	if host, port, err := net.SplitHostPort(s.Address); err != nil {
		p.add("serve.address", "must be host:port such as 127.0.0.1:9464 or :9464, got %q", s.Address)
	} else if pn, err := strconv.Atoi(port); err != nil || pn < 0 || pn > 65535 || strings.ContainsAny(host, " /") {
		p.add("serve.address", "must be host:port with a port number, got %q", s.Address)
	}
	if r := *s.Retries; r < 0 || r > 10 {
		p.add("serve.retries", "must be between 0 and 10, got %d", r)
	}
	if s.RetryBackoff < Duration(time.Second) {
		p.add("serve.retry_backoff", "must be at least 1s")
	}
	if s.ShutdownGrace < 0 {
		p.add("serve.shutdown_grace", "must be 0 or more")
	}
	if w := n.WebhookURL.Reveal(); w != "" {
		// The URL may carry a token: never quote it back.
		u, err := url.Parse(w)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.add("notify.webhook_url", "must be an http:// or https:// URL (not shown: it may carry a token)")
		}
	}
	if n.Timeout < 0 {
		p.add("notify.timeout", "must be positive")
	}
}

func (p *parser) validateSource(name string, s *Source) {
	key := "sources." + name
	if !identifier.MatchString(name) {
		p.add(key, "source names are lower-case letters, digits and _ (they name lake folders and tables)")
	}
	if s == nil {
		p.add(key, "is empty")
		return
	}
	if _, ok := vendors.Lookup(s.Vendor); !ok && s.Vendor != Generic {
		p.add(key+".vendor", "must be one of %s (it picks the preset and the staging SQL), or generic (its entities map their columns in config: docs/your-data.md), got %q", strings.Join(vendors.Names(), ", "), s.Vendor)
	}
	if s.RequestsPerSecond < 0 {
		p.add(key+".requests_per_second", "must be 0 (no limit) or more")
	}
	if s.Concurrency < 1 {
		p.add(key+".concurrency", "must be at least 1")
	}
	if s.MaxRetryWait < 0 {
		p.add(key+".max_retry_wait", "must be positive")
	}
	u, err := url.Parse(s.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.add(key+".base_url", "must be an http:// or https:// URL, got %q", redactURL(s.BaseURL))
	} else if u.User != nil {
		p.add(key+".base_url", "must not carry credentials; use auth")
	}
	if s.PageSize < 1 {
		p.add(key+".page_size", "must be at least 1")
	}
	if s.Timeout < 0 {
		p.add(key+".timeout", "must be positive")
	}
	if s.MaxRetries < 0 {
		p.add(key+".max_retries", "must be 0 or more")
	}
	if s.MaxBadShare < 0 || s.MaxBadShare > 1 {
		p.add(key+".max_bad_share", "must be a share between 0 and 1, got %v", s.MaxBadShare)
	}
	if s.MaxNullShareIncrease < 0 || s.MaxNullShareIncrease > 1 {
		p.add(key+".max_null_share_increase", "must be a share above 0 and at most 1 (1 turns the check off), got %v", s.MaxNullShareIncrease)
	}
	p.validateAuth(key+".auth", &s.Auth)
	if len(s.Entities) == 0 {
		p.add(key+".entities", "at least one entity is needed")
	}
	for _, en := range s.EntityNames() {
		p.validateEntity(key+".entities."+en, en, s.Entities[en])
	}
}

func (p *parser) validateAuth(key string, a *Auth) {
	if a.TokenFile != "" {
		if a.Token != "" {
			p.add(key+".token_file", "give token or token_file, not both")
		}
		b, err := os.ReadFile(a.TokenFile)
		if err != nil {
			p.add(key+".token_file", "cannot read the token file: %v", err)
		}
		a.Token = Secret(strings.TrimRight(string(b), "\r\n"))
	}
	if a.PasswordFile != "" {
		if a.Password != "" {
			p.add(key+".password_file", "give password or password_file, not both")
		}
		b, err := os.ReadFile(a.PasswordFile)
		if err != nil {
			p.add(key+".password_file", "cannot read the password file: %v", err)
		}
		a.Password = Secret(strings.TrimRight(string(b), "\r\n"))
	}
	switch a.Type {
	case "none":
	case "bearer":
		if a.Token == "" {
			p.add(key+".token", "bearer auth needs a token (from ${ENV} or token_file)")
		}
	case "header":
		if a.Header == "" {
			p.add(key+".header", "header auth needs the header name, e.g. X-API-Key")
		}
		if a.Token == "" {
			p.add(key+".token", "header auth needs a token (from ${ENV} or token_file)")
		}
	case "basic":
		if a.Username == "" {
			p.add(key+".username", "basic auth needs a username")
		}
	default:
		p.add(key+".type", "must be none, bearer, basic or header, got %q", a.Type)
	}
}

func (p *parser) validateEntity(key, name string, e *Entity) {
	if !identifier.MatchString(name) {
		p.add(key, "entity names are lower-case letters, digits and _")
	}
	if e == nil {
		p.add(key, "is empty")
		return
	}
	if e.BulkQuery == nil && !strings.HasPrefix(e.Path, "/") {
		p.add(key+".path", "must start with /, got %q", e.Path)
	}
	if e.BulkQuery != nil && e.Path != "" {
		p.add(key+".path", "a bulk query's results come from its job, not a path: remove path")
	}
	isJSON := e.Format == "json"
	switch e.Format {
	case "json":
		if e.RecordsPath != "" && !dotPath.MatchString(e.RecordsPath) {
			p.add(key+".records_path", "must be a dot path such as data or result.items")
		}
	case "csv", "ndjson":
		if e.RecordsPath != "" {
			p.add(key+".records_path", "applies to json only")
		}
	default:
		p.add(key+".format", "must be json, ndjson or csv, got %q", e.Format)
	}
	pg := e.Pagination
	pk := key + ".pagination"
	needJSON := func(k, what string) {
		if !isJSON {
			p.add(pk+"."+k, "%s reads a JSON body; this entity's format is %s", what, e.Format)
		}
	}
	checkPath := func(k, v string) {
		if v != "" && !dotPath.MatchString(v) {
			p.add(pk+"."+k, "must be a dot path such as meta.next")
		}
	}
	checkPath("next_cursor_path", pg.NextCursorPath)
	checkPath("has_more_path", pg.HasMorePath)
	checkPath("end_path", pg.EndPath)
	checkPath("next_url_path", pg.NextURLPath)
	if pg.HasMorePath != "" {
		needJSON("has_more_path", "has_more_path")
	}
	if pg.EndPath != "" {
		needJSON("end_path", "end_path")
	}
	switch pg.Type {
	case "none", "link":
	case "cursor":
		if pg.CursorParam == "" {
			p.add(pk+".cursor_param", "cursor pagination needs the query parameter the cursor is sent in")
		}
		sources := 0
		for _, v := range []string{pg.NextCursorPath, pg.NextCursorHeader, pg.CursorFromRecord} {
			if v != "" {
				sources++
			}
		}
		if sources != 1 {
			p.add(pk, "cursor pagination needs exactly one of next_cursor_path (body), next_cursor_header or cursor_from_record")
		}
		if pg.NextCursorPath != "" {
			needJSON("next_cursor_path", "next_cursor_path")
		}
		if pg.CursorFromRecord != "" && e.Format == "csv" {
			p.add(pk+".cursor_from_record", "reads a JSON record; this entity's format is csv")
		}
	case "page":
		if pg.PageParam == "" {
			p.add(pk+".page_param", "page pagination needs the query parameter of the page number")
		}
		if *pg.FirstPage < 0 {
			p.add(pk+".first_page", "must be 0 or more")
		}
	case "offset":
		if pg.OffsetParam == "" {
			p.add(pk+".offset_param", "offset pagination needs the query parameter of the offset")
		}
		if pg.LimitParam == "" {
			p.add(pk+".limit_param", "offset pagination needs the query parameter of the page size")
		}
	case "next_url":
		if pg.NextURLPath == "" {
			p.add(pk+".next_url_path", "next_url pagination needs the dot path of the next page's URL in the body")
		}
		needJSON("next_url_path", "next_url pagination")
	default:
		p.add(pk+".type", "unknown pagination type %q: must be none, cursor, page, offset, link or next_url", pg.Type)
	}
	if len(e.Columns) == 0 {
		p.add(key+".columns", "at least one column is needed")
	}
	seen := map[string]bool{}
	for _, col := range e.Columns {
		ck := key + ".columns." + col.Name
		if !identifier.MatchString(col.Name) {
			p.add(ck, "column names are lower-case letters, digits and _ and do not start with _ (reserved for _raw and lineage)")
		}
		if seen[col.Name] {
			p.add(ck, "column listed twice")
		}
		seen[col.Name] = true
		if !slices.Contains(ColumnTypes, col.Type) {
			p.add(ck, "unknown type %q (types: %s)", col.Type, strings.Join(ColumnTypes, ", "))
		}
		if col.Field != "" && e.Format != "csv" && !fieldPath.MatchString(col.Field) {
			p.add(ck+".field", "%q is not a dot path such as properties.name or lines.data.0.amount", col.Field)
		}
		if col.Layout != "" || col.Timezone != "" {
			if col.Type != "timestamp" && col.Type != "date" {
				p.add(ck, "layout and timezone read times: the column's type is %s, not timestamp or date", col.Type)
			} else if err := CheckLayout(col.Layout); err != nil {
				p.add(ck+".layout", "%v", err)
			}
			if col.Timezone != "" {
				if _, err := time.LoadLocation(col.Timezone); err != nil {
					p.add(ck+".timezone", "must be an IANA zone such as America/New_York, got %q", col.Timezone)
				}
			}
		}
	}
	if inc := e.Incremental; inc != nil {
		ik := key + ".incremental"
		var cursorType string
		for _, col := range e.Columns {
			if col.Name == inc.CursorColumn {
				cursorType = col.Type
			}
		}
		if cursorType != "timestamp" {
			p.add(ik+".cursor_column", "must name a timestamp column of this entity, got %q", inc.CursorColumn)
		}
		if ev := inc.Events; ev != nil {
			ek := ik + ".events"
			if !strings.HasPrefix(ev.Path, "/") {
				p.add(ek+".path", "must start with /, got %q", ev.Path)
			}
			for k, v := range map[string]string{"object_path": ev.ObjectPath, "time_field": ev.TimeField} {
				if !fieldPath.MatchString(v) {
					p.add(ek+"."+k, "must be a dot path into an event, got %q", v)
				}
			}
			if ev.Retention <= inc.Lookback {
				p.add(ek+".retention", "must be longer than the lookback (%s), got %s", inc.Lookback.D(), ev.Retention.D())
			}
			if inc.Param == "" {
				p.add(ik+".param", "an event list must be asked for the events since the cursor (e.g. created[gte])")
			}
			if inc.ParamFormat != "unix" {
				p.add(ik+".param_format", "must be unix: an event's time_field is Unix seconds")
			}
			if e.Format != "json" {
				p.add(key+".format", "an event list is JSON")
			}
			if e.BulkQuery != nil {
				p.add(ek, "a bulk query cannot read an event list")
			}
		}
		if !slices.Contains([]string{"unix", "rfc3339", "date"}, inc.ParamFormat) {
			p.add(ik+".param_format", "must be unix, rfc3339 or date, got %q", inc.ParamFormat)
		}
		if inc.ParamOn != "first" && inc.ParamOn != "every" {
			p.add(ik+".param_on", "must be first or every, got %q", inc.ParamOn)
		}
		if inc.Lookback < 0 {
			p.add(ik+".lookback", "must be 0 or more")
		}
	}
	if bq := e.BulkQuery; bq != nil {
		bk := key + ".bulk_query"
		if strings.TrimSpace(bq.SOQL) == "" {
			p.add(bk+".soql", "a bulk query needs its SOQL")
		}
		if !regexp.MustCompile(`^v\d+\.\d+$`).MatchString(bq.APIVersion) {
			p.add(bk+".api_version", "must look like v60.0, got %q", bq.APIVersion)
		}
		if e.Format != "csv" {
			p.add(key+".format", "Bulk API 2.0 results are csv")
		}
		if pg.Type != "cursor" || pg.NextCursorHeader == "" {
			p.add(pk, "Bulk API 2.0 results page with a cursor in a header (next_cursor_header: Sforce-Locator)")
		}
		if bq.PollInterval <= 0 || bq.Timeout <= 0 {
			p.add(bk, "poll_interval and timeout must be positive")
		}
		if e.Incremental != nil && e.Incremental.Param != "" {
			p.add(key+".incremental.param", "a bulk query takes its cursor through {{cursor}} in the SOQL, not a request parameter")
		}
	}
	if e.PrimaryKey == "" {
		p.add(key+".primary_key", "is required: records are identified and deduplicated by it")
	} else if !seen[e.PrimaryKey] {
		p.add(key+".primary_key", "%q is not one of the columns", e.PrimaryKey)
	}
}

// redactURL drops any user info so a URL can be shown in an error.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	u.RawQuery = ""
	return u.String()
}

// ViewOf is the raw view the entity of the named source is read through: raw_<vendor>__<entity>
// for a preset vendor (its staging SQL names it), raw_<source>__<entity> for a generic source.
func (c *Config) ViewOf(source, entity string) string {
	if s := c.Sources[source]; s != nil && s.Vendor == Generic {
		return vendors.RawView(source, entity)
	}
	if s := c.Sources[source]; s != nil {
		return vendors.RawView(s.Vendor, entity)
	}
	return vendors.RawView(source, entity)
}

// The layouts of epoch numbers.
const (
	LayoutUnix   = "unix"
	LayoutUnixMS = "unix_ms"
)

// CheckLayout says why a column layout cannot read times, or nil: a Go reference layout
// (1/2/2006, 02-01-06, 2006-01-02 15:04:05, Jan 2 2006 ...) that names at least a year, a month
// and a day, or unix / unix_ms.
func CheckLayout(layout string) error {
	if layout == "" || layout == LayoutUnix || layout == LayoutUnixMS {
		return nil
	}
	ref := time.Date(2031, 11, 23, 19, 45, 56, 0, time.UTC)
	back, err := time.Parse(layout, ref.Format(layout))
	if err != nil || back.Year() != ref.Year() || back.Month() != ref.Month() || back.Day() != ref.Day() {
		return fmt.Errorf("must be a Go time layout naming a year, month and day, written with the reference date 2 January 2006 (1/2/2006 is M/D/YYYY, 02-01-06 is DD-MM-YY, 2006-01-02 15:04 a date and time), or unix / unix_ms for epoch seconds / milliseconds; got %q", layout)
	}
	return nil
}
