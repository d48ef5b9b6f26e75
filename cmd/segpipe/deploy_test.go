package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	defaultconfig "github.com/segpipe/segpipe/config"
	"github.com/segpipe/segpipe/internal/config"
)

// The examples people copy are the fenced blocks of docs/operations.md: this file checks them
// as they are written there.

// fenced returns the fenced code blocks of a markdown file with the given info string.
func fenced(t *testing.T, file, lang string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	var cur *strings.Builder
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case cur == nil && line == "```"+lang:
			cur = &strings.Builder{}
		case cur != nil && line == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	return blocks
}

// defaultOpsPort is the port of serve.address when the config does not set it (the demo
// config leaves it to the default).
func defaultOpsPort(t *testing.T) int {
	t.Helper()
	cfg, err := config.Parse(defaultconfig.DemoName, defaultconfig.DemoYAML, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	_, port, err := net.SplitHostPort(cfg.Serve.Address)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(port)
	return n
}

// checkArgs runs a container's args through segpipe's own flag parsing: the command exists
// and every flag is one it takes.
func checkArgs(t *testing.T, where string, args []string) {
	t.Helper()
	if len(args) == 0 {
		t.Fatalf("%s: no args", where)
	}
	var out, errOut strings.Builder
	if code := run(context.Background(), append(append([]string(nil), args...), "--help"), &out, &errOut); code != 0 {
		t.Errorf("%s: segpipe %s is not a command line segpipe takes: %s", where, strings.Join(args, " "), errOut.String())
	}
}

var secretLooking = regexp.MustCompile(`(?i)(token|secret|password|key)`)

func checkContainer(t *testing.T, where string, c corev1.Container, wantPort int) {
	t.Helper()
	checkArgs(t, where, c.Args)
	if !strings.HasPrefix(c.Image, "registry.example.com/segpipe:") {
		t.Errorf("%s: image %q", where, c.Image)
	}
	for _, e := range c.Env {
		if secretLooking.MatchString(e.Name) && e.Value != "" {
			t.Errorf("%s: env %s holds a literal value; take it from a Secret (valueFrom.secretKeyRef)", where, e.Name)
		}
	}
	sc := c.SecurityContext
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
		t.Errorf("%s: container securityContext %+v: want no privilege escalation, a read-only root filesystem, all capabilities dropped", where, sc)
	}
	// A read-only root needs somewhere to write: TMPDIR on a mounted volume.
	tmp := ""
	for _, e := range c.Env {
		if e.Name == "TMPDIR" {
			tmp = e.Value
		}
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		if tmp != "" && strings.HasPrefix(tmp, m.MountPath) && !m.ReadOnly {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("%s: TMPDIR %q is not on a writable volume", where, tmp)
	}
	if wantPort > 0 {
		if len(c.Ports) != 1 || c.Ports[0].ContainerPort != int32(wantPort) {
			t.Errorf("%s: ports %+v, want the ops port %d", where, c.Ports, wantPort)
		}
		for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
			want := map[string]string{"liveness": "/healthz", "readiness": "/readyz"}[name]
			if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != want || p.HTTPGet.Port.String() != c.Ports[0].Name {
				t.Errorf("%s: %s probe %+v, want GET %s on the ops port", where, name, p, want)
			}
		}
	}
}

func checkPodSecurity(t *testing.T, where string, ps *corev1.PodSecurityContext) {
	t.Helper()
	if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.RunAsUser == nil || *ps.RunAsUser != 10001 {
		t.Errorf("%s: pod securityContext %+v: want runAsNonRoot and the image's uid 10001", where, ps)
	}
}

