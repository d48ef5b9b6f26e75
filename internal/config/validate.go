package config

import (
	"fmt"
	"math"
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
var Jobs = []string{"ingest", "segment"}

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
			if e == nil {
				continue
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
	}
	for _, r := range c.Audit.Assertions {
		if r != nil && r.Severity == "" {
			r.Severity = SeverityError
		}
	}
}

// DefaultTierTargets are domain.md section 7's targets: population and ARR shares, accounts
// per CSM, and retention / expansion success criteria per tier.
func DefaultTierTargets() []TierTarget {
	f := func(v float64) *float64 { return &v }
	return []TierTarget{
		{Tier: 1, CustomersMin: f(0.10), CustomersMax: f(0.20), ARRMin: f(0.50), ARRMax: f(0.70),
			AccountsPerCSMMin: f(15), AccountsPerCSMMax: f(30), Retention: f(0.98), Expansion: f(0.30)},
		{Tier: 2, CustomersMin: f(0.30), CustomersMax: f(0.40), ARRMin: f(0.25), ARRMax: f(0.35),
			AccountsPerCSMMin: f(50), AccountsPerCSMMax: f(100), Retention: f(0.90), Expansion: f(0.15)},
		{Tier: 3, CustomersMin: f(0.40), CustomersMax: f(0.60), ARRMin: f(0.10), ARRMax: f(0.20),
			AccountsPerCSMMin: f(200), Retention: f(0.80)},
		{Tier: 4, Retention: f(0.70)},
	}
}

var (
	currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)
	identifier   = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	dotPath      = regexp.MustCompile(`^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$`)
	fieldPath    = regexp.MustCompile(`^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$`)
)

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
		p.add(pk+".type", "must be none, cursor, page, offset, link or next_url, got %q", pg.Type)
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
			p.add(ck+".field", "must be a dot path such as properties.name or lines.data.0.amount")
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

func (p *parser) validateBands(key string, bands []Band, minFirst float64) {
	if len(bands) == 0 {
		p.add(key, "at least one band is needed")
		return
	}
	names := map[string]bool{}
	for i, b := range bands {
		bk := fmt.Sprintf("%s[%d]", key, i)
		if strings.TrimSpace(b.Name) == "" {
			p.add(bk+".name", "every band needs a name")
		}
		if names[b.Name] {
			p.add(bk+".name", "band name %q is used twice", b.Name)
		}
		names[b.Name] = true
		if i == 0 && b.Min < minFirst {
			p.add(bk+".min", "the first band must start at %v or more", minFirst)
		}
		if i > 0 && b.Min <= bands[i-1].Min {
			p.add(bk+".min", "bands must be in increasing order of min (%v is not above %v)", b.Min, bands[i-1].Min)
		}
	}
}

