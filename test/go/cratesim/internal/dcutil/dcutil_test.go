package dcutil

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"cratesim/internal/server"
	"cratesim/internal/sim"
)

func TestFlags(t *testing.T) {
	t.Setenv("HOSTNAME", "crate-data-hot-abc-2")
	t.Setenv("CDK_STATE", "/tmp/x")
	o, err := ParseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.Timeout != "7200s" || o.MinAvailability != "FULL" || o.CrateNodePrefix != "data-hot" || o.Proto != "https" ||
		o.Hostname != "crate-data-hot-abc-2" || o.PID != 1 || o.PIDSet || o.DryRun || o.ResetRouting ||
		o.LockFile != "/tmp/x/dc_util/crate-data-hot-abc-2/dc_util.lock" {
		t.Fatalf("%+v", o)
	}
	o, err = ParseFlags([]string{"--min-availability", "PRIMARIES", "--timeout", "720s", "-proto=http", "-dry-run", "--pid=7", "-reset-routing"})
	if err != nil || o.MinAvailability != "PRIMARIES" || o.Timeout != "720s" || o.Proto != "http" || !o.DryRun || o.PID != 7 || !o.PIDSet || !o.ResetRouting {
		t.Fatalf("%v %+v", err, o)
	}
	if _, err := ParseFlags([]string{"--nope"}); err == nil {
		t.Fatal("unknown flag accepted")
	}
}

func TestNames(t *testing.T) {
	for _, c := range []struct{ host, prefix, sts, node string }{
		{"crate-data-hot-1b2c3d-0", "data-hot", "crate-data-hot-1b2c3d", "data-hot-0"},
		{"crate-data-hot-my-cluster-2", "data-hot", "crate-data-hot-my-cluster", "data-hot-2"},
		{"crate-data-cold-abc-1", "data-cold", "crate-data-cold-abc", "data-cold-1"},
		{"crate-master-abc-0", "master", "crate-master-abc", "master-0"},
		{"other-pod-0", "data-hot", "other-pod", ""},
		{"crate-data-warm-abc-0", "data-hot", "crate-data-warm-abc", ""},
	} {
		sts, _ := StatefulSetName(c.host)
		node, err := NodeName(c.host, c.prefix)
		if sts != c.sts || node != c.node || (c.node == "" && err == nil) {
			t.Fatalf("%s/%s: sts %q node %q err %v", c.host, c.prefix, sts, node, err)
		}
	}
	if _, err := StatefulSetName("single"); err == nil {
		t.Fatal("hostname without ordinal accepted")
	}
}

func i64(v int64) *int64 { return &v }

func TestEffectiveTimeout(t *testing.T) {
	for _, c := range []struct {
		flag  string
		grace *int64
		want  string
	}{
		{"720s", nil, "720s"},
		{"720s", i64(30), "720s"},
		{"720s", i64(1200), "1080s"},
		{"720s", i64(300), "360s"},
		{"7200s", i64(600), "480s"},
	} {
		got, err := EffectiveTimeout(c.flag, c.grace)
		if err != nil || got != c.want {
			t.Fatalf("%s %v: %s %v", c.flag, c.grace, got, err)
		}
	}
	if _, err := EffectiveTimeout("soon", nil); err == nil {
		t.Fatal("bad timeout accepted")
	}
}

func TestRoutingOwner(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for _, c := range []struct {
		label string
		want  bool
	}{
		{"", false},
		{fmt.Sprintf("operator-%d", now.Unix()-3600), true},
		{fmt.Sprintf("operator-%d", now.Unix()-3*3600), false},
		{fmt.Sprintf("operator-%d", now.Unix()+600), true},
		{fmt.Sprintf("crate-decommission-%d", now.Unix()), false},
		{"operator-x", false},
	} {
		labels := map[string]string{}
		if c.label != "" {
			labels[LabelRoutingOwner] = c.label
		}
		if got := OperatorOwnsRouting(labels, now); got != c.want {
			t.Fatalf("%q: %v", c.label, got)
		}
	}
}

// --- end to end against a fake apiserver and a simulated node ---

type world struct {
	t       *testing.T
	cluster *sim.Cluster
	nodeURL string
	exited  chan int
	sts     map[string]any
	saDir   string
	// crate stands in for the container's main process (pid 1 in a pod): it lives
	// exactly as long as the node, and dc_util gets -pid <it>
	crate *exec.Cmd
}

func stsJSON(replicas int, grace *int64, labels map[string]string, postStart bool) map[string]any {
	c := map[string]any{"name": "crate", "image": "crate:5.10"}
	if postStart {
		c["lifecycle"] = map[string]any{"postStart": map[string]any{"exec": map[string]any{"command": []string{"/bin/sh", "-c", "./dc_util-linux-amd64 --reset-routing || true"}}}}
	}
	spec := map[string]any{"containers": []any{map[string]any{"name": "sql-exporter"}, c}}
	if grace != nil {
		spec["terminationGracePeriodSeconds"] = *grace
	}
	return map[string]any{"metadata": map[string]any{"name": "crate-data-hot-abc", "labels": labels},
		"spec": map[string]any{"replicas": replicas, "template": map[string]any{"spec": spec}}}
}

