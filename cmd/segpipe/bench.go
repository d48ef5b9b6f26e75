package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/extract"
	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/jobs"
)

// BenchStage is one measured stage of a bench run.
type BenchStage struct {
	Stage         string  `json:"stage"`
	WallSeconds   float64 `json:"wall_seconds"`
	CPUSeconds    float64 `json:"cpu_seconds,omitempty"`
	Rows          int64   `json:"rows,omitempty"`
	Bytes         int64   `json:"bytes,omitempty"`
	RowsPerSecond float64 `json:"rows_per_second,omitempty"`
	MBPerSecond   float64 `json:"mb_per_second,omitempty"`
	PeakRSSBytes  int64   `json:"peak_rss_bytes,omitempty"`
}

// BenchReport is what `segpipe bench` prints and writes with --out.
type BenchReport struct {
	Accounts  int                `json:"accounts"`
	Seed      uint64             `json:"seed"`
	Volume    string             `json:"volume"`
	Records   int64              `json:"records"`
	PerEntity map[string]int64   `json:"records_per_entity"`
	Version   string             `json:"version"`
	GoVersion string             `json:"go_version"`
	CPUs      int                `json:"cpus"`
	StartedAt time.Time          `json:"started_at"`
	Stages    []BenchStage       `json:"stages"`
	Floors    []BenchStage       `json:"floors"`
	Ratios    map[string]float64 `json:"ratios"`
	PeakRSS   int64              `json:"peak_rss_bytes"`
	ServerRSS int64              `json:"server_peak_rss_bytes,omitempty"`
	TotalWall float64            `json:"nightly_wall_seconds"`
	Models    []benchModel       `json:"models_by_time"`
}

