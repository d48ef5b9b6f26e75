package crmsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/extract"
)

// HubSpotBatchSize is the most records one CRM v3 batch update takes (HubSpot's limit of
// 100 inputs per batch request; docs/vendors/hubspot.md, "Write API (for sync)").
const HubSpotBatchSize = 100

// HubSpot writes company and deal properties through the CRM v3 batch update endpoints
// (https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/companies/batch/update-companies)
// and creates the property group and properties through the properties API
// (https://developers.hubspot.com/docs/api/crm/properties).
type HubSpot struct {
	// BaseURL is the API root, https://api.hubapi.com (the source's base_url).
	BaseURL string
	// Group is the property group segpipe's properties are created in.
	Group  string
	Caller *extract.Caller
	// BatchSize is the records per batch update (default and at most HubSpotBatchSize).
	BatchSize int
	// Config gives the enumerations' vocabularies (the configured band names).
	Config *config.Config
}

// Vendor names the target.
func (h *HubSpot) Vendor() string { return "hubspot" }

// hubspotObject is the CRM object type of a sync object.
func hubspotObject(object string) string {
	if object == config.SyncDeal {
		return "deals"
	}
	return "companies"
}

// hubspotType is the property type and fieldType a field kind is created with.
func hubspotType(kind string) (string, string) {
	switch kind {
	case config.SyncEnum:
		return "enumeration", "select"
	case config.SyncNumber:
		return "number", "number"
	case config.SyncDate:
		return "date", "date"
	}
	return "string", "text"
}

type hubspotOption struct {
	Label        string `json:"label"`
	Value        string `json:"value"`
	DisplayOrder int    `json:"displayOrder"`
	Hidden       bool   `json:"hidden"`
}

type hubspotProperty struct {
	Name        string          `json:"name"`
	Label       string          `json:"label"`
	Type        string          `json:"type"`
	FieldType   string          `json:"fieldType"`
	GroupName   string          `json:"groupName"`
	Description string          `json:"description,omitempty"`
	Options     []hubspotOption `json:"options"`
	Archived    bool            `json:"archived,omitempty"`
}

func (h *HubSpot) url(path string) string { return strings.TrimRight(h.BaseURL, "/") + path }

// apiError reads HubSpot's error body: {"status":"error","message":...,"category":...}.
func hubspotReason(err error) string {
	var he *extract.HTTPError
	if !errors.As(err, &he) {
		return err.Error()
	}
	var body struct {
		Message  string `json:"message"`
		Category string `json:"category"`
	}
	if json.Unmarshal([]byte(he.Detail), &body) == nil && body.Message != "" {
		return strings.TrimSpace(body.Category + ": " + body.Message)
	}
	return he.Error()
}

