package crmsync

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/warehouse"
)

// fieldSQL is each field's value (text, a DOUBLE or a BIGINT), over account_segments a (left joined to
// tier_assignments t) or prospect_fit d; docs/sync.md gives the meanings.
var fieldSQL = map[string]string{
	"account/size_band":       "a.size_band",
	"account/arr_band":        "a.arr_band",
	"account/ltv_quintile":    "cast(a.ltv_quintile as bigint)",
	"account/cs_tier":         "t.tier_name",
	"account/icp_fit_score":   "round(cast(a.icp_fit_score as double), 4)",
	"account/icp_fit_grade":   "case when a.is_anti_icp then 'anti_icp' when a.is_icp then 'icp' when a.icp_fit_score is not null then 'neutral' end",
	"account/churn_risk":      "a.churn_risk",
	"account/usage_intensity": "a.usage_intensity",
	"account/segment_as_of":   "cast(a.as_of as varchar)",
	"deal/fit_score":          "round(cast(d.icp_fit_score as double), 4)",
	"deal/recommendation":     "d.recommendation",
	"deal/segment_as_of":      "cast(d.as_of as varchar)",
}

// Skipped is a mapped field the release cannot give: its table was not built, or it needs a
// billing source the release was computed without (a CRM alone has no tiers, bands or LTV).
// It is not written at all, never cleared.
type Skipped struct {
	Mapping config.SyncMapping
	Reason  string
}

// Records reads, from a session holding the release's tables (tables: the names present),
// one Record per account of account_segments and per open deal of prospect_fit, with the
// values of the mapped fields. Fields whose table is missing are returned in skipped.
func Records(ctx context.Context, sess *warehouse.Session, mappings []config.SyncMapping, tables map[string]bool) (recs []*Record, used []config.SyncMapping, skipped []Skipped, err error) {
	// A release computed without billing says so: every account's status is unknown.
	rows, err := sess.Query(ctx, "select count(*) as n, count(*) filter (where customer_status is distinct from 'unknown') as known from account_segments")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("sync: read account_segments: %w", err)
	}
	noBilling := rows[0].Float("n") > 0 && rows[0].Float("known") == 0
	for _, obj := range []string{config.SyncAccount, config.SyncDeal} {
		var cols []string
		var mine []config.SyncMapping
		for _, m := range mappingsOf(mappings, obj) {
			expr, ok := fieldSQL[obj+"/"+m.Field.Name]
			if !ok {
				return nil, nil, nil, fmt.Errorf("sync: no query for %s field %s", obj, m.Field.Name)
			}
			if !tables[m.Field.Table] {
				skipped = append(skipped, Skipped{m, m.Field.Table + " is not in the release (its inputs are not configured)"})
				continue
			}
			if m.Field.NeedsBilling && noBilling {
				skipped = append(skipped, Skipped{m, "the release was computed without a billing source (customer_status unknown): not measured"})
				continue
			}
			cols = append(cols, fmt.Sprintf("%s as c%d", expr, len(mine)))
			mine = append(mine, m)
		}
		if len(mine) == 0 {
			continue
		}
		var q string
		if obj == config.SyncAccount {
			join := ""
			if tables["tier_assignments"] {
				join = " left join tier_assignments t on t.account_id = a.account_id"
			}
			q = "select a.account_id as id, " + strings.Join(cols, ", ") + " from account_segments a" + join + " order by a.account_id"
		} else {
			q = "select d.opportunity_id as id, " + strings.Join(cols, ", ") + " from prospect_fit d order by d.opportunity_id"
		}
		rows, err := sess.Query(ctx, q)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("sync: read the %s values: %w", obj, err)
		}
		var hashed []string
		for _, m := range mine {
			if m.Field.Hashed {
				hashed = append(hashed, m.CRMName)
			}
		}
		for _, row := range rows {
			id, _ := row.Values[0].(string)
			if id == "" {
				return nil, nil, nil, fmt.Errorf("sync: a %s row of the release has no id", obj)
			}
			r := &Record{Object: obj, ID: id, Values: make(map[string]*string, len(mine)), Hashed: hashed}
			for i, m := range mine {
				switch v := row.Values[i+1].(type) {
				case nil:
					r.Values[m.CRMName] = nil
				case string:
					r.Values[m.CRMName] = &v
				case float64: // the shortest text that reads back as the number: 1, 0.6667
					s := strconv.FormatFloat(v, 'f', -1, 64)
					r.Values[m.CRMName] = &s
				case int64:
					s := strconv.FormatInt(v, 10)
					r.Values[m.CRMName] = &s
				default:
					s := fmt.Sprint(v)
					r.Values[m.CRMName] = &s
				}
			}
			recs = append(recs, r)
		}
		used = append(used, mine...)
	}
	return recs, used, skipped, nil
}
