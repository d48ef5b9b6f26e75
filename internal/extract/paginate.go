package extract

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"net/url"
	"strconv"
	"strings"

	"github.com/segpipe/segpipe/internal/config"
)

// paginator walks the pages of one export: it gives the first page's URL, then, from each
// page, the next one's (nil at the end).
type paginator struct {
	cfg      config.Pagination
	pageSize int
	// first is the first request.
	first *url.URL
	// base is what the cursor, page and offset types build later requests from: first
	// without its page, offset or cursor, and without an incremental parameter sent on the
	// first request only.
	base *url.URL

	pageNo   int             // type page: the page number last asked for
	offset   int             // type offset: the offset last asked for
	seen     map[string]bool // type cursor: cursors followed; types link and next_url: URLs visited
	lastHash uint64          // types page and offset: the previous page's body hash
	lastLen  int
	havePrev bool
}

// queryParam is one query parameter of the first request.
type queryParam struct {
	name, value string
	// every keeps it on the requests the paginator builds (cursor, page, offset types).
	every bool
}

var pageSeed = maphash.MakeSeed()

// entityURL is base_url + path (any query in path kept) with the entity's fixed params.
func entityURL(src *config.Source, ent *config.Entity) (*url.URL, error) {
	raw := strings.TrimRight(src.BaseURL, "/") + ent.Path
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("entity URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("entity URL %s: need an http:// or https:// base_url", redactURL(u))
	}
	if u.User != nil {
		return nil, fmt.Errorf("entity URL %s: base_url must not carry credentials; use auth", redactURL(u))
	}
	return withParams(u, ent.Params), nil
}

// newPaginator plans the walk from start, the export's URL: it adds the page size, the
// first page's number or offset, and extra (the incremental parameter, if any).
func newPaginator(start *url.URL, src *config.Source, ent *config.Entity, extra *queryParam) *paginator {
	p := &paginator{cfg: ent.Pagination, pageSize: src.PageSize, seen: map[string]bool{}}
	u := start
	if p.cfg.Type != "" && p.cfg.Type != "none" {
		u = p.withLimit(u)
	}
	if extra != nil && extra.every {
		u = withParam(u, extra.name, extra.value)
	}
	p.base = u
	// The pagination config was checked by config.PrepareEntity (LandEntity).
	switch p.cfg.Type {
	case "page":
		p.pageNo = *p.cfg.FirstPage
		u = withParam(u, p.cfg.PageParam, strconv.Itoa(p.pageNo))
	case "offset":
		u = withParam(u, p.cfg.OffsetParam, "0")
	}
	if extra != nil && !extra.every {
		u = withParam(u, extra.name, extra.value)
	}
	p.first = u
	if p.cfg.Type == "link" || p.cfg.Type == "next_url" {
		p.seen[u.String()] = true
	}
	return p
}

func (p *paginator) withLimit(u *url.URL) *url.URL {
	if p.cfg.LimitParam == "" || p.pageSize < 1 {
		return u
	}
	return withParam(u, p.cfg.LimitParam, strconv.Itoa(p.pageSize))
}

// withParam is u with the query parameter k set to v.
func withParam(u *url.URL, k, v string) *url.URL {
	c := *u
	q := c.Query()
	q.Set(k, v)
	c.RawQuery = q.Encode()
	return &c
}

// withParams is u with every parameter of params set.
func withParams(u *url.URL, params map[string]string) *url.URL {
	if len(params) == 0 {
		return u
	}
	c := *u
	q := c.Query()
	for k, v := range params {
		q.Set(k, v)
	}
	c.RawQuery = q.Encode()
	return &c
}

// next is the URL of the page after pg, or nil when pg was the last.
func (p *paginator) next(pg *page) (*url.URL, error) {
	if pg.end || pg.more == moreNo {
		return nil, nil
	}
	switch p.cfg.Type {
	case "cursor":
		c, err := p.nextCursor(pg)
		if err != nil || c == "" {
			return nil, err
		}
		if p.seen[c] {
			return nil, fmt.Errorf("the next cursor %q repeats an earlier one; following it would loop forever", snippet(c))
		}
		p.seen[c] = true
		return withParam(p.base, p.cfg.CursorParam, c), nil
	case "page":
		// Only an empty page ends the export: a short page may just mean the server caps the
		// page size below page_size, and stopping there would silently drop the rest.
		if len(pg.records) == 0 {
			return nil, nil
		}
		if err := p.checkRepeat(pg, fmt.Sprintf("page %s=%d", p.cfg.PageParam, p.pageNo), p.cfg.PageParam); err != nil {
			return nil, err
		}
		p.pageNo++
		return withParam(p.base, p.cfg.PageParam, strconv.Itoa(p.pageNo)), nil
	case "offset":
		if len(pg.records) == 0 {
			return nil, nil
		}
		if err := p.checkRepeat(pg, fmt.Sprintf("the page at %s=%d", p.cfg.OffsetParam, p.offset), p.cfg.OffsetParam); err != nil {
			return nil, err
		}
		p.offset += len(pg.records)
		return withParam(p.base, p.cfg.OffsetParam, strconv.Itoa(p.offset)), nil
	case "link":
		target, ok := nextLink(pg.links)
		if !ok {
			return nil, nil
		}
		return p.follow(pg, target, `Link rel="next"`)
	case "next_url":
		if pg.nextURL == "" {
			return nil, nil
		}
		return p.follow(pg, pg.nextURL, fmt.Sprintf("next_url_path %q", p.cfg.NextURLPath))
	}
	return nil, nil
}

