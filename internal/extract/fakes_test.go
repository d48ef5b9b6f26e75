package extract

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// requestLog records the requests a fake export server saw.
type requestLog struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (l *requestLog) add(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, r.Clone(r.Context()))
}

func (l *requestLog) urls() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, len(l.reqs))
	for i, r := range l.reqs {
		out[i] = r.URL.RequestURI()
	}
	return out
}

func (l *requestLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.reqs)
}

func bearerOK(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
		return false
	}
	return true
}

// cursorAPI serves records as {"data": [...], "next_cursor": "c<offset>" | null}, paged by
// ?limit= and ?cursor=, the way the CRM export does.
func cursorAPI(t testing.TB, records []string, log *requestLog) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if log != nil {
			log.add(r)
		}
		if !bearerOK(w, r) {
			return
		}
		limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
		if err != nil || limit < 1 {
			http.Error(w, "bad limit", http.StatusBadRequest)
			return
		}
		off := 0
		if c := r.URL.Query().Get("cursor"); c != "" {
			off, err = strconv.Atoi(strings.TrimPrefix(c, "c"))
			if err != nil {
				http.Error(w, "bad cursor", http.StatusBadRequest)
				return
			}
		}
		end := min(off+limit, len(records))
		next := "null"
		if end < len(records) {
			next = fmt.Sprintf(`"c%d"`, end)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"data": [%s], "next_cursor": %s}`, strings.Join(records[min(off, end):end], ",\n  "), next)
	}
}

// pageAPI serves records as {"items": [...], "page": n}, paged by ?page= (numbered from
// first) and ?per_page=, the way the billing export does.
func pageAPI(t testing.TB, records []string, first int, log *requestLog) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if log != nil {
			log.add(r)
		}
		if !bearerOK(w, r) {
			return
		}
		pageNo, err1 := strconv.Atoi(r.URL.Query().Get("page"))
		per, err2 := strconv.Atoi(r.URL.Query().Get("per_page"))
		if err1 != nil || err2 != nil || pageNo < first || per < 1 {
			http.Error(w, "bad page or per_page", http.StatusBadRequest)
			return
		}
		off := min((pageNo-first)*per, len(records))
		end := min(off+per, len(records))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"items":[%s],"page":%d}`, strings.Join(records[off:end], ","), pageNo)
	}
}

// linkCSV serves a CSV export (header, then rows) paged by ?page= and ?per_page=, with a
// relative Link header to the next page, the way the support desk export does. Rows are
// CSV text, each ending in "\r\n" or "\n".
func linkCSV(t testing.TB, header string, rows []string, log *requestLog) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if log != nil {
			log.add(r)
		}
		if !bearerOK(w, r) {
			return
		}
		per, err := strconv.Atoi(r.URL.Query().Get("per_page"))
		if err != nil || per < 1 {
			http.Error(w, "bad per_page", http.StatusBadRequest)
			return
		}
		pageNo := 1
		if p := r.URL.Query().Get("page"); p != "" {
			pageNo, _ = strconv.Atoi(p)
		}
		off := min((pageNo-1)*per, len(rows))
		end := min(off+per, len(rows))
		links := []string{fmt.Sprintf(`<%s?page=1&per_page=%d>; rel="first"`, r.URL.Path, per)}
		if end < len(rows) {
			// Relative to the request URL, in the middle of the header, rel with two types.
			links = append(links, fmt.Sprintf(`<?page=%d&per_page=%d>; title="next, please"; rel="next nofollow"`, pageNo+1, per))
		}
		links = append(links, fmt.Sprintf(`<%s?page=%d&per_page=%d>; rel=last`, r.URL.Path, max(1, (len(rows)+per-1)/per), per))
		w.Header().Set("Link", strings.Join(links, ", "))
		w.Header().Set("Content-Type", "text/csv")
		fmt.Fprint(w, header+"\r\n"+strings.Join(rows[off:end], ""))
	}
}

func serve(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