// benchServeReady is the line the bench-serve child prints once it serves.
type benchServeReady struct {
	URL     string           `json:"url"`
	Records map[string]int64 `json:"records"`
	// GenerateSeconds is the time to generate the company and render its pages to disk.
	GenerateSeconds float64 `json:"generate_seconds"`
	// RenderedBytes is the size of the rendered pages on disk (bodies without envelopes).
	RenderedBytes int64 `json:"rendered_bytes"`
}

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
	rep := &BenchReport{Accounts: *accounts, Seed: *seed, Volume: *volume, Version: version, GoVersion: runtime.Version(),
		CPUs: runtime.NumCPU(), StartedAt: time.Now().UTC(), Ratios: map[string]float64{}}

	// The export servers run in a child process: the figures are the pipeline's own, as they
	// would be against the vendors' real APIs.
	child, ready, err := startBenchServer(ctx, *accounts, *seed, *volume, *configFile)
	if err != nil {
		return err
	}
	defer child.stop()
	rep.PerEntity = ready.Records
	for _, n := range ready.Records {
		rep.Records += n
	}
	rep.Stages = append(rep.Stages, BenchStage{Stage: "generate + render (server)", WallSeconds: ready.GenerateSeconds, Rows: rep.Records})
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

	// The nightly path, stage by stage.
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	t0, u0 := time.Now(), cpuTime()
	ing, err := jobs.Ingest(ctx, p)
	if err != nil {
		return fmt.Errorf("bench ingest: %w", err)
	}
	extractStage := BenchStage{Stage: "extract + land", WallSeconds: time.Since(t0).Seconds(), CPUSeconds: cpuTime() - u0, PeakRSSBytes: peakRSS()}
	var parquetBytes int64
	for _, m := range ing.Datasets {
		extractStage.Rows += m.Rows + m.Quarantined
		extractStage.Bytes += m.ResponseBytes
		parquetBytes += m.Bytes
	}
	extractStage = rated(extractStage)
	rep.Stages = append(rep.Stages, extractStage)

	t1, u1 := time.Now(), cpuTime()
	seg, err := jobs.Segment(ctx, p)
	if err != nil {
		return fmt.Errorf("bench segment: %w", err)
	}
	segStage := BenchStage{Stage: "segment", WallSeconds: time.Since(t1).Seconds(), CPUSeconds: cpuTime() - u1,
		Rows: extractStage.Rows, Bytes: parquetBytes, PeakRSSBytes: peakRSS()}
	runs, err := jobs.ListRuns(ctx, p.Lake, jobs.JobSegment, 1)
	if err != nil || len(runs) == 0 {
		return fmt.Errorf("bench: read the segment run record: %v", err)
	}
	for _, name := range []string{"register", "transform", "audit", "export", "publish"} {
		if s, ok := runs[0].Stages[name]; ok {
			rep.Stages = append(rep.Stages, BenchStage{Stage: "  " + name, WallSeconds: s})
		}
	}
	rep.Stages = append(rep.Stages, rated(segStage))
	rep.TotalWall = time.Since(t0).Seconds()
	if *cpuProfile != "" {
		pprof.StopCPUProfile() // the floors are not part of the profile
	}
	rep.PeakRSS = peakRSS()
	var martRows int64
	for _, m := range seg.Models {
		martRows += m.Rows
		rep.Models = append(rep.Models, benchModel{Name: m.Name, Seconds: m.Duration.Seconds()})
	}
	slices.SortFunc(rep.Models, func(a, b benchModel) int { return cmp.Compare(b.Seconds, a.Seconds) })

	if !*noFloors {
		for i, f := range []extract.Floor{extract.FloorDownload, extract.FloorDecode} {
			u := cpuTime()
			fl, err := jobs.MeasureIngestFloor(ctx, p, f)
			if err != nil {
				return fmt.Errorf("bench: %w", err)
			}
			rep.Floors = append(rep.Floors, rated(BenchStage{Stage: fmt.Sprintf("floor (%d) %s", i+1, f),
				WallSeconds: fl.Duration.Seconds(), CPUSeconds: cpuTime() - u, Rows: fl.Rows, Bytes: fl.ResponseBytes}))
		}
		u := cpuTime()
		tf, err := jobs.MeasureTransformFloor(ctx, p)
		if err != nil {
			return fmt.Errorf("bench: transform floor: %w", err)
		}
		rep.Floors = append(rep.Floors, rated(BenchStage{Stage: "floor (3) duckdb sql", WallSeconds: (tf.Models + tf.Assertions).Seconds(),
			CPUSeconds: cpuTime() - u, Rows: extractStage.Rows, Bytes: parquetBytes}))
		decode := rep.Floors[1]
		if decode.RowsPerSecond > 0 {
			rep.Ratios["extract_vs_decode_floor"] = extractStage.RowsPerSecond / decode.RowsPerSecond
		}
		transform := runs[0].Stages["transform"] + runs[0].Stages["audit"]
		if sql := rep.Floors[2].WallSeconds; sql > 0 && transform > 0 {
			rep.Ratios["transform_vs_sql_floor"] = transform / sql
		}
	}
	rep.ServerRSS = child.peakRSS()
	printBench(stdout, rep, martRows, rep.Models[:min(5, len(rep.Models))])
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

// rated fills a stage's rows/s and MB/s from its rows, bytes and wall time.
func rated(s BenchStage) BenchStage {
	if s.WallSeconds > 0 {
		s.RowsPerSecond = float64(s.Rows) / s.WallSeconds
		s.MBPerSecond = float64(s.Bytes) / 1e6 / s.WallSeconds
	}
	return s
}

