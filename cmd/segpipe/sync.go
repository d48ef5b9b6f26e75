package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/crmsync"
	"github.com/segpipe/segpipe/jobs"
)

// printSync prints what a sync planned and did: counts per object, the fields, a sample of
// the changes and the CRM's rejections.
func printSync(w io.Writer, res *jobs.SyncResult) {
	if res.Result == nil {
		return
	}
	r := res.Result
	mode := ""
	if r.DryRun {
		mode = " (dry run: nothing written)"
	}
	fmt.Fprintf(w, "Sync to %s (%s) of release %s, as_of %s%s\n", r.Target, r.Vendor, res.Release, r.AsOf, mode)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "records\tcreate\tupdate\tretry\tunchanged\tgone\tsent\tsynced\trejected\t")
	for _, obj := range []string{"account", "deal"} {
		c := r.Objects[obj]
		if c == nil {
			continue
		}
		fmt.Fprintf(tw, "%ss\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", obj, c.Create, c.Update, c.Retry, c.Unchanged, c.Gone, c.Sent, c.Synced, c.Rejected)
	}
	tw.Flush()
	fmt.Fprintf(w, "Changed: %.1f%% of the records already synced\n", 100*r.ChangedShare)
	if r.Resumed > 0 || r.Recovered > 0 {
		fmt.Fprintf(w, "Resumed an unfinished sync: %d answers from its journal, %d read back from its pending jobs\n", r.Resumed, r.Recovered)
	}
	if len(r.Fields) > 0 {
		fmt.Fprintln(w, "CRM fields:")
		for _, f := range r.Fields {
			line := fmt.Sprintf("  %s.%s -> %s (%s, %s)", f.Object, f.Field, f.CRMName, f.CRMType, strings.ReplaceAll(f.State, "_", " "))
			if f.Problem != "" {
				line += ": " + f.Problem
			}
			if f.Warning != "" {
				line += ": " + f.Warning
			}
			fmt.Fprintln(w, line)
		}
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(w, "Not written: %s.%s (%s): %s\n", s.Mapping.Field.Object, s.Mapping.Field.Name, s.Mapping.CRMName, s.Reason)
	}
	if len(r.Sample) > 0 {
		fmt.Fprintln(w, "Sample of the changes:")
		for _, c := range r.Sample {
			parts := make([]string, len(c.Fields))
			for i, f := range c.Fields {
				if c.Kind == "create" {
					parts[i] = f.Field + " " + shown(f.To)
				} else {
					parts[i] = fmt.Sprintf("%s %s -> %s", f.Field, shown(f.From), shown(f.To))
				}
			}
			fmt.Fprintf(w, "  %s (%s)%s: %s\n", c.Key, c.Kind, reasonSuffix(c), strings.Join(parts, ", "))
		}
	}
	if n := r.Total().Rejected; n > 0 {
		fmt.Fprintf(w, "Rejected by the CRM (%d; the next sync retries them):\n", n)
		for _, o := range r.Rejections {
			fmt.Fprintf(w, "  %s: %s\n", o.Key, o.Reason)
		}
		if n > len(r.Rejections) {
			fmt.Fprintf(w, "  ... and %d more (segpipe runs show %s)\n", n-len(r.Rejections), r.RunID)
		}
	}
}

func reasonSuffix(c crmsync.Change) string {
	if c.Reason == "" {
		return ""
	}
	return ", last rejected with " + c.Reason
}

func shown(v *string) string {
	if v == nil {
		return "(empty)"
	}
	return fmt.Sprintf("%q", *v)
}

// checkCRM asks the CRM of sync.target, read-only, about every mapped field and prints what
// it found; a field that cannot be written fails the check.
func checkCRM(ctx context.Context, cfg *config.Config, stdout io.Writer) error {
	st, err := jobs.SyncCheck(ctx, jobs.Params{Config: cfg})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "CRM fields of sync.target %s (%s):\n", cfg.Sync.Target, cfg.Sources[cfg.Sync.Target].Vendor)
	bad := 0
	for _, f := range st {
		line := fmt.Sprintf("  %s.%s -> %s: %s", f.Object, f.Field, f.CRMName, strings.ReplaceAll(f.State, "_", " "))
		if f.CRMType != "" {
			line += " (" + f.CRMType + ")"
		}
		if f.Problem != "" {
			line += ": " + f.Problem
			bad++
		}
		fmt.Fprintln(stdout, line)
	}
	if bad > 0 {
		return fmt.Errorf("config check: %d CRM fields of sync.target %s cannot be written (above)", bad, cfg.Sync.Target)
	}
	return nil
}
