package demo

import (
	"slices"
	"time"
)

// KnownAt returns the company as its systems would have exported it at instant t, as far as
// the final records tell: records created, issued or started at or after t are left out; a
// close, payment, cancellation or solve at or after t is undone (the deal open, the invoice
// unpaid, the subscription active, the ticket unsolved and unrated); usage months not ended by
// t are left out. A subscription's seats, seat limit, MRR and renewal date are those of its
// invoice whose period holds t (what the billing system's subscription record showed then).
// What the systems keep no history of stays as it is at End (account attributes), except a
// deal's open stage, which is derived from its progress at t the way the generator derives it
// at End. Every record's UpdatedAt is the last change before t (stampUpdates). c is unchanged.
func (c *Company) KnownAt(t time.Time) *Company {
	out := *c
	out.End = t
	out.Accounts = keep(c.Accounts, func(a *Account) bool {
		if !a.CreatedAt.Before(t) {
			return false
		}
		if !a.UpdatedAt.Before(t) {
			a.UpdatedAt = a.CreatedAt
		}
		return true
	})
	out.Opportunities = keep(c.Opportunities, func(o *Opportunity) bool {
		if !o.CreatedAt.Before(t) {
			return false
		}
		closedLater := o.ClosedAt != nil && !o.ClosedAt.Before(t)
		if closedLater {
			cycle := o.ClosedAt.Sub(o.CreatedAt)
			frac := float64(t.Sub(o.CreatedAt)) / float64(max(cycle, time.Second))
			st := 0
			for i, f := range stageStartFrac {
				if frac >= f {
					st = i
				}
			}
			o.IsClosed, o.IsWon, o.ClosedAt, o.LossReason = false, false, nil, nil
			o.Stage = openStages[st]
			o.StageEnteredAt = o.CreatedAt.Add(time.Duration(stageStartFrac[st] * float64(cycle))).Truncate(time.Second)
			o.ForecastCategory = stageForecast[st]
		} else if !o.IsClosed && !o.StageEnteredAt.Before(t) {
			o.Stage, o.StageEnteredAt, o.ForecastCategory = openStages[0], o.CreatedAt, stageForecast[0]
		}
		if !o.LastActivityAt.Before(t) {
			o.LastActivityAt, o.LastActivityType = o.CreatedAt, "email"
		}
		o.UpdatedAt = maxTime(o.StageEnteredAt, o.LastActivityAt)
		if o.ClosedAt != nil {
			o.UpdatedAt = *o.ClosedAt
		}
		return true
	})
	// The invoice of the period holding t gives the subscription's renewal date, seats, seat
	// limit and MRR at t.
	holding := map[string]Invoice{}
	for _, inv := range c.Invoices {
		if !inv.PeriodStart.After(t) && inv.PeriodEnd.After(t) && inv.Status != "void" {
			holding[inv.SubscriptionID] = inv
		}
	}
	out.Subscriptions = keep(c.Subscriptions, func(s *Subscription) bool {
		if !s.StartedAt.Before(t) {
			return false
		}
		if s.CanceledAt != nil && !s.CanceledAt.Before(t) {
			s.CanceledAt, s.Status = nil, "active"
		}
		if inv, ok := holding[s.ID]; ok && s.Status == "active" {
			s.CurrentPeriodEnd = inv.PeriodEnd
			s.Seats, s.SeatLimit = inv.Seats, inv.SeatLimit
			months := int64(1)
			if s.BillingInterval == "year" {
				months = 12
			}
			s.MRRCents = inv.AmountCents / months
		}
		return true
	})
	out.Invoices = keep(c.Invoices, func(inv *Invoice) bool {
		if !inv.IssuedAt.Before(t) {
			return false
		}
		if inv.PaidAt != nil && !inv.PaidAt.Before(t) {
			inv.PaidAt, inv.Status = nil, "open"
		}
		return true
	})
	out.Tickets = keep(c.Tickets, func(tk *Ticket) bool {
		if !tk.CreatedAt.Before(t) {
			return false
		}
		if !tk.SolvedAt.IsZero() && !tk.SolvedAt.Before(t) {
			tk.SolvedAt, tk.CSAT = time.Time{}, 0
		}
		return true
	})
	out.Usage = keep(c.Usage, func(u *Usage) bool { return !u.Month.AddDate(0, 1, 0).After(t) })
	stampUpdates(&out, t)
	return &out
}