func printBench(w io.Writer, rep *BenchReport, martRows int64, slowest []benchModel) {
	fmt.Fprintf(w, "\n%-28s %8s %8s %11s %8s %10s %7s %9s\n", "stage", "wall s", "cpu s", "rows", "MB", "rows/s", "MB/s", "peak RSS")
	row := func(s BenchStage) {
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
	row(BenchStage{Stage: "nightly total", WallSeconds: rep.TotalWall, PeakRSSBytes: rep.PeakRSS})
	for _, s := range rep.Floors {
		row(s)
	}
	fmt.Fprintf(w, "\nsegment models produced %s rows; the export server process peaked at %d MiB.\n", thousands(martRows), rep.ServerRSS>>20)
	if len(slowest) > 0 {
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

// benchModel is a model's build time, for the slowest-models line.
type benchModel struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// cpuTime is the process's user and system CPU time so far, in seconds.
func cpuTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return tvSeconds(ru.Utime) + tvSeconds(ru.Stime)
}

func tvSeconds(tv syscall.Timeval) float64 { return float64(tv.Sec) + float64(tv.Usec)/1e6 }

// peakRSS is the process's peak resident set size so far, in bytes (Linux reports KiB).
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return int64(ru.Maxrss) * 1024
}

// benchServer is the bench-serve child process.
type benchServer struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startBenchServer starts `segpipe bench-serve` and waits for the line saying it serves.
func startBenchServer(ctx context.Context, accounts int, seed uint64, volume, configFile string) (*benchServer, *benchServeReady, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("bench: find this program to start the export servers: %w", err)
	}
	args := []string{"bench-serve", "--accounts", strconv.Itoa(accounts), "--seed", strconv.FormatUint(seed, 10), "--volume", volume}
	if configFile != "" {
		args = append(args, "--config", configFile)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), benchChildEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("bench: start the export servers: %w", err)
	}
	s := &benchServer{cmd: cmd, stdin: stdin}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		s.stop()
		return nil, nil, fmt.Errorf("bench: the export server process stopped before serving: %w", err)
	}
	var ready benchServeReady
	if err := json.Unmarshal([]byte(line), &ready); err != nil || ready.URL == "" {
		s.stop()
		return nil, nil, fmt.Errorf("bench: unexpected line from the export server process: %q", strings.TrimSpace(line))
	}
	return s, &ready, nil
}

// peakRSS is the child's peak RSS (VmHWM), 0 when it cannot be read.
func (s *benchServer) peakRSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}

// stop closes the child's stdin, which makes it exit, and waits for it.
func (s *benchServer) stop() {
	s.stdin.Close()
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// benchChildEnv marks the bench-serve child process (tests re-run their own binary with it).
const benchChildEnv = "SEGPIPE_BENCH_CHILD"

// cmdBenchServe is the hidden child of `segpipe bench`: it streams the company (bench volume
// by default) into pre-rendered page files at the page sizes of the demo config (or --config),
// serves them on loopback, prints one JSON line (benchServeReady) and serves until its stdin
// closes. Serving costs no encoding: pages are copied from the files.
func cmdBenchServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if os.Getenv(benchChildEnv) != "1" {
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
	t0 := time.Now()
	pre, err := demo.Prerender(ctx, demo.Options{Accounts: *accounts, Seed: *seed, Volume: vol}, pages, sizes, tokens)
	if err != nil {
		return fmt.Errorf("bench-serve: %w", err)
	}
	gen := time.Since(t0).Seconds()
	defer pre.Close()
	srv, err := demo.StartPrerendered(pre)
	if err != nil {
		return fmt.Errorf("bench-serve: %w", err)
	}
	defer srv.Close()
	rc := pre.RowCounts()
	ready := benchServeReady{URL: srv.URL, GenerateSeconds: gen, RenderedBytes: pre.Bytes(), Records: map[string]int64{
		"accounts": int64(rc.Accounts), "opportunities": int64(rc.Opportunities), "subscriptions": int64(rc.Subscriptions),
		"invoices": int64(rc.Invoices), "tickets": int64(rc.Tickets), "usage": int64(rc.Usage),
	}}
	b, _ := json.Marshal(ready)
	if _, err := fmt.Fprintf(stdout, "%s\n", b); err != nil {
		return err
	}
	// Serve until the parent closes our stdin (or dies, which closes it too).
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return nil
}