// The Kubernetes manifests decode strictly (an unknown or misplaced field is an error, as with
// kubectl --validate=strict) into the API types, and carry the fields that have bitten.
func TestKubernetesManifests(t *testing.T) {
	port := defaultOpsPort(t)
	kinds := map[string]int{}
	for _, block := range fenced(t, "../../docs/operations.md", "yaml") {
		if !strings.Contains(block, "apiVersion:") {
			continue // a config excerpt
		}
		for _, doc := range strings.Split(block, "\n---\n") {
			var meta struct{ Kind string }
			if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
				t.Fatal(err)
			}
			kinds[meta.Kind]++
			switch meta.Kind {
			case "CronJob":
				var cj batchv1.CronJob
				if err := yaml.UnmarshalStrict([]byte(doc), &cj); err != nil {
					t.Fatalf("CronJob does not decode strictly: %v", err)
				}
				where := "CronJob " + cj.Name
				js := cj.Spec.JobTemplate.Spec
				if js.BackoffLimit == nil || *js.BackoffLimit > 2 {
					t.Errorf("%s: jobTemplate.spec.backoffLimit %v: set it low (segpipe retries itself)", where, js.BackoffLimit)
				}
				if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
					t.Errorf("%s: concurrencyPolicy %q, want Forbid", where, cj.Spec.ConcurrencyPolicy)
				}
				if cj.Spec.StartingDeadlineSeconds == nil {
					t.Errorf("%s: no startingDeadlineSeconds", where)
				}
				if _, err := config.CronParser.Parse(cj.Spec.Schedule); err != nil {
					t.Errorf("%s: schedule %q: %v", where, cj.Spec.Schedule, err)
				}
				if cj.Spec.TimeZone != nil {
					if _, err := time.LoadLocation(*cj.Spec.TimeZone); err != nil {
						t.Errorf("%s: timeZone: %v", where, err)
					}
				}
				pod := js.Template.Spec
				if pod.RestartPolicy != corev1.RestartPolicyNever && pod.RestartPolicy != corev1.RestartPolicyOnFailure {
					t.Errorf("%s: restartPolicy %q (a Job's pod needs Never or OnFailure)", where, pod.RestartPolicy)
				}
				checkPodSecurity(t, where, pod.SecurityContext)
				for _, c := range pod.Containers {
					checkContainer(t, where, c, 0)
					if c.Args[0] != "run" {
						t.Errorf("%s: a CronJob runs `segpipe run <job>`, got %v", where, c.Args)
					}
				}
			case "Deployment":
				var d appsv1.Deployment
				if err := yaml.UnmarshalStrict([]byte(doc), &d); err != nil {
					t.Fatalf("Deployment does not decode strictly: %v", err)
				}
				where := "Deployment " + d.Name
				if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
					t.Errorf("%s: replicas %v, want 1", where, d.Spec.Replicas)
				}
				pod := d.Spec.Template.Spec
				if pod.TerminationGracePeriodSeconds == nil || *pod.TerminationGracePeriodSeconds <= 300 {
					t.Errorf("%s: terminationGracePeriodSeconds %v must be above serve.shutdown_grace (5m)", where, pod.TerminationGracePeriodSeconds)
				}
				checkPodSecurity(t, where, pod.SecurityContext)
				for _, c := range pod.Containers {
					checkContainer(t, where, c, port)
					if c.Args[0] != "serve" {
						t.Errorf("%s: runs %v, want serve", where, c.Args)
					}
				}
			default:
				t.Errorf("a manifest of kind %q the test does not check", meta.Kind)
			}
		}
	}
	if kinds["CronJob"] != 1 || kinds["Deployment"] != 1 {
		t.Errorf("manifests found: %v", kinds)
	}
	// The test's own teeth: the CronJob as it was (backoffLimit at the CronJob level) fails.
	bad := "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: x}\nspec:\n  schedule: \"0 2 * * *\"\n  backoffLimit: 1\n  jobTemplate: {spec: {template: {spec: {containers: []}}}}\n"
	if err := yaml.UnmarshalStrict([]byte(bad), &batchv1.CronJob{}); err == nil || !strings.Contains(err.Error(), "backoffLimit") {
		t.Errorf("strict decoding accepts backoffLimit on the CronJob: %v", err)
	}
}

