// Package csvcrm is a CRM that is none of segpipe's vendors: a company's accounts and deals as
// plain CSV files, in the shape of the widely used public B2B sales dataset (accounts with
// sector, revenue in millions and an office country; a sales pipeline whose deals name their
// account by name, with stage words Prospecting, Engaging, Won and Lost, dates as M/D/YYYY and
// no currency), served whole over HTTP as a CSV download is. The tests read it through a
// generic source (config/examples/csv-crm.yaml) and check the published tables against the
// values this package knows.
package csvcrm

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"
)

// Account is one row of accounts.csv.
type Account struct {
	ID        string // "ACC-0001"
	Name      string
	Sector    string
	RevenueM  float64 // revenue in millions of USD
	Employees int64
	Country   string // the office's country, as a name
	Created   time.Time
}

// Deal is one row of sales_pipeline.csv.
type Deal struct {
	ID      string
	Agent   string
	Product string
	Account string // the account's name; "" for a prospect not yet tied to one
	Stage   string // Prospecting, Engaging, Won, Lost
	Engaged time.Time
	Closed  time.Time // zero while open
	Value   float64   // the close value; 0 for a lost deal, none while open
}

// Product is one row of products.csv: the list price of a product.
type Product struct {
	Name  string
	Price float64
}

// Company is the CSV CRM's data as of AsOf.
type Company struct {
	AsOf     time.Time
	Accounts []Account
	Deals    []Deal
	Products []Product
}

var (
	sectors   = []string{"technolgy", "retail", "medical", "software", "marketing", "finance", "entertainment", "telecommunications", "services", "employment"}
	countries = []string{"United States", "United States", "United States", "Kenya", "Philippines", "Japan", "Italy", "Norway", "Korea", "Jordan", "Brazil", "China", "Germany", "Panama", "Belgium", "Poland"}
	products  = []Product{{"GTX Basic", 550}, {"GTX Pro", 4821}, {"MG Special", 55}, {"MG Advanced", 3393}, {"GTX Plus Basic", 1096}, {"GTX Plus Pro", 5482}, {"GTK 500", 26768}}
	agents    = []string{"Moses Frase", "Darcel Schlecht", "Zane Levy", "Anna Snelling", "Vicki Laflamme", "Rosalina Dieter"}
	words     = []string{"Acme", "Blue", "Cone", "Dalt", "Xy", "Gogo", "Hatfan", "Iselectrics", "J-Texon", "Kan", "Lexi", "Mu", "Nam", "Opto", "Plu", "Quo", "Ron", "Sonron", "Tran", "Umbra"}
	suffixes  = []string{"Corp", "Inc.", "Systems", "Holdings", "Labs", "", "Co"}
)

// Generate makes a company of n accounts and about 8n deals, as of asOf, from seed.
func Generate(n int, asOf time.Time, seed uint64) *Company {
	r := rand.New(rand.NewPCG(seed, 11))
	c := &Company{AsOf: asOf, Products: products}
	for i := range n {
		name := words[i%len(words)]
		if s := suffixes[(i/len(words))%len(suffixes)]; s != "" {
			name += " " + s
		}
		if i >= len(words)*len(suffixes) {
			name += " " + strconv.Itoa(i)
		}
		if i%17 == 3 {
			name += ", Ltd" // a comma: the CSV quotes it
		}
		emp := int64(5 + r.IntN(40))
		switch r.IntN(4) {
		case 1:
			emp = int64(200 + r.IntN(1700))
		case 2:
			emp = int64(2000 + r.IntN(20000))
		}
		c.Accounts = append(c.Accounts, Account{
			ID: fmt.Sprintf("ACC-%04d", i+1), Name: name, Sector: sectors[r.IntN(len(sectors))],
			RevenueM: float64(r.IntN(900000)+100) / 100, Employees: emp, Country: countries[r.IntN(len(countries))],
			Created: asOf.AddDate(0, 0, -(400 + r.IntN(1500))),
		})
	}
	for range 8 * n {
		a := c.Accounts[r.IntN(n)]
		p := products[r.IntN(len(products))]
		d := Deal{ID: fmt.Sprintf("%08X", r.Uint32()), Agent: agents[r.IntN(len(agents))], Product: p.Name, Account: a.Name}
		d.Engaged = asOf.AddDate(0, 0, -(1 + r.IntN(700)))
		if d.Engaged.Before(a.Created) {
			d.Engaged = a.Created.AddDate(0, 0, r.IntN(30))
		}
		switch x := r.IntN(10); {
		case x < 4:
			d.Stage = "Won"
		case x < 7:
			d.Stage = "Lost"
		case x < 9:
			d.Stage = "Engaging"
		default:
			d.Stage = "Prospecting"
			if r.IntN(2) == 0 {
				d.Account = "" // the dataset's prospects often name no account yet
			}
		}
		if d.Stage == "Won" || d.Stage == "Lost" {
			d.Closed = d.Engaged.AddDate(0, 0, 5+r.IntN(120))
			if !d.Closed.Before(asOf) {
				d.Closed = asOf.AddDate(0, 0, -1)
			}
			if d.Stage == "Won" {
				d.Value = float64(int(p.Price*(0.9+0.2*r.Float64())*100)) / 100
			}
		}
		c.Deals = append(c.Deals, d)
	}
	return c
}

// mdy writes a date as the export does: M/D/YYYY.
func mdy(t time.Time) string { return t.Format("1/2/2006") }

// AccountsCSV is accounts.csv.
func (c *Company) AccountsCSV() []byte {
	rows := [][]string{{"account_id", "account", "sector", "revenue", "employees", "office_location", "created"}}
	for _, a := range c.Accounts {
		rows = append(rows, []string{a.ID, a.Name, a.Sector, strconv.FormatFloat(a.RevenueM, 'f', 2, 64), strconv.FormatInt(a.Employees, 10), a.Country, mdy(a.Created)})
	}
	return writeCSV(rows)
}

// DealsCSV is sales_pipeline.csv: close_date and close_value are empty while a deal is open.
func (c *Company) DealsCSV() []byte {
	rows := [][]string{{"opportunity_id", "sales_agent", "product", "account", "deal_stage", "engage_date", "close_date", "close_value"}}
	for _, d := range c.Deals {
		closed, value := "", ""
		if !d.Closed.IsZero() {
			closed, value = mdy(d.Closed), strconv.FormatFloat(d.Value, 'f', -1, 64)
		}
		rows = append(rows, []string{d.ID, d.Agent, d.Product, d.Account, d.Stage, mdy(d.Engaged), closed, value})
	}
	return writeCSV(rows)
}

// ProductsCSV is products.csv: each product's list price.
func (c *Company) ProductsCSV() []byte {
	rows := [][]string{{"product", "sales_price"}}
	for _, p := range c.Products {
		rows = append(rows, []string{p.Name, strconv.FormatFloat(p.Price, 'f', -1, 64)})
	}
	return writeCSV(rows)
}

func writeCSV(rows [][]string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.WriteAll(rows) // a bytes.Buffer does not fail
	return b.Bytes()
}

// Handler serves the files at /accounts.csv, /sales_pipeline.csv and /products.csv, whole, as
// a CSV download is (no pagination, text/csv).
func (c *Company) Handler() http.Handler {
	files := map[string][]byte{"/accounts.csv": c.AccountsCSV(), "/sales_pipeline.csv": c.DealsCSV(), "/products.csv": c.ProductsCSV()}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		_, _ = w.Write(b)
	})
}

// Serve starts the CSV CRM on loopback.
func (c *Company) Serve() *httptest.Server { return httptest.NewServer(c.Handler()) }
