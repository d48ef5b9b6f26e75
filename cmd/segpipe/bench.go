package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/segpipe/segpipe/cmd/segpipe/internal/bench"
	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/jobs"
)

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", "segpipe bench [--accounts N] [--seed N] [--out FILE.json] [--lake DIR] [--no-floors] [--growth-from FILE.json]", stdout)
	accounts := fs.Int("accounts", 100_000, "accounts in the synthetic company")
	seed := fs.Uint64("seed", 1, "seed of the synthetic company")
	out := fs.String("out", "", "also write the report as JSON to this file")
	lakeDir := fs.String("lake", "", "lake directory to keep (default: a temporary one, removed)")
	noFloors := fs.Bool("no-floors", false, "skip the floor measurements")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the nightly run (the second night, extract to publish) to this file")
	growthFrom := fs.String("growth-from", "", "a bench report (--out) at a tenth of --accounts: print how much longer 10x the accounts take")
	configFile := fs.String("config", "", "config to run with (default: the embedded demo config); its sources must be the demo's")
	volume := fs.String("volume", demo.VolumeBench, `records per account: "bench" (about 24 invoices, 3 deals, 5 tickets, 30 usage rows) or "demo" (the demo company's)`)
	sqlProfile := fs.String("sql-profile", "", "write DuckDB's profile of every segment model into this directory, as <model>.json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("bench takes no arguments, got %q", fs.Args())
	}
	if *volume != demo.VolumeBench && *volume != "demo" {
		return usagef("--volume must be bench or demo, got %q", *volume)
	}
	if *accounts < 10 {
		return usagef("--accounts must be at least 10, got %d", *accounts)
	}
	logger, err := newLogger(stderr, *logLevel)
	if err != nil {
		return err
	}
	var smaller *bench.Report
	if *growthFrom != "" {
		b, err := os.ReadFile(*growthFrom)
		if err != nil {
			return usagef("--growth-from: %v", err)
		}
		smaller = &bench.Report{}
		if err := json.Unmarshal(b, smaller); err != nil {
			return usagef("--growth-from %s: not a bench report: %v", *growthFrom, err)
		}
		if smaller.Accounts*10 != *accounts || smaller.FullWall == 0 {
			return usagef("--growth-from %s: a report of %d accounts with both nights; want one of %d (a tenth of --accounts)", *growthFrom, smaller.Accounts, *accounts/10)
		}
	}
	rep := &bench.Report{Accounts: *accounts, Seed: *seed, Volume: *volume, Version: version, GoVersion: runtime.Version(),
		CPUs: runtime.NumCPU(), StartedAt: time.Now().UTC(), Ratios: map[string]float64{}}

	// The export servers run in a child process: the figures are the pipeline's own, as they
	// would be against the vendors' real APIs.
	serveArgs := []string{"bench-serve", "--accounts", strconv.Itoa(*accounts), "--seed", strconv.FormatUint(*seed, 10), "--volume", *volume}
	if *configFile != "" {
		serveArgs = append(serveArgs, "--config", *configFile)
	}
	child, ready, err := bench.StartServer(ctx, serveArgs)
	if err != nil {
		return err
	}
	defer child.Stop()
	rep.PerEntity, rep.Changes = ready.Records, ready.Changes
	for _, n := range ready.Records {
		rep.Records += n
	}
	var changes int64
	for _, n := range ready.Changes {
		changes += n
	}
	rep.Stages = append(rep.Stages, bench.Stage{Stage: "generate + render (server)", WallSeconds: ready.GenerateSeconds, Rows: rep.Records})
	fmt.Fprintf(stdout, "segpipe bench: %s accounts (%s volume), %s records (%.1f GB of pages) at the first night (%s), %s changed in the %d days before the second; served on %s\n",
		thousands(int64(*accounts)), *volume, thousands(rep.Records), float64(ready.RenderedBytes)/1e9, ready.FirstNight, thousands(changes), int(demo.ChangeWindow.Hours()/24), ready.URL)

	env := func(name string) (string, bool) {
		if name == "SEGPIPE_DEMO_URL" {
			return ready.URL, true
		}
		return os.LookupEnv(name)
	}
	cfg, err := demoConfig(*configFile, env)
	if err != nil {
		return err
	}
	dir := *lakeDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "segpipe-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	// The first night is as of the day before the company's last, the nightly as of its last.
	nights := bench.Nights{SecondNight: child.SecondNight}
	for i, pp := range []*jobs.Params{&nights.Full, &nights.Nightly} {
		asOf := demo.DefaultEnd.AddDate(0, 0, i-2).Format(time.DateOnly)
		if *pp, err = buildParams(ctx, cfg, asOf, dir, logger, time.Now()); err != nil {
			return err
		}
		if _, ok := pp.Lake.(*lake.FileStore); !ok {
			return usagef("--lake must be a local directory")
		}
	}
	if *sqlProfile != "" {
		if err := os.MkdirAll(*sqlProfile, 0o755); err != nil {
			return fmt.Errorf("bench: --sql-profile: %w", err)
		}
		nights.Nightly.SQLProfileDir = *sqlProfile // the models' profiles are the nightly's
	}
	if *cpuProfile != "" {
		var stop func()
		nights.NightlyStarts = func() (err error) {
			stop, err = startCPUProfile(*cpuProfile)
			return err
		}
		nights.NightlyDone = func() {
			if stop != nil {
				stop()
			}
		}
	}
	if err := bench.Run(ctx, nights, rep, !*noFloors); err != nil {
		return err
	}
	rep.ServerRSS = child.PeakRSS()
	rep.Targets = bench.Targets(rep, smaller)
	printBench(stdout, rep)
	if *out != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", *out, err)
		}
	}
	return nil
}