// keep returns copies of the records of rs that f (which may edit its copy) keeps.
func keep[T any](rs []T, f func(*T) bool) []T {
	out := make([]T, 0, len(rs))
	for _, r := range rs {
		if f(&r) {
			out = append(out, r)
		}
	}
	return slices.Clip(out)
}

// stampUpdates sets the UpdatedAt of c's subscriptions, invoices, tickets and usage rollups
// to the last instant before t at which each record, as the export shows it at t, changed:
//   - an invoice: its payment when paid before t, else its issue;
//   - a subscription: the latest of its start, its cancellation and the period starts and
//     ends of its invoices, before t (KnownAt takes its seats, MRR and renewal date from the
//     invoice whose period holds t, so a period boundary changes the record);
//   - a ticket: its solve when solved before t, else its creation;
//   - a usage rollup: the end of its month (it is written once, when the month ends);
//   - a deal deleted before t (DeletedAt): IsDeleted, updated at its deletion;
//   - an invoice voided late (VoidedAt): void from then, updated then, paid or open before;
//   - a subscription edited by hand (EditedAt): updated at least then.
//
// So a record whose UpdatedAt is before an instant s shows at t what it showed at s: the
// exports' updated_since filter leaves out only records that did not change. Accounts and
// opportunities carry their own UpdatedAt.
func stampUpdates(c *Company, t time.Time) {
	latest := make(map[string]time.Time, len(c.Subscriptions))
	for i := range c.Invoices {
		inv := &c.Invoices[i]
		inv.UpdatedAt = inv.IssuedAt
		if inv.PaidAt != nil && inv.PaidAt.Before(t) {
			inv.UpdatedAt = maxTime(inv.UpdatedAt, *inv.PaidAt)
		}
		if v := inv.VoidedAt; v != nil {
			switch {
			case v.Before(t):
				inv.Status = "void"
				inv.UpdatedAt = maxTime(inv.UpdatedAt, *v)
			case inv.PaidAt != nil && inv.PaidAt.Before(t):
				inv.Status = "paid"
			default:
				inv.Status = "open"
			}
		}
		u := latest[inv.SubscriptionID]
		for _, b := range [2]time.Time{inv.PeriodStart, inv.PeriodEnd} {
			if b.Before(t) && b.After(u) {
				u = b
			}
		}
		latest[inv.SubscriptionID] = u
	}
	for i := range c.Subscriptions {
		s := &c.Subscriptions[i]
		s.UpdatedAt = maxTime(s.StartedAt, latest[s.ID])
		if s.EditedAt != nil && s.EditedAt.Before(t) {
			s.UpdatedAt = maxTime(s.UpdatedAt, *s.EditedAt)
		}
		if s.CanceledAt != nil && s.CanceledAt.Before(t) {
			s.UpdatedAt = maxTime(s.UpdatedAt, *s.CanceledAt)
		}
	}
	for i := range c.Tickets {
		tk := &c.Tickets[i]
		tk.UpdatedAt = tk.CreatedAt
		if !tk.SolvedAt.IsZero() && tk.SolvedAt.Before(t) {
			tk.UpdatedAt = maxTime(tk.UpdatedAt, tk.SolvedAt)
		}
	}
	for i := range c.Usage {
		c.Usage[i].UpdatedAt = c.Usage[i].Month.AddDate(0, 1, 0)
	}
	for i := range c.Opportunities {
		o := &c.Opportunities[i]
		o.IsDeleted = o.DeletedAt != nil && o.DeletedAt.Before(t)
		if o.IsDeleted {
			o.UpdatedAt = maxTime(o.UpdatedAt, *o.DeletedAt)
		}
	}
}
