// Package fakes serves a demo company through every fake export server at once, on one
// loopback address: the demo vendor at /, and Stripe, Zendesk, HubSpot and Salesforce under
// /stripe, /zendesk, /hubspot and /salesforce, so any config in config/examples runs against it.
package fakes

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/demo/hubspot"
	"github.com/segpipe/segpipe/internal/demo/salesforce"
	"github.com/segpipe/segpipe/internal/demo/stripe"
	"github.com/segpipe/segpipe/internal/demo/zendesk"
)

// Fake is the demo's fake of one vendor's export API, as `segpipe demo` serves it.
type Fake struct {
	// Mount is the path the fake is served under, "" for the root; the vendor's example
	// config points its base_url there (${SEGPIPE_DEMO_URL}/<vendor>...).
	Mount string
	// Token is the bearer token the fake accepts, as the example config defaults it; "" for
	// the demo vendor, whose servers take one token per source (demo.DefaultTokens).
	Token string
	// Style is the account id style the company is served in when a config's CRM is this
	// vendor; "" for a vendor that holds no CRM accounts of its own.
	Style demo.AccountIDStyle
	// New serves c, accepting token.
	New func(c *demo.Company, token string) http.Handler
}

// Fakes are the fakes by vendor name: one for each vendor of the registry (internal/vendors;
// TestRegistryIsComplete checks).
var Fakes = map[string]Fake{
	"demo":       {New: func(c *demo.Company, _ string) http.Handler { return demo.NewHandler(c, demo.DefaultTokens()) }},
	"stripe":     {Mount: "/stripe", Token: stripe.DemoToken, New: stripe.NewHandler},
	"hubspot":    {Mount: "/hubspot", Token: "demo-hubspot-token", Style: demo.IDStyleHubSpot, New: hubspot.NewHandler},
	"zendesk":    {Mount: "/zendesk", Token: zendesk.DemoToken, New: zendesk.NewHandler},
	"salesforce": {Mount: "/salesforce", Token: "demo-salesforce-token", Style: demo.IDStyleSalesforce, New: salesforceWithSyncFields},
}

// salesforceWithSyncFields is the Salesforce fake of an org whose admin created the custom
// fields a sync writes under their default names (docs/sync.md, "Salesforce"): Salesforce
// fields are made in Setup, not by the sync.
func salesforceWithSyncFields(c *demo.Company, token string) http.Handler {
	a := salesforce.New(c, token)
	types := map[string]salesforce.FieldType{config.SyncEnum: salesforce.FieldPicklist, config.SyncNumber: salesforce.FieldDouble,
		config.SyncDate: salesforce.FieldDate, config.SyncText: salesforce.FieldString}
	for _, f := range config.SyncFields {
		object := "Account"
		if f.Object == config.SyncDeal {
			object = "Opportunity"
		}
		if err := a.DefineField(object, config.DefaultSyncName("salesforce", f), types[f.Kind]); err != nil {
			panic(err) // the names are ours and fixed: a failure is a bug
		}
	}
	return a
}

// Server is the running fakes.
type Server struct {
	// URL is the base every config's ${SEGPIPE_DEMO_URL} stands for.
	URL string
	// Company is what is served: the generated company with account ids in the CRM's style.
	Company *demo.Company
	// Fakes are the fakes served, by vendor (*hubspot.API, *salesforce.API, ...), for tests
	// that look at what a sync wrote.
	Fakes  map[string]http.Handler
	srv    *http.Server
	served chan error
}

// StyleFor returns the account id style of the CRM a config uses: that of its first source
// (by name) whose vendor's fake has one (HubSpot, Salesforce), else the demo CRM's.
func StyleFor(cfg *config.Config) demo.AccountIDStyle {
	for _, name := range cfg.SourceNames() {
		if f := Fakes[cfg.Sources[name].Vendor]; f.Style != "" {
			return f.Style
		}
	}
	return demo.IDStyleDemo
}

// Handler serves c (already in the wanted id style) through every fake, each under its Mount.
func Handler(c *demo.Company) http.Handler {
	h, _ := handlers(c)
	return h
}

// handlers is Handler with each vendor's fake, by vendor name.
func handlers(c *demo.Company) (http.Handler, map[string]http.Handler) {
	mux := http.NewServeMux()
	byVendor := map[string]http.Handler{}
	for _, name := range slices.Sorted(maps.Keys(Fakes)) {
		f := Fakes[name]
		h := f.New(c, f.Token)
		byVendor[name] = h
		if f.Mount == "" {
			mux.Handle("/", h)
			continue
		}
		mux.Handle(f.Mount+"/", http.StripPrefix(f.Mount, h))
	}
	return mux, byVendor
}

// Start serves the company, with account ids in the given style, on 127.0.0.1.
func Start(c *demo.Company, style demo.AccountIDStyle) (*Server, error) {
	served := c.WithAccountIDs(style)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	h, byVendor := handlers(served)
	s := &Server{URL: "http://" + ln.Addr().String(), Company: served, Fakes: byVendor, served: make(chan error, 1),
		srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	go func() { s.served <- s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the servers, waiting up to 5 s for requests in flight, and reports a serving
// failure if there was one.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if serr := <-s.served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, fmt.Errorf("serve: %w", serr))
	}
	return err
}