// startCPUProfile starts a CPU profile into path; stop ends it (once) and closes the file.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("bench: --cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("bench: --cpuprofile %s: %w", path, err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// printBench writes the report as a table, a stage a row.
func printBench(w io.Writer, rep *bench.Report) {
	fmt.Fprintf(w, "\n%-28s %8s %8s %11s %8s %10s %7s %9s\n", "stage", "wall s", "cpu s", "rows", "MB", "rows/s", "MB/s", "peak RSS")
	row := func(s bench.Stage) {
		cell := func(v float64, format string) string {
			if v == 0 {
				return ""
			}
			return fmt.Sprintf(format, v)
		}
		fmt.Fprintf(w, "%-28s %8.2f %8s %11s %8s %10s %7s %9s\n", s.Stage, s.WallSeconds, cell(s.CPUSeconds, "%.2f"),
			cell(float64(s.Rows), "%.0f"), cell(float64(s.Bytes)/1e6, "%.1f"), cell(s.RowsPerSecond, "%.0f"),
			cell(s.MBPerSecond, "%.1f"), cell(float64(s.PeakRSSBytes)/(1<<20), "%.0f MiB"))
	}
	for _, s := range rep.Stages {
		row(s)
		switch s.Stage {
		case "full: segment":
			row(bench.Stage{Stage: "full total", WallSeconds: rep.FullWall, Rows: rep.FullRecords, PeakRSSBytes: rep.FullPeakRSS})
		case "nightly: segment":
			row(bench.Stage{Stage: "nightly total", WallSeconds: rep.TotalWall, Rows: rep.NightlyRecords, PeakRSSBytes: rep.PeakRSS})
		}
	}
	for _, s := range rep.Floors {
		row(s)
	}
	fmt.Fprintf(w, "\nthe nightly's segment models produced %s rows; the export server process peaked at %d MiB.\n", thousands(rep.MartRows), rep.ServerRSS>>20)
	if slowest := rep.Models[:min(5, len(rep.Models))]; len(slowest) > 0 {
		fmt.Fprint(w, "slowest models:")
		for _, m := range slowest {
			fmt.Fprintf(w, " %s %.2fs;", m.Name, m.Seconds)
		}
		fmt.Fprintln(w)
	}
	if r, ok := rep.Ratios["extract_vs_decode_floor"]; ok {
		fmt.Fprintf(w, "the full load's extract + land runs at %.2f of floor (2)'s rows/s\n", r)
	}
	if r, ok := rep.Ratios["transform_vs_sql_floor"]; ok {
		fmt.Fprintf(w, "the full load's transform + audit takes %.2fx floor (3) (issue #7's target: at most 1.5x)\n", r)
	}
	if len(rep.Targets) > 0 {
		fmt.Fprintf(w, "\n%-30s %10s %10s %8s  %s\n", "target (issue #21)", "measured", "target", "ratio", "met")
		for _, t := range rep.Targets {
			op := "≤"
			if t.AtLeast {
				op = "≥"
			}
			met := "no"
			if t.Met {
				met = "yes"
			}
			fmt.Fprintf(w, "%-30s %10s %10s %8.2f  %s\n", t.Name, fmt.Sprintf("%.2f%s", t.Measured, t.Unit), op+fmt.Sprintf(" %g%s", t.Target, t.Unit), t.Ratio, met)
		}
	}
}

