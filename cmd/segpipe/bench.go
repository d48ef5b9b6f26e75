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
)

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", "segpipe bench [--accounts N] [--seed N] [--out FILE.json] [--lake DIR] [--no-floors]", stdout)
	accounts := fs.Int("accounts", 100_000, "accounts in the synthetic company")
	seed := fs.Uint64("seed", 1, "seed of the synthetic company")
	out := fs.String("out", "", "also write the report as JSON to this file")
	lakeDir := fs.String("lake", "", "lake directory to keep (default: a temporary one, removed)")
	noFloors := fs.Bool("no-floors", false, "skip the floor measurements")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the nightly path (extract to publish) to this file")
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
	rep.PerEntity = ready.Records
	for _, n := range ready.Records {
		rep.Records += n
	}
	rep.Stages = append(rep.Stages, bench.Stage{Stage: "generate + render (server)", WallSeconds: ready.GenerateSeconds, Rows: rep.Records})
	fmt.Fprintf(stdout, "segpipe bench: %s accounts (%s volume), %s records (%.1f GB of pages), served on %s\n", thousands(int64(*accounts)), *volume,
		thousands(rep.Records), float64(ready.RenderedBytes)/1e9, ready.URL)

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
	asOf := demo.DefaultEnd.AddDate(0, 0, -1).Format(time.DateOnly)
	p, err := buildParams(ctx, cfg, asOf, dir, logger, time.Now())
	if err != nil {
		return err
	}
	if _, ok := p.Lake.(*lake.FileStore); !ok {
		return usagef("--lake must be a local directory")
	}
	if *sqlProfile != "" {
		if err := os.MkdirAll(*sqlProfile, 0o755); err != nil {
			return fmt.Errorf("bench: --sql-profile: %w", err)
		}
		p.SQLProfileDir = *sqlProfile
	}

	var nightlyDone func()
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
		nightlyDone = pprof.StopCPUProfile // the floors are not part of the profile
	}
	if err := bench.Run(ctx, p, rep, !*noFloors, nightlyDone); err != nil {
		return err
	}
	rep.ServerRSS = child.PeakRSS()
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
	}
	row(bench.Stage{Stage: "nightly total", WallSeconds: rep.TotalWall, PeakRSSBytes: rep.PeakRSS})
	for _, s := range rep.Floors {
		row(s)
	}
	fmt.Fprintf(w, "\nsegment models produced %s rows; the export server process peaked at %d MiB.\n", thousands(rep.MartRows), rep.ServerRSS>>20)
	if slowest := rep.Models[:min(5, len(rep.Models))]; len(slowest) > 0 {
		fmt.Fprint(w, "slowest models:")
		for _, m := range slowest {
			fmt.Fprintf(w, " %s %.2fs;", m.Name, m.Seconds)
		}
		fmt.Fprintln(w)
	}
	if r, ok := rep.Ratios["extract_vs_decode_floor"]; ok {
		fmt.Fprintf(w, "extract + land runs at %.2f of floor (2)'s rows/s (target at least 0.70)\n", r)
	}
	if r, ok := rep.Ratios["transform_vs_sql_floor"]; ok {
		fmt.Fprintf(w, "transform + audit takes %.2fx floor (3) (target at most 1.5x)\n", r)
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
	if err := bench.Serve(ctx, demo.Options{Accounts: *accounts, Seed: *seed, Volume: vol}, pages, sizes, tokens, os.Stdin, stdout); err != nil {
		return fmt.Errorf("bench-serve: %w", err)
	}
	return nil
}