func newWorld(t *testing.T, sts map[string]any) *world {
	w := &world{t: t, sts: sts, exited: make(chan int, 1)}
	api := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" || r.URL.Path != "/apis/apps/v1/namespaces/ns1/statefulsets/crate-data-hot-abc" {
			rw.WriteHeader(403)
			fmt.Fprint(rw, `{"message":"forbidden"}`)
			return
		}
		json.NewEncoder(rw).Encode(w.sts)
	}))
	t.Cleanup(api.Close)
	w.saDir = t.TempDir()
	os.WriteFile(filepath.Join(w.saDir, "token"), []byte("tok\n"), 0o600)
	os.WriteFile(filepath.Join(w.saDir, "namespace"), []byte("ns1"), 0o600)
	os.WriteFile(filepath.Join(w.saDir, "ca.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: api.Certificate().Raw}), 0o600)
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(api.URL, "https://"))
	t.Setenv("KUBERNETES_SERVICE_HOST", host)
	t.Setenv("KUBERNETES_SERVICE_PORT", port)
	t.Setenv("CDK_SA_DIR", w.saDir)

	co := server.NewCoordinator()
	co.Tick = 20 * time.Millisecond
	co.Log.SetOutput(io.Discard)
	socket := filepath.Join(t.TempDir(), "sim.sock")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go co.ListenAndServe(ctx, socket)
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(socket); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	w.cluster = co.Reg.Get("c1")
	w.cluster.UpdateConfig(func(c *sim.Config) { c.ExitDelayMs = 100; c.RequestCheckMs = 100; c.RelocationShardsPerSecond = 100 })
	// the other node, joined directly; the local one runs the real node code
	other, _ := w.cluster.Join(sim.JoinRequest{Name: "data-hot-1", BootID: "b"})
	go func() {
		for range other.Events {
		}
	}()
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	opts := server.NodeOptions{Settings: map[string]string{"node.name": "data-hot-0", "cluster.name": "c1"}, Hostname: "crate-data-hot-abc-0",
		Socket: socket, Listen: addr, Log: log.New(io.Discard, "", 0)}
	w.crate = exec.Command("sleep", "1000")
	if err := w.crate.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.crate.Process.Kill() })
	go func() {
		code := server.RunNode(opts)
		w.crate.Process.Kill()
		w.crate.Wait() // reaped: kill(pid, 0) fails from now on
		w.exited <- code
	}()
	w.nodeURL = "http://" + addr
	for i := 0; i < 200; i++ {
		if r, err := http.Get(w.nodeURL + "/"); err == nil {
			r.Body.Close()
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	w.cluster.CreateTable(sim.Table{Name: "t", Shards: 4, Replicas: 1})
	return w
}

func (w *world) opts(args ...string) *Options {
	w.t.Setenv("HOSTNAME", "crate-data-hot-abc-0")
	w.t.Setenv("CDK_STATE", w.t.TempDir())
	pid := true
	for _, a := range args {
		pid = pid && a != "-pid"
	}
	if pid {
		args = append(args, "-pid", strconv.Itoa(w.crate.Process.Pid))
	}
	o, err := ParseFlags(args)
	if err != nil {
		w.t.Fatal(err)
	}
	o.CrateURL, o.Settle, o.PollInterval = w.nodeURL, 0, 20*time.Millisecond
	return &o
}

func TestPreStopDecommissions(t *testing.T) {
	w := newWorld(t, stsJSON(2, i64(1200), map[string]string{}, false))
	o := w.opts("-min-availability", "PRIMARIES", "-timeout", "720s", "-proto", "http")
	done := make(chan error, 1)
	go func() { done <- PreStop(o) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("dc_util did not return")
	}
	if code := <-w.exited; code != 0 {
		t.Fatalf("node exit %d", code)
	}
	st := w.cluster.Snapshot()
	if st.Transient["cluster.graceful_stop.timeout"] != "1080s" || st.Transient["cluster.graceful_stop.force"] != true ||
		st.Transient["cluster.graceful_stop.min_availability"] != "PRIMARIES" {
		t.Fatalf("settings %+v", st.Transient)
	}
	if _, set := st.Transient["cluster.routing.allocation.enable"]; set {
		t.Fatal("allocation set without a postStart hook")
	}
	if len(st.Nodes) != 1 || len(st.Violations) != 0 {
		t.Fatalf("nodes %d violations %+v", len(st.Nodes), st.Violations)
	}
}

func TestPreStopSkips(t *testing.T) {
	for _, sts := range []map[string]any{
		stsJSON(1, nil, nil, false),
		stsJSON(3, nil, map[string]string{LabelDisabled: "TRUE"}, false),
	} {
		w := newWorld(t, sts)
		o := w.opts("-proto", "http")
		if err := PreStop(o); err != nil {
			t.Fatal(err)
		}
		if w.cluster.NodeCount() != 2 || len(w.cluster.Snapshot().Transient) != 0 {
			t.Fatalf("decommissioned anyway: %+v", w.cluster.Snapshot().Transient)
		}
	}
}

func TestPreStopLabelsAndRoutingThenPostStartReset(t *testing.T) {
	labels := map[string]string{LabelMinAvailability: "FULL", LabelGracefulStop: "false", LabelPreStopRouting: "all"}
	w := newWorld(t, stsJSON(3, i64(30), labels, true))
	// another node so FULL can drain
	third, _ := w.cluster.Join(sim.JoinRequest{Name: "data-hot-2", BootID: "c"})
	go func() {
		for range third.Events {
		}
	}()
	o := w.opts("-min-availability", "PRIMARIES", "-timeout", "60s", "-proto", "http")
	if err := PreStop(o); err != nil {
		t.Fatal(err)
	}
	st := w.cluster.Snapshot()
	if st.Transient["cluster.graceful_stop.timeout"] != "60s" || st.Transient["cluster.graceful_stop.force"] != false ||
		st.Transient["cluster.graceful_stop.min_availability"] != "FULL" || st.Transient["cluster.routing.allocation.enable"] != "all" {
		t.Fatalf("settings %+v", st.Transient)
	}
	if _, err := os.Stat(o.LockFile); err != nil {
		t.Fatal("no lock file")
	}
	// postStart: the operator owns the setting -> nothing happens, lock kept
	w.sts["metadata"].(map[string]any)["labels"].(map[string]string)[LabelRoutingOwner] = fmt.Sprintf("operator-%d", time.Now().Unix())
	o2 := *o
	o2.CrateURL = "http://127.0.0.1:1" // nothing answers there: must not be needed
	o2.ResetRouting = true
	PostStartResetRouting(&o2)
	if _, err := os.Stat(o.LockFile); err != nil {
		t.Fatal("lock removed while the operator owns the setting")
	}
	// stale label: reset through a live node
	w.sts["metadata"].(map[string]any)["labels"].(map[string]string)[LabelRoutingOwner] = fmt.Sprintf("operator-%d", time.Now().Unix()-3*3600)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var body struct {
			Stmt string `json:"stmt"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		res, _, err := w.cluster.Exec(sim.Session{Via: sim.NodeID("c1", "data-hot-1"), User: sim.User{Name: "crate", Superuser: true}}, body.Stmt, nil, nil)
		if err != nil {
			rw.WriteHeader(err.HTTPStatus())
			return
		}
		json.NewEncoder(rw).Encode(res)
	}))
	defer srv.Close()
	o2.CrateURL = srv.URL
	PostStartResetRouting(&o2)
	if _, set := w.cluster.Snapshot().Transient["cluster.routing.allocation.enable"]; set {
		t.Fatal("allocation not reset")
	}
	if _, err := os.Stat(o.LockFile); err == nil {
		t.Fatal("lock file kept")
	}
}

func TestDryRunSendsNothing(t *testing.T) {
	w := newWorld(t, stsJSON(3, nil, nil, true))
	o := w.opts("-dry-run", "-proto", "http")
	if err := PreStop(o); err != nil {
		t.Fatal(err)
	}
	if w.cluster.NodeCount() != 2 || len(w.cluster.Snapshot().Transient) != 0 {
		t.Fatal("dry run changed the cluster")
	}
	if _, err := os.Stat(o.LockFile); err == nil {
		t.Fatal("dry run wrote a lock file")
	}
}

// Like the real dc_util, the wait after the decommission follows the process -pid (default
// 1: the container's main process in its PID namespace), polled, not the node's HTTP port.
func TestPreStopWaitsForThePidToBeGone(t *testing.T) {
	w := newWorld(t, stsJSON(2, i64(1200), map[string]string{}, false))
	other := exec.Command("sleep", "1000")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer other.Process.Kill()
	o := w.opts("-min-availability", "PRIMARIES", "-proto", "http", "-pid", strconv.Itoa(other.Process.Pid))
	done := make(chan error, 1)
	go func() { done <- PreStop(o) }()
	if code := <-w.exited; code != 0 {
		t.Fatalf("node exit %d", code)
	}
	select {
	case err := <-done:
		t.Fatalf("dc_util returned while process %d runs: %v", other.Process.Pid, err)
	case <-time.After(300 * time.Millisecond):
	}
	other.Process.Kill()
	other.Wait()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("dc_util did not notice the process was gone")
	}
}