// cmdBenchServe is the hidden child of `segpipe bench`: it streams the company (bench volume
// by default) into pre-rendered page files at the page sizes of the demo config (or --config),
// serves them on loopback, prints one JSON line (benchServeReady) and serves until its stdin
// closes. Serving costs no encoding: pages are copied from the files.
func cmdBenchServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if os.Getenv(bench.ChildEnv) != "1" {
		return usagef("bench-serve is started by segpipe bench")
	}
	fs := newFlags("bench-serve", "segpipe bench-serve --accounts N --seed N [--volume bench|demo] [--dir DIR] [--config FILE]", stdout)
	accounts := fs.Int("accounts", 100_000, "accounts")
	seed := fs.Uint64("seed", 1, "seed")
	volume := fs.String("volume", demo.VolumeBench, `records per account: "bench" or "demo" (the demo company's)`)
	dir := fs.String("dir", "", "directory for the rendered pages, kept (default: a temporary one, removed on exit)")
	configFile := fs.String("config", "", "config whose crm, billing, support and product page sizes and tokens to serve (default: the embedded demo config)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	vol := *volume
	switch vol {
	case "demo":
		vol = ""
	case demo.VolumeBench:
	default:
		return usagef("--volume must be bench or demo, got %q", *volume)
	}
	cfg, err := demoConfig(*configFile, os.LookupEnv)
	if err != nil {
		return fmt.Errorf("bench-serve: %w", err)
	}
	var sizes demo.PageSizes
	tokens := demo.Tokens{}
	for name, size := range map[string]*int{"crm": &sizes.CRM, "billing": &sizes.Billing, "support": &sizes.Support, "product": &sizes.Product} {
		src, ok := cfg.Sources[name]
		if !ok {
			return fmt.Errorf("bench-serve: the config has no source %s to take its page size from", name)
		}
		*size = src.PageSize
		tokens[name] = src.Auth.Token.Reveal()
	}
	pages := *dir
	if pages == "" {
		if pages, err = os.MkdirTemp("", "segpipe-bench-pages-"); err != nil {
			return fmt.Errorf("bench-serve: %w", err)
		}
		defer os.RemoveAll(pages)
	}
	// The first night shows the company a day before its End; the second, at End.
	first := demo.DefaultEnd.Add(-24 * time.Hour)
	if err := bench.Serve(ctx, demo.Options{Accounts: *accounts, Seed: *seed, Volume: vol}, first, pages, sizes, tokens, os.Stdin, stdout); err != nil {
		return fmt.Errorf("bench-serve: %w", err)
	}
	return nil
}
