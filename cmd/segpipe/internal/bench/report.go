// Package bench measures the nightly path (extract to publish) against the synthetic company
// and the floors under it: what `segpipe bench` runs (docs/performance.md). The command
// parses its flags, builds the config and prints the report; everything measured is here.
package bench

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// resetPeakRSS starts peakRSS over from the current RSS (Linux: "5" to /proc/self/clear_refs),
// so that a night's peak is its own. Where that cannot be done the peak stays the process's.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// Stage is one measured stage of a bench run.
type Stage struct {
	Stage         string  `json:"stage"`
	WallSeconds   float64 `json:"wall_seconds"`
	CPUSeconds    float64 `json:"cpu_seconds,omitempty"`
	Rows          int64   `json:"rows,omitempty"`
	Bytes         int64   `json:"bytes,omitempty"`
	RowsPerSecond float64 `json:"rows_per_second,omitempty"`
	MBPerSecond   float64 `json:"mb_per_second,omitempty"`
	PeakRSSBytes  int64   `json:"peak_rss_bytes,omitempty"`
}

// Report is what `segpipe bench` prints and writes with --out.
type Report struct {
	Accounts  int                `json:"accounts"`
	Seed      uint64             `json:"seed"`
	Volume    string             `json:"volume"`
	Records   int64              `json:"records"`
	PerEntity map[string]int64   `json:"records_per_entity"`
	Version   string             `json:"version"`
	GoVersion string             `json:"go_version"`
	CPUs      int                `json:"cpus"`
	StartedAt time.Time          `json:"started_at"`
	Stages    []Stage            `json:"stages"`
	Floors    []Stage            `json:"floors"`
	Ratios    map[string]float64 `json:"ratios"`
	ServerRSS int64              `json:"server_peak_rss_bytes,omitempty"`
	// FullWall, FullPeakRSS and FullRecords are the first load's: ingest and segment on a
	// fresh lake, every export pulled whole; FullRecords counts the records it read.
	FullWall    float64 `json:"full_wall_seconds"`
	FullPeakRSS int64   `json:"full_peak_rss_bytes"`
	FullRecords int64   `json:"full_records"`
	// TotalWall, PeakRSS and NightlyRecords are the next night's: the day's changes pulled
	// (incremental) and the segment job run, on the same lake.
	TotalWall      float64 `json:"nightly_wall_seconds"`
	PeakRSS        int64   `json:"peak_rss_bytes"`
	NightlyRecords int64   `json:"nightly_records"`
	// Changes counts, per entity, the records the server held for the second night.
	Changes map[string]int64 `json:"changes_served,omitempty"`
	// MartRows is the number of rows the nightly's segment models produced, all layers together.
	MartRows int64   `json:"mart_rows"`
	Models   []Model `json:"models_by_time"`
	// Targets are issue #21's, each measured against its target (Targets fills them).
	Targets []Target `json:"targets,omitempty"`
}

// Target is one of the targets the bench is held to, with the figure measured.
type Target struct {
	Name     string  `json:"name"`
	Measured float64 `json:"measured"`
	Target   float64 `json:"target"`
	Unit     string  `json:"unit"`
	// AtLeast: the target is a floor (measured must be at least it); else a ceiling.
	AtLeast bool `json:"at_least,omitempty"`
	// Ratio is measured / target; Met whether the target is met.
	Ratio float64 `json:"ratio"`
	Met   bool    `json:"met"`
}

// target builds a Target with its ratio and verdict.
func target(name string, measured, limit float64, unit string, atLeast bool) Target {
	t := Target{Name: name, Measured: measured, Target: limit, Unit: unit, AtLeast: atLeast}
	if limit != 0 {
		t.Ratio = measured / limit
	}
	t.Met = measured <= limit
	if atLeast {
		t.Met = measured >= limit
	}
	return t
}

// Targets returns the targets of issue #21 that apply to rep, measured: the nightly and full
// wall times at 100,000 and 1,000,000 accounts, the nightly's peak RSS, the extract's share of
// floor (2) at 1,000,000 and, when smaller is a report at a tenth of rep's accounts, how much
// longer 10x the accounts take.
func Targets(rep *Report, smaller *Report) []Target {
	var out []Target
	walls := map[int][2]float64{100_000: {15, 35}, 1_000_000: {180, 300}}
	if w, ok := walls[rep.Accounts]; ok {
		out = append(out, target("nightly wall", rep.TotalWall, w[0], "s", false), target("full recompute wall", rep.FullWall, w[1], "s", false))
	}
	out = append(out, target("nightly peak RSS", float64(rep.PeakRSS)/(1<<30), 2, "GiB", false))
	if r, ok := rep.Ratios["extract_vs_decode_floor"]; ok && rep.Accounts == 1_000_000 {
		out = append(out, target("extract ÷ floor (2) rows/s", r, 0.8, "", true))
	}
	if smaller != nil && smaller.Accounts*10 == rep.Accounts && smaller.TotalWall > 0 && smaller.FullWall > 0 {
		out = append(out, target("10x accounts: nightly time", rep.TotalWall/smaller.TotalWall, 10.5, "x", false),
			target("10x accounts: full time", rep.FullWall/smaller.FullWall, 10.5, "x", false))
	}
	return out
}

// Model is a model's build time, for the slowest-models line.
type Model struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// rated fills a stage's rows/s and MB/s from its rows, bytes and wall time.
func rated(s Stage) Stage {
	if s.WallSeconds > 0 {
		s.RowsPerSecond = float64(s.Rows) / s.WallSeconds
		s.MBPerSecond = float64(s.Bytes) / 1e6 / s.WallSeconds
	}
	return s
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

// peakRSS is the process's peak resident set size since resetPeakRSS (or since it started),
// in bytes: VmHWM of /proc/self/status, else getrusage's (which cannot be reset).
func peakRSS() int64 {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				if kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64); err == nil {
					return kb * 1024
				}
			}
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return int64(ru.Maxrss) * 1024
}