// The systemd unit: hardened (systemd-analyze security scores it, when the machine has
// systemd-analyze), secrets as credentials, the command line one segpipe takes.
func TestSystemdUnit(t *testing.T) {
	var unit string
	for _, b := range fenced(t, "../../docs/operations.md", "ini") {
		if strings.Contains(b, "[Service]") {
			unit = b
		}
	}
	if unit == "" {
		t.Fatal("no systemd unit in docs/operations.md")
	}
	directives := map[string][]string{}
	for _, line := range strings.Split(unit, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "[") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("not a directive: %q", line)
			continue
		}
		directives[k] = append(directives[k], v)
	}
	for k, want := range map[string]string{
		"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
		"PrivateDevices": "yes", "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes", "ProtectKernelLogs": "yes",
		"ProtectControlGroups": "yes", "ProtectClock": "yes", "ProtectHostname": "yes", "RestrictNamespaces": "yes",
		"LockPersonality": "yes", "MemoryDenyWriteExecute": "yes", "RestrictRealtime": "yes", "RestrictSUIDSGID": "yes",
		"SystemCallArchitectures": "native", "CapabilityBoundingSet": "", "AmbientCapabilities": "",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "UMask": "0022", "KillSignal": "SIGTERM", "StateDirectory": "segpipe",
	} {
		if got := directives[k]; len(got) == 0 || got[0] != want {
			t.Errorf("%s=%v, want %q", k, got, want)
		}
	}
	if len(directives["LoadCredential"]) == 0 || len(directives["EnvironmentFile"]) > 0 {
		t.Errorf("secrets: LoadCredential %v, EnvironmentFile %v; want credentials, not an environment file", directives["LoadCredential"], directives["EnvironmentFile"])
	}
	exec0 := strings.Fields(directives["ExecStart"][0])
	if exec0[0] != "/usr/local/bin/segpipe" {
		t.Errorf("ExecStart %v", exec0)
	}
	checkArgs(t, "ExecStart", exec0[1:])
	if stop, err := time.ParseDuration(strings.Replace(directives["TimeoutStopSec"][0], "min", "m", 1)); err != nil || stop <= 5*time.Minute {
		t.Errorf("TimeoutStopSec %v must be above serve.shutdown_grace (5m): %v", directives["TimeoutStopSec"], err)
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze is not on this machine: the exposure score is not checked")
		return
	}
	file := filepath.Join(t.TempDir(), "segpipe.service")
	if err := os.WriteFile(file, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	// --threshold is in tenths of the exposure score: fail above 2.0.
	out, err := exec.Command(analyze, "security", "--offline=yes", "--threshold=20", file).CombinedOutput()
	score := regexp.MustCompile(`Overall exposure level for \S+: ([\d.]+)`).FindSubmatch(out)
	if err != nil || score == nil {
		t.Fatalf("systemd-analyze security: %v (exposure above 2?)\n%s", err, out)
	}
	t.Logf("systemd-analyze security: exposure %s", score[1])
}

// The Dockerfile exposes the ops port serve listens on by default and carries the OCI labels.
func TestDockerfile(t *testing.T) {
	f, err := os.Open("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	// Join continuation lines, then read the final stage's instructions.
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	stages := strings.Split(text, "\nFROM ")
	final := stages[len(stages)-1]
	var exposed []string
	labels := map[string]string{}
	user := ""
	for _, line := range strings.Split(final, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "EXPOSE":
			exposed = append(exposed, f[1:]...)
		case "USER":
			user = f[1]
		case "LABEL":
			for _, m := range regexp.MustCompile(`([a-z.]+)="([^"]*)"`).FindAllStringSubmatch(line, -1) {
				labels[m[1]] = m[2]
			}
		}
	}
	if want := strconv.Itoa(defaultOpsPort(t)); len(exposed) != 1 || exposed[0] != want {
		t.Errorf("EXPOSE %v, want the ops port %s", exposed, want)
	}
	for _, k := range []string{"title", "description", "source", "version", "revision"} {
		if labels["org.opencontainers.image."+k] == "" {
			t.Errorf("no OCI label org.opencontainers.image.%s: %v", k, labels)
		}
	}
	if labels["org.opencontainers.image.version"] != "${VERSION}" || labels["org.opencontainers.image.revision"] != "${REVISION}" {
		t.Errorf("version and revision labels come from the build args: %v", labels)
	}
	if !strings.HasPrefix(user, "10001") {
		t.Errorf("USER %q, want the uid the manifests run as (10001)", user)
	}
}
