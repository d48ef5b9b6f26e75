// Package fakes serves a demo company through every fake export server at once, on one
// loopback address: the demo vendor at /, and Stripe, Zendesk, HubSpot and Salesforce under
// /stripe, /zendesk, /hubspot and /salesforce, so any config in config/examples runs against it.
package fakes

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/demo/hubspot"
	"github.com/segpipe/segpipe/internal/demo/salesforce"
	"github.com/segpipe/segpipe/internal/demo/stripe"
	"github.com/segpipe/segpipe/internal/demo/zendesk"
)

// Tokens are the bearer tokens of the vendor fakes, as the example configs default them.
var Tokens = map[string]string{
	"stripe":     "demo-stripe-token",
	"zendesk":    "demo-zendesk-token",
	"hubspot":    "demo-hubspot-token",
	"salesforce": "demo-salesforce-token",
}

// Server is the running fakes.
type Server struct {
	// URL is the base every config's ${SEGPIPE_DEMO_URL} stands for.
	URL string
	// Company is what is served: the generated company with account ids in the CRM's style.
	Company *demo.Company
	srv     *http.Server
	served  chan error
}

// StyleFor returns the account id style of the CRM a config uses: its HubSpot or Salesforce
// source when it has one, else the demo CRM's.
func StyleFor(cfg *config.Config) demo.AccountIDStyle {
	for _, name := range cfg.SourceNames() {
		switch cfg.Sources[name].Vendor {
		case "hubspot":
			return demo.IDStyleHubSpot
		case "salesforce":
			return demo.IDStyleSalesforce
		}
	}
	return demo.IDStyleDemo
}

// Handler serves c (already in the wanted id style) through every fake.
func Handler(c *demo.Company) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/stripe/", http.StripPrefix("/stripe", stripe.NewHandler(c, Tokens["stripe"])))
	mux.Handle("/zendesk/", http.StripPrefix("/zendesk", zendesk.NewHandler(c, Tokens["zendesk"])))
	mux.Handle("/hubspot/", http.StripPrefix("/hubspot", hubspot.NewHandler(c, Tokens["hubspot"])))
	mux.Handle("/salesforce/", http.StripPrefix("/salesforce", salesforce.NewHandler(c, Tokens["salesforce"])))
	mux.Handle("/", demo.NewHandler(c, demo.DefaultTokens()))
	return mux
}

// Start serves the company, with account ids in the given style, on 127.0.0.1.
func Start(c *demo.Company, style demo.AccountIDStyle) (*Server, error) {
	served := c.WithAccountIDs(style)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	s := &Server{URL: "http://" + ln.Addr().String(), Company: served, served: make(chan error, 1),
		srv: &http.Server{Handler: Handler(served), ReadHeaderTimeout: 10 * time.Second}}
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
