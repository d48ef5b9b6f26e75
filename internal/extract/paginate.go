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
	first    *url.URL

	pageNo   int             // type page: the page number last asked for
	seen     map[string]bool // type cursor: cursors followed; type link: URLs visited
	lastHash uint64          // type page: the previous page's body hash
	lastLen  int
	havePrev bool
}

var pageSeed = maphash.MakeSeed()

// newPaginator builds the entity's URL (base_url + path, keeping any query in path) and
// the first request.
func newPaginator(src *config.Source, ent *config.Entity) (*paginator, error) {
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
	p := &paginator{cfg: ent.Pagination, pageSize: src.PageSize, seen: map[string]bool{}}
	switch p.cfg.Type {
	case "", "none":
	case "cursor":
		if p.cfg.CursorParam == "" || p.cfg.NextCursorPath == "" {
			return nil, fmt.Errorf("cursor pagination needs cursor_param and next_cursor_path")
		}
		u = p.withLimit(u)
	case "page":
		if p.cfg.PageParam == "" {
			return nil, fmt.Errorf("page pagination needs page_param")
		}
		if p.pageSize < 1 {
			return nil, fmt.Errorf("page pagination needs a page_size of at least 1")
		}
		p.pageNo = 1
		if p.cfg.FirstPage != nil {
			p.pageNo = *p.cfg.FirstPage
		}
		u = withParam(p.withLimit(u), p.cfg.PageParam, strconv.Itoa(p.pageNo))
	case "link":
		u = p.withLimit(u)
		p.seen[u.String()] = true
	default:
		return nil, fmt.Errorf("unknown pagination type %q (none, cursor, page, link)", p.cfg.Type)
	}
	p.first = u
	return p, nil
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

// next is the URL of the page after pg, or nil when pg was the last.
func (p *paginator) next(pg *page) (*url.URL, error) {
	switch p.cfg.Type {
	case "cursor":
		c := pg.cursor
		if c == "" {
			return nil, nil
		}
		if p.seen[c] {
			return nil, fmt.Errorf("the next cursor %q repeats an earlier one; following it would loop forever", snippet(c))
		}
		p.seen[c] = true
		return withParam(p.first, p.cfg.CursorParam, c), nil
	case "page":
		// Only an empty page ends the export: a short page may just mean the server caps the
		// page size below page_size, and stopping there would silently drop the rest.
		if len(pg.records) == 0 {
			return nil, nil
		}
		h := maphash.Bytes(pageSeed, pg.body)
		if p.havePrev && h == p.lastHash && len(pg.body) == p.lastLen {
			return nil, fmt.Errorf("page %s=%d is identical to the page before it; does the server read %q?", p.cfg.PageParam, p.pageNo, p.cfg.PageParam)
		}
		p.lastHash, p.lastLen, p.havePrev = h, len(pg.body), true
		p.pageNo++
		return withParam(p.first, p.cfg.PageParam, strconv.Itoa(p.pageNo)), nil
	case "link":
		target, ok := nextLink(pg.links)
		if !ok {
			return nil, nil
		}
		ref, err := url.Parse(target)
		if err != nil {
			return nil, fmt.Errorf("Link rel=\"next\" %q is not a URL: %w", snippet(target), err)
		}
		u := pg.url.ResolveReference(ref)
		if u.Host != pg.url.Host || u.Scheme != pg.url.Scheme {
			return nil, fmt.Errorf("refusing to follow Link rel=\"next\" to another host: %s://%s (the export is on %s://%s)", u.Scheme, u.Host, pg.url.Scheme, pg.url.Host)
		}
		if u.User != nil {
			return nil, fmt.Errorf("refusing to follow Link rel=\"next\" carrying credentials")
		}
		if p.seen[u.String()] {
			return nil, fmt.Errorf("Link rel=\"next\" points back to %s, already fetched; following it would loop forever", redactURL(u))
		}
		p.seen[u.String()] = true
		return u, nil
	}
	return nil, nil
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
