package report

import (
	"math"
	"strconv"
	"strings"
)

// symbols are the currency signs the report writes before an amount; other currencies are
// written as their ISO code and a space ("CHF 1.2M").
var symbols = map[string]string{"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$", "INR": "₹", "BRL": "R$"}

type formatter struct{ currency string }

func (f formatter) sym() string {
	if s, ok := symbols[f.currency]; ok {
		return s
	}
	if f.currency == "" {
		return ""
	}
	return f.currency + " "
}

// moneyShort is an axis or bar label: $4.5M, $160k, $950.
func (f formatter) moneyShort(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	sign := ""
	if v < 0 {
		sign, v = "−", -v
	}
	var s string
	switch {
	case v >= 1e9:
		s = trim(strconv.FormatFloat(v/1e9, 'f', 1, 64)) + "B"
	case v >= 1e6:
		s = trim(strconv.FormatFloat(v/1e6, 'f', 1, 64)) + "M"
	case v >= 1e3:
		s = trim(strconv.FormatFloat(v/1e3, 'f', 1, 64)) + "k"
	default:
		s = trim(strconv.FormatFloat(v, 'f', 0, 64))
	}
	return sign + f.sym() + s
}

// money is a table figure: whole units with thousands separators ($4,510,950).
func (f formatter) money(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	sign := ""
	if v < 0 {
		sign, v = "−", -v
	}
	return sign + f.sym() + thousands(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
}

func trim(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func thousands(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	pre := len(digits) % 3
	if pre > 0 {
		b.WriteString(digits[:pre])
	}
	for i := pre; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// count is a whole number with separators.
func count(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	if v < 0 {
		return "−" + thousands(strconv.FormatFloat(-math.Round(v), 'f', 0, 64))
	}
	return thousands(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
}

// pct is a share as a percentage with one decimal (27.3%).
func pct(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return strconv.FormatFloat(100*v, 'f', 1, 64) + "%"
}

// pctShort is an axis label: no decimals unless the tick needs them.
func pctShort(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return trim(strconv.FormatFloat(100*v, 'f', 1, 64)) + "%"
}

// decimal is a ratio or statistic with two decimals (lift 4.92).
func decimal(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// pvalue writes a p-value as statisticians read it: < 0.001 below that.
func pvalue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case v < 0.001:
		return "< 0.001"
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

// days is a duration in whole days.
func days(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return count(v) + " d"
}