// nextCursor is the cursor pg gives for the next page: from the body or a header (decoded
// with the page), or from its last record; "" ends the export.
func (p *paginator) nextCursor(pg *page) (string, error) {
	f := p.cfg.CursorFromRecord
	if f == "" {
		return pg.cursor, nil
	}
	if len(pg.records) == 0 {
		return "", nil
	}
	last := pg.records[len(pg.records)-1]
	if last.bad != "" || len(last.raw) == 0 || last.raw[0] != '{' {
		return "", fmt.Errorf("cursor_from_record %q: the page's last record is not a JSON object", f)
	}
	v, ok := lookupPath(last.raw, f)
	if !ok || v[0] == 'n' {
		return "", fmt.Errorf("cursor_from_record %q is missing or null in the page's last record", f)
	}
	switch v[0] {
	case '"':
		s, err := jsonString(v)
		if err != nil || s == "" {
			return "", fmt.Errorf("cursor_from_record %q is not a usable string in the page's last record", f)
		}
		return s, nil
	case '{', '[', 't', 'f':
		return "", fmt.Errorf("cursor_from_record %q is a JSON %s in the page's last record; a cursor is a string or a number", f, jsonKind(v))
	}
	return string(v), nil
}

// checkRepeat fails when pg is byte-for-byte the page before it: the server ignores the
// parameter that moves through the export.
func (p *paginator) checkRepeat(pg *page, what, param string) error {
	h := maphash.Bytes(pageSeed, pg.body)
	if p.havePrev && h == p.lastHash && len(pg.body) == p.lastLen {
		return fmt.Errorf("%s is identical to the page before it; does the server read %q?", what, param)
	}
	p.lastHash, p.lastLen, p.havePrev = h, len(pg.body), true
	return nil
}

// follow resolves a next-page URL given by the server against the page's URL, and refuses
// another host, credentials and a URL already fetched.
func (p *paginator) follow(pg *page, target, what string) (*url.URL, error) {
	ref, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("%s %q is not a URL: %w", what, snippet(target), err)
	}
	u := pg.url.ResolveReference(ref)
	if u.Host != pg.url.Host || u.Scheme != pg.url.Scheme {
		return nil, fmt.Errorf("refusing to follow %s to another host: %s://%s (the export is on %s://%s)", what, u.Scheme, u.Host, pg.url.Scheme, pg.url.Host)
	}
	if u.User != nil {
		return nil, fmt.Errorf("refusing to follow %s carrying credentials", what)
	}
	if p.seen[u.String()] {
		return nil, fmt.Errorf("%s points back to %s, already fetched; following it would loop forever", what, redactURL(u))
	}
	p.seen[u.String()] = true
	return u, nil
}

// nextLink finds the target of the rel="next" link in Link header values (RFC 8288):
// several values, several comma-separated links per value, quoted or bare parameters, and
// rel holding several space-separated relation types.
func nextLink(values []string) (string, bool) {
	for _, v := range values {
		i := 0
		for i < len(v) {
			for i < len(v) && (v[i] == ' ' || v[i] == '\t' || v[i] == ',') {
				i++
			}
			if i >= len(v) {
				break
			}
			if v[i] != '<' {
				i = skipLinkValue(v, i) // malformed: skip to the next link
				continue
			}
			end := strings.IndexByte(v[i:], '>')
			if end < 0 {
				break
			}
			target := strings.TrimSpace(v[i+1 : i+end])
			i += end + 1
			rel := ""
			relSeen := false
			for {
				for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
					i++
				}
				if i >= len(v) || v[i] == ',' {
					break
				}
				if v[i] != ';' {
					i = skipLinkValue(v, i)
					break
				}
				i++
				for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
					i++
				}
				start := i
				for i < len(v) && !strings.ContainsRune("=;, \t", rune(v[i])) {
					i++
				}
				name := v[start:i]
				for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
					i++
				}
				val := ""
				if i < len(v) && v[i] == '=' {
					i++
					for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
						i++
					}
					if i < len(v) && v[i] == '"' {
						var b bytes.Buffer
						i++
						for i < len(v) && v[i] != '"' {
							if v[i] == '\\' && i+1 < len(v) {
								i++
							}
							b.WriteByte(v[i])
							i++
						}
						i++ // closing quote
						val = b.String()
					} else {
						start := i
						for i < len(v) && !strings.ContainsRune(";, \t", rune(v[i])) {
							i++
						}
						val = v[start:i]
					}
				}
				if strings.EqualFold(name, "rel") && !relSeen { // only the first rel counts
					rel, relSeen = val, true
				}
			}
			for _, r := range strings.Fields(rel) {
				if strings.EqualFold(r, "next") {
					return target, true
				}
			}
		}
	}
	return "", false
}

// skipLinkValue skips to the comma that ends the current link, minding quoted strings.
func skipLinkValue(v string, i int) int {
	inQuote := false
	for ; i < len(v); i++ {
		switch {
		case v[i] == '\\' && inQuote:
			i++
		case v[i] == '"':
			inQuote = !inQuote
		case v[i] == ',' && !inQuote:
			return i + 1
		}
	}
	return i
}