// Prepare reads the company and deal properties, checks the mapped ones and creates the
// missing ones (with the property group) unless check is set.
func (h *HubSpot) Prepare(ctx context.Context, fields []config.SyncMapping, values map[string][]string, check bool) ([]FieldStatus, error) {
	var out []FieldStatus
	for _, obj := range []string{config.SyncAccount, config.SyncDeal} {
		mine := mappingsOf(fields, obj)
		if len(mine) == 0 {
			continue
		}
		ot := hubspotObject(obj)
		resp, err := h.Caller.Do(ctx, extract.Request{Method: http.MethodGet, URL: h.url("/crm/v3/properties/" + ot), What: ot + " properties"})
		if err != nil {
			return out, fmt.Errorf("hubspot: read the %s properties (scope crm.schemas.%s.read): %w", ot, ot, err)
		}
		var list struct {
			Results []hubspotProperty `json:"results"`
		}
		if err := json.Unmarshal(resp.Body, &list); err != nil {
			return out, fmt.Errorf("hubspot: %s properties: %w", ot, err)
		}
		have := map[string]hubspotProperty{}
		for _, p := range list.Results {
			if !p.Archived {
				have[p.Name] = p
			}
		}
		groupReady := false
		for _, m := range mine {
			typ, ft := hubspotType(m.Field.Kind)
			st := FieldStatus{Object: obj, Field: m.Field.Name, CRMName: m.CRMName}
			if p, ok := have[m.CRMName]; ok {
				st.State, st.CRMType = FieldExists, p.Type+"/"+p.FieldType
				if missing := missingOptions(p, enumOptions(h.Config, m)); p.Type == "enumeration" && len(missing) > 0 && p.GroupName == h.Group {
					// One of segpipe's own enumerations lacks a value of the field's vocabulary
					// (a band renamed in the config): the options are extended, the old kept.
					if check {
						st.Warning = fmt.Sprintf("the sync will add the options %s", strings.Join(quoteAll(missing), ", "))
						out = append(out, st)
						continue
					}
					if err := h.addOptions(ctx, ot, &p, missing); err != nil {
						return out, err
					}
					st.State = FieldUpdated
				}
				st.Problem, st.Warning = hubspotFits(p, m.Field, values[m.CRMName])
				out = append(out, st)
				continue
			}
			st.CRMType = typ + "/" + ft
			if check {
				st.State = FieldWouldCreate
				out = append(out, st)
				continue
			}
			if !groupReady {
				if err := h.ensureGroup(ctx, ot); err != nil {
					return out, err
				}
				groupReady = true
			}
			p := hubspotProperty{Name: m.CRMName, Label: "segpipe: " + m.Field.Label, Type: typ, FieldType: ft, GroupName: h.Group,
				Description: "Written by segpipe sync: " + m.Field.Meaning, Options: []hubspotOption{}}
			if m.Field.Kind == config.SyncEnum {
				for i, v := range enumOptions(h.Config, m) {
					p.Options = append(p.Options, hubspotOption{Label: v, Value: v, DisplayOrder: i})
				}
			}
			body, _ := json.Marshal(p)
			if _, err := h.Caller.Do(ctx, extract.Request{Method: http.MethodPost, URL: h.url("/crm/v3/properties/" + ot), Body: body, What: "create property " + m.CRMName}); err != nil {
				return out, fmt.Errorf("hubspot: create the %s property %s (scope crm.schemas.%s.write): %s", ot, m.CRMName, ot, hubspotReason(err))
			}
			st.State = FieldCreated
			out = append(out, st)
		}
	}
	return out, nil
}

// enumOptions are an enumeration's options: the field's vocabulary (the configured band
// names for the bands). A value outside it is refused by HubSpot and reported per record.
func enumOptions(c *config.Config, m config.SyncMapping) []string {
	if m.Field.Options == nil || c == nil {
		return nil
	}
	return slices.Clone(m.Field.Options(c))
}

// hubspotFits says why an existing property cannot take the field's values (problem), or
// which values its enumeration lacks (warning: HubSpot rejects those records, reported each).
func hubspotFits(p hubspotProperty, f config.SyncField, values []string) (problem, warning string) {
	want, _ := hubspotType(f.Kind)
	switch {
	case p.Type == want:
	case f.Kind == config.SyncEnum && p.Type == "string":
		return "", "" // a text property takes any label
	default:
		return fmt.Sprintf("the property is of type %s; the field needs %s", p.Type, want), ""
	}
	if p.Type != "enumeration" {
		return "", ""
	}
	if missing := missingOptions(p, values); len(missing) > 0 {
		return "", fmt.Sprintf("the enumeration has no option %s: HubSpot rejects the records with them; add the options in HubSpot (Settings > Properties) or map the field to a new property", strings.Join(quoteAll(missing), ", "))
	}
	return "", ""
}

func quoteAll(vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}

// addOptions PATCHes an enumeration property with its options plus the missing values
// (a partial update replaces the options whole:
// https://developers.hubspot.com/docs/api-reference/crm-properties-v3/core/patch-crm-v3-properties-objectType-propertyName).
func (h *HubSpot) addOptions(ctx context.Context, ot string, p *hubspotProperty, values []string) error {
	opts := slices.Clone(p.Options)
	for _, v := range values {
		opts = append(opts, hubspotOption{Label: v, Value: v, DisplayOrder: len(opts)})
	}
	body, _ := json.Marshal(map[string]any{"options": opts})
	if _, err := h.Caller.Do(ctx, extract.Request{Method: http.MethodPatch, URL: h.url("/crm/v3/properties/" + ot + "/" + url.PathEscape(p.Name)), Body: body, What: "update property " + p.Name}); err != nil {
		return fmt.Errorf("hubspot: add options to the %s property %s (scope crm.schemas.%s.write): %s", ot, p.Name, ot, hubspotReason(err))
	}
	p.Options = opts
	return nil
}