func (p *parser) validateSegments(s *Segments) {
	const k = "segments"
	p.validateBands(k+".size_bands", s.SizeBands, 0)
	p.validateBands(k+".arr_bands", s.ARRBands, 0)
	if s.Adoption.EarlyDays < 1 {
		p.add(k+".adoption.early_days", "must be at least 1")
	}
	if s.Adoption.MatureMonths*30 <= s.Adoption.EarlyDays {
		p.add(k+".adoption.mature_months", "must end after the early stage (%d days)", s.Adoption.EarlyDays)
	}
	l := s.LTV
	if l.Method != "predictive" && l.Method != "realized" {
		p.add(k+".ltv.method", "must be predictive or realized, got %q", l.Method)
	}
	if !(l.GrossMargin > 0 && l.GrossMargin <= 1) {
		p.add(k+".ltv.gross_margin", "must be a share in (0, 1], got %v", l.GrossMargin)
	}
	if l.LifetimeCapMonths < 1 {
		p.add(k+".ltv.lifetime_cap_months", "must be at least 1")
	}
	if l.ChurnWindowMonths < 1 || l.ChurnWindowMonths > 36 {
		p.add(k+".ltv.churn_window_months", "must be between 1 and 36")
	}
	if l.ChurnSegment != "size_band" && l.ChurnSegment != "industry" && l.ChurnSegment != "region" && l.ChurnSegment != "all" {
		p.add(k+".ltv.churn_segment", "must be size_band, industry, region or all, got %q", l.ChurnSegment)
	}
	if s.ICP.MinTenureMonths < 0 {
		p.add(k+".icp.min_tenure_months", "must be 0 or more")
	}
	if !(s.ICP.MinLift > 1) {
		p.add(k+".icp.min_lift", "must be above 1 (a lift of 1 means no difference)")
	}
	t := s.Tiers
	tk := k + ".tiers"
	if !(t.Tier3MinARR >= 0 && t.Tier3MinARR < t.Tier2MinARR && t.Tier2MinARR <= t.Tier1ARR) {
		p.add(tk, "needs 0 <= tier3_min_arr < tier2_min_arr <= tier1_arr")
	}
	if !(t.Tier1StrategicARR > 0 && t.Tier1StrategicARR <= t.Tier1ARR) {
		p.add(tk+".tier1_strategic_arr", "must be positive and at most tier1_arr")
	}
	if !(t.Tier1GrowthARR > 0 && t.Tier1GrowthARR <= t.Tier1ARR) {
		p.add(tk+".tier1_growth_arr", "must be positive and at most tier1_arr")
	}
	if !(t.HighGrowthMultiple > 1) {
		p.add(tk+".high_growth_multiple", "must be above 1")
	}
	pl := s.Pipeline
	p.validateBands(k+".pipeline.deal_size_tiers", pl.DealSizeTiers, 0)
	if pl.InactiveDays < 1 {
		p.add(k+".pipeline.inactive_days", "must be at least 1")
	}
	if !(pl.AgingPercentile > 0 && pl.AgingPercentile < pl.StalledPercentile && pl.StalledPercentile < 1) {
		p.add(k+".pipeline", "needs 0 < aging_percentile < stalled_percentile < 1")
	}
	p.validatePriceList(k+".pipeline.price_list", pl.PriceList)
	if s.Validation.MinSegmentSize < 1 {
		p.add(k+".validation.min_segment_size", "must be at least 1")
	}
	if !(s.Validation.Alpha > 0 && s.Validation.Alpha < 1) {
		p.add(k+".validation.alpha", "must be between 0 and 1")
	}
	u := s.Usage
	if !(u.RegularMinActiveShare > 0 && u.RegularMinActiveShare < u.PowerMinActiveShare && u.PowerMinActiveShare <= 1) {
		p.add(k+".usage", "needs 0 < regular_min_active_share < power_min_active_share <= 1")
	}
	if !(u.OccasionalMinActiveShare > 0 && u.OccasionalMinActiveShare < u.RegularMinActiveShare) {
		p.add(k+".usage.occasional_min_active_share", "must be above 0 and below regular_min_active_share")
	}
	if u.WindowMonths < 1 || u.WindowMonths > 12 {
		p.add(k+".usage.window_months", "must be between 1 and 12")
	}
	if u.PowerMinFeatures < 0 {
		p.add(k+".usage.power_min_features", "must be 0 or more")
	}
	sp := s.Support
	if !(sp.SelfSufficientTicketsPerMonth >= 0 && sp.SelfSufficientTicketsPerMonth < sp.HighTicketsPerMonth) {
		p.add(k+".support", "needs 0 <= self_sufficient_tickets_per_month < high_tickets_per_month")
	}
	if sp.WindowDays < 7 || sp.WindowDays > 366 {
		p.add(k+".support.window_days", "must be between 7 and 366")
	}
	r := s.ChurnRisk
	share := func(key string, v float64) {
		if !(v > 0 && v < 1) {
			p.add(key, "must be a share between 0 and 1, got %v", v)
		}
	}
	share(k+".churn_risk.usage_drop", r.UsageDrop)
	share(k+".churn_risk.feature_drop", r.FeatureDrop)
	if !(r.TicketRise > 1) {
		p.add(k+".churn_risk.ticket_rise", "must be above 1 (a multiple of the window before)")
	}
	if r.MinProblemTickets < 1 {
		p.add(k+".churn_risk.min_problem_tickets", "must be at least 1")
	}
	if !(r.LowCSAT > 1 && r.LowCSAT <= 5) {
		p.add(k+".churn_risk.low_csat", "must be in (1, 5]: CSAT is 1-5")
	}
	if r.HighFlags < 1 || r.HighFlags > 4 {
		p.add(k+".churn_risk.high_flags", "must be between 1 and 4 (there are four flags)")
	}
	e := s.Expansion
	if !(e.SeatLimitShare > 0 && e.SeatLimitShare <= 1) {
		p.add(k+".expansion.seat_limit_share", "must be in (0, 1]")
	}
	if !(e.UsageGrowth > 0) {
		p.add(k+".expansion.usage_growth", "must be above 0")
	}
	if !(e.EmployeesPerSeat > 1) {
		p.add(k+".expansion.employees_per_seat", "must be above 1")
	}
	h := s.Health
	if h.UsageWeight < 0 || h.SupportWeight < 0 || h.RiskWeight < 0 || math.Abs(h.UsageWeight+h.SupportWeight+h.RiskWeight-1) > 1e-9 {
		p.add(k+".health", "weights must be 0 or more and sum to 1")
	}
	w := t.ScoreWeights
	if w.ARR < 0 || w.Growth < 0 || w.Strategic < 0 || w.Health < 0 || math.Abs(w.ARR+w.Growth+w.Strategic+w.Health-1) > 1e-9 {
		p.add(tk+".score_weights", "weights must be 0 or more and sum to 1")
	}
	if !(t.MediumGrowthMultiple > 1 && t.MediumGrowthMultiple < t.HighGrowthMultiple) {
		p.add(tk+".medium_growth_multiple", "must be above 1 and below high_growth_multiple")
	}
	share(tk+".addressable_seat_share", t.AddressableSeatShare)
	if t.DefaultRenewalMonths < 1 || t.DefaultRenewalMonths > 36 {
		p.add(tk+".default_renewal_months", "must be between 1 and 36")
	}
	seen := map[int]bool{}
	for i, tt := range t.Targets {
		key := fmt.Sprintf("%s.targets[%d]", tk, i)
		if tt.Tier < 1 || tt.Tier > 4 || seen[tt.Tier] {
			p.add(key+".tier", "must be 1, 2, 3 or 4, each once")
		}
		seen[tt.Tier] = true
		for _, pair := range [][3]any{{"customers", tt.CustomersMin, tt.CustomersMax}, {"arr", tt.ARRMin, tt.ARRMax}} {
			lo, hi := pair[1].(*float64), pair[2].(*float64)
			if (lo != nil && (*lo < 0 || *lo > 1)) || (hi != nil && (*hi < 0 || *hi > 1)) || (lo != nil && hi != nil && *lo > *hi) {
				p.add(key+"."+pair[0].(string)+"_min", "shares must be in [0, 1] with min <= max")
			}
		}
		if (tt.AccountsPerCSMMin != nil && *tt.AccountsPerCSMMin <= 0) || (tt.AccountsPerCSMMax != nil && *tt.AccountsPerCSMMax <= 0) ||
			(tt.AccountsPerCSMMin != nil && tt.AccountsPerCSMMax != nil && *tt.AccountsPerCSMMin > *tt.AccountsPerCSMMax) {
			p.add(key+".accounts_per_csm_min", "accounts per CSM must be positive with min <= max")
		}
		for name, v := range map[string]*float64{"retention": tt.Retention, "expansion": tt.Expansion} {
			if v != nil && (*v < 0 || *v > 10) {
				p.add(key+"."+name, "must be a rate such as 0.98")
			}
		}
	}
	if s.ICP.MinCustomers < 1 {
		p.add(k+".icp.min_customers", "must be at least 1")
	}
	if !(s.ICP.MinFit > 0 && s.ICP.MinFit <= 1) {
		p.add(k+".icp.min_fit", "must be in (0, 1]")
	}
	for i, v := range s.ICP.EmployeeRanges {
		if v < 1 || (i > 0 && v <= s.ICP.EmployeeRanges[i-1]) {
			p.add(k+".icp.employee_ranges", "must be increasing lower bounds of at least 1, got %v", s.ICP.EmployeeRanges)
			break
		}
	}
	if s.Metrics.CACWindowMonths < 1 || s.Metrics.CACWindowMonths > 36 {
		p.add(k+".metrics.cac_window_months", "must be between 1 and 36")
	}
	if s.Metrics.TrendQuarters < 2 || s.Metrics.TrendQuarters > 40 {
		p.add(k+".metrics.trend_quarters", "must be between 2 and 40")
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
