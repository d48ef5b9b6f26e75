package zendesk

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/segpipe/segpipe/internal/demo"
)

// TicketID returns the Zendesk id of a demo ticket: tkt_000123 is 123.
func TicketID(demoID string) int64 {
	n, err := strconv.ParseInt(strings.TrimLeft(strings.TrimPrefix(demoID, "tkt_"), "0"), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// organizationIDBase is added to an account's 1-based position to make its organization id.
const organizationIDBase = 360_000_000_000

// OrganizationID returns the Zendesk organization id of the company's index-th account.
func OrganizationID(index int) int64 { return organizationIDBase + int64(index) + 1 }

// CategoryField is the id of the "Category" drop-down ticket field; its option tags are the
// canonical categories, and Zendesk adds the chosen option's tag to the ticket's tags.
const CategoryField = 360_000_004_242

// ClosedAfter is how long a solved ticket stays solved before Zendesk closes it.
const ClosedAfter = 4 * 24 * time.Hour

// ticketTypes maps the demo's categories onto Zendesk's ticket types.
var ticketTypes = map[string]string{
	"bug":             "problem",
	"outage":          "incident",
	"how_to":          "question",
	"billing":         "question",
	"feature_request": "task",
}

var subjects = map[string]string{
	"bug":             "Something is not working as expected",
	"outage":          "The service is unavailable",
	"how_to":          "How do I set this up?",
	"billing":         "Question about our invoice",
	"feature_request": "Feature request",
}

// Score is the satisfaction_rating.score Zendesk shows for a demo ticket. Zendesk ratings are
// binary, so the demo's 1-5 csat is lossy: 4 and 5 are good, 1 to 3 bad. A solved ticket
// without a rating (or with the demo's planted bad value) had the survey offered and not
// answered; an unsolved one was never offered it.
func Score(t *demo.Ticket) string {
	switch {
	case t.CSAT >= 4:
		return "good"
	case t.CSAT >= 1:
		return "bad"
	case !t.SolvedAt.IsZero():
		return "offered"
	default:
		return "unoffered"
	}
}

// satisfactionRating is a ticket's satisfaction_rating.
type satisfactionRating struct {
	ID      *int64  `json:"id,omitempty"`
	Score   string  `json:"score"`
	Comment *string `json:"comment,omitempty"`
}

type customField struct {
	ID    int64  `json:"id"`
	Value string `json:"value"`
}

type via struct {
	Channel string         `json:"channel"`
	Source  map[string]any `json:"source"`
}

// minutes is a metric_set duration, in calendar and business minutes.
type minutes struct {
	Calendar *int64 `json:"calendar"`
	Business *int64 `json:"business"`
}

// metricSet is the ticket metric set embedded by include=metric_sets.
type metricSet struct {
	URL                          string  `json:"url"`
	ID                           int64   `json:"id"`
	TicketID                     int64   `json:"ticket_id"`
	CreatedAt                    string  `json:"created_at"`
	UpdatedAt                    string  `json:"updated_at"`
	GroupStations                int     `json:"group_stations"`
	AssigneeStations             int     `json:"assignee_stations"`
	Reopens                      int     `json:"reopens"`
	Replies                      int     `json:"replies"`
	AssigneeUpdatedAt            *string `json:"assignee_updated_at"`
	RequesterUpdatedAt           string  `json:"requester_updated_at"`
	StatusUpdatedAt              string  `json:"status_updated_at"`
	InitiallyAssignedAt          string  `json:"initially_assigned_at"`
	AssignedAt                   string  `json:"assigned_at"`
	SolvedAt                     *string `json:"solved_at"`
	LatestCommentAddedAt         string  `json:"latest_comment_added_at"`
	ReplyTimeInMinutes           minutes `json:"reply_time_in_minutes"`
	FirstResolutionTimeInMinutes minutes `json:"first_resolution_time_in_minutes"`
	FullResolutionTimeInMinutes  minutes `json:"full_resolution_time_in_minutes"`
	AgentWaitTimeInMinutes       minutes `json:"agent_wait_time_in_minutes"`
	RequesterWaitTimeInMinutes   minutes `json:"requester_wait_time_in_minutes"`
	OnHoldTimeInMinutes          minutes `json:"on_hold_time_in_minutes"`
}

// ticket is a Zendesk ticket as the incremental export shows it.
type ticket struct {
	URL                string             `json:"url"`
	ID                 int64              `json:"id"`
	ExternalID         *string            `json:"external_id"`
	Via                via                `json:"via"`
	CreatedAt          string             `json:"created_at"`
	UpdatedAt          string             `json:"updated_at"`
	GeneratedTimestamp int64              `json:"generated_timestamp"`
	Type               *string            `json:"type"`
	Subject            string             `json:"subject"`
	RawSubject         string             `json:"raw_subject"`
	Description        string             `json:"description"`
	Priority           *string            `json:"priority"`
	Status             string             `json:"status"`
	Recipient          *string            `json:"recipient"`
	RequesterID        *int64             `json:"requester_id"`
	SubmitterID        *int64             `json:"submitter_id"`
	AssigneeID         *int64             `json:"assignee_id"`
	OrganizationID     *int64             `json:"organization_id"`
	GroupID            *int64             `json:"group_id"`
	CollaboratorIDs    []int64            `json:"collaborator_ids"`
	FollowerIDs        []int64            `json:"follower_ids"`
	EmailCCIDs         []int64            `json:"email_cc_ids"`
	ProblemID          *int64             `json:"problem_id"`
	HasIncidents       bool               `json:"has_incidents"`
	IsPublic           bool               `json:"is_public"`
	DueAt              *string            `json:"due_at"`
	Tags               []string           `json:"tags"`
	CustomFields       []customField      `json:"custom_fields"`
	SatisfactionRating satisfactionRating `json:"satisfaction_rating"`
	SharingAgreements  []int64            `json:"sharing_agreement_ids"`
	FollowupIDs        []int64            `json:"followup_ids"`
	TicketFormID       int64              `json:"ticket_form_id"`
	BrandID            int64              `json:"brand_id"`
	AllowChannelback   bool               `json:"allow_channelback"`
	AllowAttachments   bool               `json:"allow_attachments"`
	MetricSet          *metricSet         `json:"metric_set,omitempty"`
}

// organization is a Zendesk organization; external_id is the CRM account id.
type organization struct {
	URL                string         `json:"url"`
	ID                 int64          `json:"id"`
	Name               string         `json:"name"`
	SharedTickets      bool           `json:"shared_tickets"`
	SharedComments     bool           `json:"shared_comments"`
	ExternalID         *string        `json:"external_id"`
	CreatedAt          string         `json:"created_at"`
	UpdatedAt          string         `json:"updated_at"`
	DomainNames        []string       `json:"domain_names"`
	Details            string         `json:"details"`
	Notes              string         `json:"notes"`
	GroupID            *int64         `json:"group_id"`
	Tags               []string       `json:"tags"`
	OrganizationFields map[string]any `json:"organization_fields"`
}

// store holds the company as Zendesk objects: tickets in export order (generated_timestamp,
// then id) and organizations by id.
type store struct {
	tickets []ticket
	orgs    []organization
}

func zt(t time.Time) string       { return t.UTC().Format("2006-01-02T15:04:05Z") }
func ptr[T any](v T) *T           { return &v }
func mins(d time.Duration) *int64 { return ptr(int64(d / time.Minute)) }

// build turns the company's accounts and tickets into Zendesk organizations and tickets.
// deleted adds that many spam tickets, deleted a hour after they came in.
func build(c *demo.Company, deleted int) *store {
	st := &store{orgs: make([]organization, len(c.Accounts))}
	orgOf := make(map[string]int, len(c.Accounts))
	for i := range c.Accounts {
		a := &c.Accounts[i]
		orgOf[a.ID] = i
		st.orgs[i] = organization{
			ID: OrganizationID(i), Name: a.Name, ExternalID: ptr(a.ID),
			CreatedAt: zt(a.CreatedAt), UpdatedAt: zt(a.UpdatedAt), DomainNames: []string{},
			Tags: []string{strings.ToLower(a.Region)}, OrganizationFields: map[string]any{},
		}
	}
	var maxID int64
	st.tickets = make([]ticket, 0, len(c.Tickets)+deleted)
	for i := range c.Tickets {
		d := &c.Tickets[i]
		id := TicketID(d.TicketID)
		maxID = max(maxID, id)
		updated := d.CreatedAt
		status := "open"
		switch {
		case !d.SolvedAt.IsZero() && d.SolvedAt.Add(ClosedAfter).Before(c.End):
			status, updated = "closed", d.SolvedAt.Add(ClosedAfter)
		case !d.SolvedAt.IsZero():
			status, updated = "solved", d.SolvedAt
		case c.End.Sub(d.CreatedAt) < 2*24*time.Hour:
			status = "new"
		case id%5 == 0:
			status = "pending"
		case id%11 == 0:
			status = "hold"
		}
		t := ticket{
			ID: id, Via: via{Channel: "email", Source: map[string]any{"from": map[string]any{}, "to": map[string]any{}, "rel": nil}},
			CreatedAt: zt(d.CreatedAt), UpdatedAt: zt(updated), GeneratedTimestamp: updated.Unix(),
			Subject: subjects[d.Category], RawSubject: subjects[d.Category], Description: subjects[d.Category] + ".",
			Status: status, AssigneeID: ptr(int64(361_000_000_100 + id%7)), GroupID: ptr(int64(361_000_000_001)),
			CollaboratorIDs: []int64{}, FollowerIDs: []int64{}, EmailCCIDs: []int64{}, IsPublic: true,
			Tags: []string{"customer", d.Category}, CustomFields: []customField{{ID: CategoryField, Value: d.Category}},
			SatisfactionRating: satisfactionRating{Score: Score(d)}, SharingAgreements: []int64{}, FollowupIDs: []int64{},
			TicketFormID: 360_000_000_007, BrandID: 360_000_000_003, AllowAttachments: true,
		}
		if d.Priority != "" {
			t.Priority = ptr(d.Priority)
		}
		if typ, ok := ticketTypes[d.Category]; ok {
			t.Type = ptr(typ)
		}
		if d.Category == "" {
			t.Tags, t.CustomFields = []string{"customer"}, []customField{}
		}
		if s := t.SatisfactionRating.Score; s == "good" || s == "bad" {
			t.SatisfactionRating.ID = ptr(int64(362_000_000_000) + id)
			t.SatisfactionRating.Comment = ptr("")
		}
		if k, ok := orgOf[d.OrganizationID]; ok {
			t.OrganizationID = ptr(OrganizationID(k))
			t.RequesterID = ptr(int64(370_000_000_000 + 4*int64(k) + id%3))
			t.SubmitterID = t.RequesterID
		}
		m := &metricSet{
			ID: 363_000_000_000 + id, TicketID: id, CreatedAt: zt(d.CreatedAt), UpdatedAt: zt(updated),
			GroupStations: 1, AssigneeStations: 1, Replies: 1, RequesterUpdatedAt: zt(d.CreatedAt),
			StatusUpdatedAt: zt(updated), InitiallyAssignedAt: zt(d.CreatedAt), AssignedAt: zt(d.CreatedAt),
			LatestCommentAddedAt: zt(updated), OnHoldTimeInMinutes: minutes{ptr(int64(0)), ptr(int64(0))},
		}
		if !d.SolvedAt.IsZero() {
			m.SolvedAt = ptr(zt(d.SolvedAt))
			took := d.SolvedAt.Sub(d.CreatedAt)
			m.FirstResolutionTimeInMinutes = minutes{mins(took), mins(took)}
			m.FullResolutionTimeInMinutes = minutes{mins(took), mins(took)}
			m.RequesterWaitTimeInMinutes = minutes{mins(took), mins(took)}
			m.AgentWaitTimeInMinutes = minutes{ptr(int64(0)), ptr(int64(0))}
			reply := min(took, 30*time.Minute)
			m.ReplyTimeInMinutes = minutes{mins(reply), mins(reply)}
		}
		t.MetricSet = m
		st.tickets = append(st.tickets, t)
	}
	span := c.End.Sub(c.Start)
	for k := range deleted {
		id := maxID + int64(k) + 1
		created := c.Start.Add(span / time.Duration(deleted+1) * time.Duration(k+1)).Truncate(time.Second)
		updated := created.Add(time.Hour)
		st.tickets = append(st.tickets, ticket{
			ID: id, Via: via{Channel: "email", Source: map[string]any{"from": map[string]any{}, "to": map[string]any{}, "rel": nil}},
			CreatedAt: zt(created), UpdatedAt: zt(updated), GeneratedTimestamp: updated.Unix(),
			Subject: "[spam]", RawSubject: "[spam]", Status: "deleted", CollaboratorIDs: []int64{}, FollowerIDs: []int64{},
			EmailCCIDs: []int64{}, Tags: []string{}, CustomFields: []customField{},
			SatisfactionRating: satisfactionRating{Score: "unoffered"}, SharingAgreements: []int64{}, FollowupIDs: []int64{},
			TicketFormID: 360_000_000_007, BrandID: 360_000_000_003,
			MetricSet: &metricSet{ID: 363_000_000_000 + id, TicketID: id, CreatedAt: zt(created), UpdatedAt: zt(updated),
				RequesterUpdatedAt: zt(created), StatusUpdatedAt: zt(updated), InitiallyAssignedAt: zt(created),
				AssignedAt: zt(created), LatestCommentAddedAt: zt(created)},
		})
	}
	slices.SortFunc(st.tickets, func(a, b ticket) int {
		return cmp.Or(cmp.Compare(a.GeneratedTimestamp, b.GeneratedTimestamp), cmp.Compare(a.ID, b.ID))
	})
	return st
}