// missingOptions are the values of want an enumeration property has no option for.
func missingOptions(p hubspotProperty, want []string) []string {
	var out []string
	for _, v := range want {
		if !slices.ContainsFunc(p.Options, func(o hubspotOption) bool { return o.Value == v }) {
			out = append(out, v)
		}
	}
	return out
}

// ensureGroup creates the property group when the object type has none of that name.
func (h *HubSpot) ensureGroup(ctx context.Context, ot string) error {
	resp, err := h.Caller.Do(ctx, extract.Request{Method: http.MethodGet, URL: h.url("/crm/v3/properties/" + ot + "/groups"), What: ot + " property groups"})
	if err != nil {
		return fmt.Errorf("hubspot: read the %s property groups: %w", ot, err)
	}
	var list struct {
		Results []struct {
			Name string `json:"name"`
		} `json:"results"`
	}
	if err := json.Unmarshal(resp.Body, &list); err != nil {
		return fmt.Errorf("hubspot: %s property groups: %w", ot, err)
	}
	for _, g := range list.Results {
		if g.Name == h.Group {
			return nil
		}
	}
	body, _ := json.Marshal(map[string]any{"name": h.Group, "label": "segpipe segments", "displayOrder": -1})
	_, err = h.Caller.Do(ctx, extract.Request{Method: http.MethodPost, URL: h.url("/crm/v3/properties/" + ot + "/groups"), Body: body, What: "create property group " + h.Group})
	var he *extract.HTTPError
	if errors.As(err, &he) && he.Status == http.StatusConflict {
		return nil // made meanwhile
	}
	if err != nil {
		return fmt.Errorf("hubspot: create the %s property group %s (scope crm.schemas.%s.write): %s", ot, h.Group, ot, hubspotReason(err))
	}
	return nil
}

type hubspotInput struct {
	ID         string             `json:"id"`
	Properties map[string]*string `json:"properties"`
}

type hubspotBatchResult struct {
	Status  string `json:"status"`
	Results []struct {
		ID string `json:"id"`
	} `json:"results"`
	Errors []struct {
		Category string              `json:"category"`
		Message  string              `json:"message"`
		Context  map[string][]string `json:"context"`
	} `json:"errors"`
}

// Send writes recs in batch updates of BatchSize. A 207 names the records it could not
// update (OBJECT_NOT_FOUND: rejected, the rest synced); a 400 VALIDATION_ERROR refuses the
// whole batch, so the batch is split in halves until the records refused alone are found.
// Each batch is recorded as pending before it is sent: a sync that dies before the answer
// reads the records back next time instead of writing them again (Recover).
func (h *HubSpot) Send(ctx context.Context, object string, recs []*Record, j *Journal) error {
	n := h.BatchSize
	if n <= 0 || n > HubSpotBatchSize {
		n = HubSpotBatchSize
	}
	for i, batch := range chunks(recs, n) {
		pending, err := j.Pend(ctx, object, "", batch)
		if err != nil {
			return err
		}
		outs, err := h.send(ctx, object, batch, fmt.Sprintf("%d", i+1))
		if err != nil {
			// The answers got so far are kept; the batch stays pending for the next sync.
			if cerr := j.Confirm(ctx, nil, outs); cerr != nil {
				return errors.Join(err, cerr)
			}
			return err
		}
		if err := j.Confirm(ctx, &pending, outs); err != nil {
			return err
		}
	}
	return nil
}

