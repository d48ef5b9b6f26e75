// Package bench measures the nightly path (extract to publish) against the synthetic company
// and the floors under it: what `segpipe bench` runs (docs/performance.md). The command
// parses its flags, builds the config and prints the report; everything measured is here.
package bench

import (
	"syscall"
	"time"
)

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
	PeakRSS   int64              `json:"peak_rss_bytes"`
	ServerRSS int64              `json:"server_peak_rss_bytes,omitempty"`
	TotalWall float64            `json:"nightly_wall_seconds"`
	// MartRows is the number of rows the segment models produced, all layers together.
	MartRows int64   `json:"mart_rows"`
	Models   []Model `json:"models_by_time"`
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

// peakRSS is the process's peak resident set size so far, in bytes (Linux reports KiB).
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return int64(ru.Maxrss) * 1024
}
