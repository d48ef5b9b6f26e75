package warehouse

import (
	"context"
	"strings"
	"testing"

	"github.com/segpipe/segpipe/internal/config"
	segsql "github.com/segpipe/segpipe/sql"
)

// A config without fx_rates (its documented default is none) binds empty rate lists: the
// models build, amounts in the reporting currency convert, and an amount in any other currency
// fails assert_known_currencies as an unknown currency, never as a SQL binder error.
// basic_raw.sql: A1 paid $1,000 in each of January to April; A2's one invoice is EUR 12,000.
func TestWithoutFXRates(t *testing.T) {
	s := buildFixture(t, "basic", "2025-06-30", func(c *config.Config) { c.FXRates = nil })
	inv := rowsBy(t, s, `select invoice_id, amount from stg_invoices where invoice_id in ('i1', 'i4', 'i5')`)
	near(t, "i1 amount (USD)", num(t, inv["i1"], "amount"), 1000)
	near(t, "i4 amount (usd)", num(t, inv["i4"], "amount"), 1000)
	if v := inv["i5"].Get("amount"); v != nil {
		t.Errorf("i5 (EUR, no rate) amount = %v, want NULL", v)
	}
	as, err := LoadAssertions(segsql.Files)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.RunAssertions(context.Background(), as)
	if err == nil || !strings.Contains(err.Error(), "assert_known_currencies") || !strings.Contains(err.Error(), "EUR") {
		t.Fatalf("want assert_known_currencies to fail naming EUR, got %v", err)
	}
}
