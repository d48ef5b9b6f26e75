package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/segpipe/segpipe/internal/demo"
)

// ChildEnv marks the export-server child process, which the bench starts as this program
// run again (tests re-run their own binary with it).
const ChildEnv = "SEGPIPE_BENCH_CHILD"

// Ready is the line the export-server child prints once it serves.
type Ready struct {
	URL     string           `json:"url"`
	Records map[string]int64 `json:"records"`
	// GenerateSeconds is the time to generate the company and render its pages to disk.
	GenerateSeconds float64 `json:"generate_seconds"`
	// RenderedBytes is the size of the rendered pages on disk (bodies without envelopes).
	RenderedBytes int64 `json:"rendered_bytes"`
	// FirstNight is the instant the first night's exports show the company at (RFC 3339);
	// Changes counts, per entity, the records the second night can serve (demo.ChangeWindow).
	FirstNight string           `json:"first_night"`
	Changes    map[string]int64 `json:"changes"`
}

// secondNightCommand is the line the bench writes to the child's stdin to switch it to the
// second night; the child answers with a line once it serves it.
const secondNightCommand = "second-night"

// Server is the export-server child process: the figures are the pipeline's own, as they
// would be against the vendors' real APIs, and not shared with the servers' work.
type Server struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
}

// StartServer runs this program again with args (the command that serves, Serve) and waits
// for the line saying it serves.
func StartServer(ctx context.Context, args []string) (*Server, *Ready, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("bench: find this program to start the export servers: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), ChildEnv+"=1")
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
	s := &Server{cmd: cmd, stdin: stdin, stdout: bufio.NewReader(stdout)}
	line, err := s.stdout.ReadString('\n')
	if err != nil {
		s.Stop()
		return nil, nil, fmt.Errorf("bench: the export server process stopped before serving: %w", err)
	}
	var ready Ready
	if err := json.Unmarshal([]byte(line), &ready); err != nil || ready.URL == "" {
		s.Stop()
		return nil, nil, fmt.Errorf("bench: unexpected line from the export server process: %q", strings.TrimSpace(line))
	}
	return s, &ready, nil
}

// SecondNight switches the child to the second night (demo.Prerendered.SecondNight): from
// then on it serves only the records changed since the first night, to updated_since requests.
func (s *Server) SecondNight() error {
	if _, err := fmt.Fprintln(s.stdin, secondNightCommand); err != nil {
		return fmt.Errorf("bench: switch the export server to the second night: %w", err)
	}
	line, err := s.stdout.ReadString('\n')
	if err != nil {
		return fmt.Errorf("bench: the export server process stopped while switching to the second night: %w", err)
	}
	if strings.TrimSpace(line) != `{"night":2}` {
		return fmt.Errorf("bench: the export server did not switch to the second night: %q", strings.TrimSpace(line))
	}
	return nil
}

// PeakRSS is the child's peak RSS (VmHWM), 0 when it cannot be read.
func (s *Server) PeakRSS() int64 {
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

// Stop closes the child's stdin, which makes it exit, and waits for it.
func (s *Server) Stop() {
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

// Serve is the child's work: it streams two nights of the company into pre-rendered page
// files under dir at the given page sizes (the first night, first, in full; the second, the
// company at End, as the records changed since: demo.PrerenderNights), serves them on
// loopback, prints one JSON line (Ready) to stdout and serves until stdin closes (or ctx
// ends). A line "second-night" on stdin switches to the second night and is answered with
// {"night":2}. Serving the first night costs no encoding: pages are copied from the files.
func Serve(ctx context.Context, opts demo.Options, first time.Time, dir string, sizes demo.PageSizes, tokens demo.Tokens, stdin io.Reader, stdout io.Writer) error {
	t0 := time.Now()
	pre, err := demo.PrerenderNights(ctx, opts, dir, sizes, tokens, first)
	if err != nil {
		return err
	}
	gen := time.Since(t0).Seconds()
	defer pre.Close()
	srv, err := demo.StartPrerendered(pre)
	if err != nil {
		return err
	}
	defer srv.Close()
	counts := func(rc demo.RowCounts) map[string]int64 {
		return map[string]int64{
			"accounts": int64(rc.Accounts), "opportunities": int64(rc.Opportunities), "subscriptions": int64(rc.Subscriptions),
			"invoices": int64(rc.Invoices), "tickets": int64(rc.Tickets), "usage": int64(rc.Usage),
		}
	}
	ready := Ready{URL: srv.URL, GenerateSeconds: gen, RenderedBytes: pre.Bytes(), Records: counts(pre.RowCounts()),
		FirstNight: first.UTC().Format(time.RFC3339), Changes: counts(pre.ChangeCounts())}
	b, _ := json.Marshal(ready)
	if _, err := fmt.Fprintf(stdout, "%s\n", b); err != nil {
		return err
	}
	// Serve until the parent closes our stdin (or dies, which closes it too).
	done := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			if sc.Text() != secondNightCommand {
				done <- fmt.Errorf("bench-serve: unknown command %q on stdin", sc.Text())
				return
			}
			if err := pre.SecondNight(); err != nil {
				done <- err
				return
			}
			if _, err := fmt.Fprintln(stdout, `{"night":2}`); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	return nil
}