// send writes one batch and returns HubSpot's answer per record; on an error it returns the
// outcomes of the halves already answered.
func (h *HubSpot) send(ctx context.Context, object string, batch []*Record, label string) ([]Outcome, error) {
	ot := hubspotObject(object)
	in := struct {
		Inputs []hubspotInput `json:"inputs"`
	}{}
	for _, r := range batch {
		props := make(map[string]*string, len(r.Values))
		for k, v := range r.Values {
			if v == nil {
				v = new(string) // "" clears a HubSpot property
			}
			props[k] = v
		}
		in.Inputs = append(in.Inputs, hubspotInput{ID: r.ID, Properties: props})
	}
	body, _ := json.Marshal(in)
	resp, err := h.Caller.Do(ctx, extract.Request{Method: http.MethodPost, URL: h.url("/crm/v3/objects/" + ot + "/batch/update"), Body: body, What: ot + " batch update " + label})
	var he *extract.HTTPError
	if errors.As(err, &he) && he.Status == http.StatusBadRequest {
		if len(batch) == 1 {
			return []Outcome{{Key: batch[0].Key(), Reason: hubspotReason(err)}}, nil
		}
		half := len(batch) / 2
		first, err := h.send(ctx, object, batch[:half], label+"a")
		if err != nil {
			return first, err
		}
		second, err := h.send(ctx, object, batch[half:], label+"b")
		return append(first, second...), err
	}
	if err != nil {
		return nil, fmt.Errorf("hubspot: %s", hubspotReasonOrErr(err))
	}
	var out hubspotBatchResult
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		return nil, fmt.Errorf("hubspot: %s batch update %s: the answer is not JSON: %w", ot, label, err)
	}
	rejected := map[string]string{}
	for _, e := range out.Errors {
		for _, id := range e.Context["ids"] {
			rejected[id] = strings.TrimSpace(e.Category + ": " + e.Message)
		}
	}
	updated := map[string]bool{}
	for _, r := range out.Results {
		updated[r.ID] = true
	}
	outs := make([]Outcome, 0, len(batch))
	for _, r := range batch {
		switch {
		case rejected[r.ID] != "":
			outs = append(outs, Outcome{Key: r.Key(), Reason: rejected[r.ID]})
		case updated[r.ID]:
			outs = append(outs, Outcome{Key: r.Key(), OK: true})
		default:
			outs = append(outs, Outcome{Key: r.Key(), Reason: "HubSpot's answer neither updated nor rejected it"})
		}
	}
	return outs, nil
}

// hubspotReasonOrErr is the whole error with HubSpot's own message when it sent one.
func hubspotReasonOrErr(err error) string {
	var he *extract.HTTPError
	if errors.As(err, &he) && he.Detail != "" {
		return he.Error()
	}
	return err.Error()
}

// Recover settles a batch whose answer a dead sync never got: it reads the records back
// (batch read, https://developers.hubspot.com/docs/api-reference/latest/crm/objects/objects/batch/get-objects)
// and counts as synced each one that holds exactly the values the batch sent. The others
// (not applied, changed since, or values HubSpot reformatted) have no outcome: sent again.
func (h *HubSpot) Recover(ctx context.Context, p Pending) ([]Outcome, error) {
	ot := hubspotObject(p.Object)
	keys := make([]string, 0, len(p.Records))
	for k := range p.Records {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var outs []Outcome
	for _, batch := range chunks(keys, HubSpotBatchSize) {
		var props []string
		in := struct {
			Inputs     []map[string]string `json:"inputs"`
			Properties []string            `json:"properties"`
		}{}
		for _, k := range batch {
			in.Inputs = append(in.Inputs, map[string]string{"id": strings.TrimPrefix(k, p.Object+"/")})
			for name := range p.Records[k].Values {
				if !slices.Contains(props, name) {
					props = append(props, name)
				}
			}
		}
		sort.Strings(props)
		in.Properties = props
		body, _ := json.Marshal(in)
		resp, err := h.Caller.Do(ctx, extract.Request{Method: http.MethodPost, URL: h.url("/crm/v3/objects/" + ot + "/batch/read"), Body: body, What: ot + " batch read (recovery)"})
		if err != nil {
			return outs, fmt.Errorf("hubspot: read back the %s of an unanswered batch (scope crm.objects.%s.read): %s", ot, ot, hubspotReasonOrErr(err))
		}
		var got struct {
			Results []struct {
				ID         string             `json:"id"`
				Properties map[string]*string `json:"properties"`
			} `json:"results"`
		}
		if err := json.Unmarshal(resp.Body, &got); err != nil {
			return outs, fmt.Errorf("hubspot: %s batch read: %w", ot, err)
		}
		for _, r := range got.Results {
			key := p.Object + "/" + r.ID
			sent, ok := p.Records[key]
			if !ok {
				continue
			}
			same := true
			for name, v := range sent.Values {
				if !sameValue(v, r.Properties[name]) {
					same = false
					break
				}
			}
			if same {
				outs = append(outs, Outcome{Key: key, OK: true})
			}
		}
	}
	return outs, nil
}

// sameValue compares a value sent with one read back; nil and "" are both a cleared property.
func sameValue(sent, got *string) bool {
	a, b := "", ""
	if sent != nil {
		a = *sent
	}
	if got != nil {
		b = *got
	}
	return a == b
}
