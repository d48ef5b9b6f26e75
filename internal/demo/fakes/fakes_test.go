package fakes

import (
	"testing"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/demo"
)

func TestStyleForFollowsTheCRM(t *testing.T) {
	cases := map[string]struct {
		vendors map[string]string // source name -> vendor
		want    demo.AccountIDStyle
	}{
		"the demo vendor everywhere": {map[string]string{"crm": "demo", "billing": "demo", "support": "demo"}, demo.IDStyleDemo},
		"HubSpot for the CRM":        {map[string]string{"billing": "demo", "crm": "hubspot", "support": "demo"}, demo.IDStyleHubSpot},
		"Salesforce for the CRM":     {map[string]string{"billing": "demo", "crm": "salesforce"}, demo.IDStyleSalesforce},
		"Stripe and Zendesk":         {map[string]string{"billing": "stripe", "crm": "demo", "support": "zendesk"}, demo.IDStyleDemo},
		"a generic CRM":              {map[string]string{"billing": "stripe", "crm": config.Generic}, demo.IDStyleDemo},
		"the first CRM by name":      {map[string]string{"a_crm": "salesforce", "b_crm": "hubspot"}, demo.IDStyleSalesforce},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := &config.Config{Sources: map[string]*config.Source{}}
			for source, vendor := range c.vendors {
				cfg.Sources[source] = &config.Source{Vendor: vendor}
			}
			if got := StyleFor(cfg); got != c.want {
				t.Errorf("StyleFor = %q, want %q", got, c.want)
			}
		})
	}
}
