package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"cratesim/internal/sim"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cratesim-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "crate-sim")
	out, err := exec.Command("go", "build", "-o", binary, "../../cmd/crate-sim").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build crate-sim: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type harness struct {
	t      *testing.T
	co     *Coordinator
	socket string
	nodes  map[string]*exec.Cmd
	ports  map[string]string
	exits  map[string]chan int
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, p, _ := net.SplitHostPort(l.Addr().String())
	return p
}

func newHarness(t *testing.T) *harness {
	dir := t.TempDir()
	h := &harness{t: t, co: NewCoordinator(), socket: filepath.Join(dir, "sim.sock"), nodes: map[string]*exec.Cmd{}, ports: map[string]string{}, exits: map[string]chan int{}}
	h.co.Tick = 20 * time.Millisecond
	h.co.Log.SetOutput(io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	go h.co.ListenAndServe(ctx, h.socket)
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(h.socket); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.co.Reg.Get("my-cluster").UpdateConfig(func(c *sim.Config) { c.ExitDelayMs = 200; c.RequestCheckMs = 100; c.RelocationShardsPerSecond = 50 })
	t.Cleanup(func() {
		for _, c := range h.nodes {
			c.Process.Kill()
		}
		cancel()
	})
	return h
}

func (h *harness) start(name string, env ...string) {
	h.t.Helper()
	port := freePort(h.t)
	cmd := exec.Command(binary, "node", "-Cnode.name="+name, "-Ccluster.name=my-cluster", "-Cauth.host_based.enabled=true", "-Cssl.http.enabled=false", "-Cunknown.flag=1")
	cmd.Env = append(os.Environ(), "HOSTNAME=crate-data-hot-abc-"+name[len(name)-1:], "CDK_CRATE_SIM_SOCKET="+h.socket, "CRATE_SIM_LISTEN=127.0.0.1:"+port)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	ch := make(chan int, 1)
	go func() {
		cmd.Wait()
		ch <- cmd.ProcessState.ExitCode()
	}()
	h.nodes[name], h.ports[name], h.exits[name] = cmd, port, ch
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := http.Get("http://127.0.0.1:" + port + "/"); err == nil {
			r.Body.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatalf("node %s did not come up", name)
}

type sqlAnswer struct {
	status int
	ctype  string
	auth   string
	body   string
	json   map[string]any
}

func (h *harness) sqlAs(client *http.Client, name, user, pass, stmt string, args ...any) sqlAnswer {
	h.t.Helper()
	if args == nil {
		args = []any{}
	}
	b, _ := json.Marshal(map[string]any{"stmt": stmt, "args": args})
	req, _ := http.NewRequest("POST", "http://127.0.0.1:"+h.ports[name]+"/_sql", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return sqlAnswer{status: -1, body: err.Error()}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := sqlAnswer{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), auth: resp.Header.Get("WWW-Authenticate"), body: string(raw)}
	json.Unmarshal(raw, &a.json)
	return a
}

func (h *harness) sql(name, stmt string, args ...any) sqlAnswer {
	return h.sqlAs(nil, name, "", "", stmt, args...)
}

func (h *harness) waitExit(name string, d time.Duration) (int, bool) {
	select {
	case c := <-h.exits[name]:
		return c, true
	case <-time.After(d):
		return 0, false
	}
}

func TestIntegrationDecommissionExitsZero(t *testing.T) {
	h := newHarness(t)
	t0 := time.Now()
	for _, n := range []string{"data-hot-0", "data-hot-1", "data-hot-2"} {
		h.start(n)
	}
	t.Logf("3 nodes up in %s", time.Since(t0))
	c := h.co.Reg.Get("my-cluster")
	c.CreateTable(sim.Table{Name: "t", Shards: 6, Replicas: 1})
	a := h.sql("data-hot-0", "SELECT id, name, hostname, rest_url FROM sys.nodes ORDER BY name")
	if a.status != 200 || len(a.json["rows"].([]any)) != 3 {
		t.Fatalf("%+v", a)
	}
	row := a.json["rows"].([]any)[1].([]any)
	if row[2] != "crate-data-hot-abc-1" || row[3] != "http://127.0.0.1:"+h.ports["data-hot-1"] {
		t.Fatalf("%v", row)
	}
	for i := 0; i < 100 && c.Health() != "GREEN"; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	h.sql("data-hot-0", `SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = 'primaries'`)
	a = h.sql("data-hot-0", `ALTER CLUSTER DECOMMISSION 'data-hot-1'`)
	if a.status != 200 {
		t.Fatalf("%+v", a)
	}
	// the decommissioned node refuses SQL (HTTP 500, plain text, as CrateDB 6.4.3); another node answers
	if a := h.sql("data-hot-1", "SELECT 1"); a.status != 500 || !strings.HasPrefix(a.ctype, "text/plain") ||
		a.body != "[data-hot-1][127.0.0.1:4300][sql] disconnected" {
		t.Fatalf("decommissioned node answered: %+v", a)
	}
	code, ok := h.waitExit("data-hot-1", 10*time.Second)
	if !ok || code != 0 {
		t.Fatalf("exit %d ok=%v", code, ok)
	}
	a = h.sql("data-hot-0", "SELECT count(*) FROM sys.nodes")
	if a.json["rows"].([]any)[0].([]any)[0] != float64(2) {
		t.Fatalf("%+v", a)
	}
	if v := c.Violations(); len(v) != 0 {
		t.Fatalf("%+v", v)
	}
	// restart in the same "pod": it rejoins with the same id
	h.start("data-hot-1")
	a = h.sql("data-hot-1", "SELECT count(*) FROM sys.nodes")
	if a.json["rows"].([]any)[0].([]any)[0] != float64(3) {
		t.Fatalf("%+v", a)
	}
	// SIGTERM without decommission: leaves at once, exit 143
	h.nodes["data-hot-2"].Process.Signal(syscall.SIGTERM)
	code, ok = h.waitExit("data-hot-2", 5*time.Second)
	if !ok || code != 143 || c.NodeCount() != 2 {
		t.Fatalf("SIGTERM: code %d ok %v nodes %d", code, ok, c.NodeCount())
	}
}

func TestIntegrationSigkillOnlyCopyRecorded(t *testing.T) {
	h := newHarness(t)
	h.start("data-hot-0")
	h.start("data-hot-1")
	c := h.co.Reg.Get("my-cluster")
	c.CreateTable(sim.Table{Name: "single", Shards: 4, Replicas: 0})
	time.Sleep(100 * time.Millisecond)
	h.nodes["data-hot-1"].Process.Kill()
	h.waitExit("data-hot-1", 5*time.Second)
	for i := 0; i < 100 && len(c.Violations()) == 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	v := c.Violations()
	if len(v) != 2 || !strings.Contains(v[0].Cause, "killed") {
		t.Fatalf("%+v", v)
	}
	a := h.sql("data-hot-0", "SELECT health FROM sys.health WHERE table_name = 'single'")
	if a.json["rows"].([]any)[0].([]any)[0] != "RED" {
		t.Fatalf("%+v", a)
	}
}

func TestIntegrationAuth(t *testing.T) {
	h := newHarness(t)
	// only 127.0.0.2 counts as the node's own loopback: requests from 127.0.0.1 are "remote"
	h.start("data-hot-0", "CRATE_SIM_LOCAL_ADDRS=127.0.0.2")
	h.start("data-hot-1")
	c := h.co.Reg.Get("my-cluster")
	c.UpdateConfig(func(cfg *sim.Config) {
		cfg.Users = []sim.User{{Name: "system", Password: "secret"}, {Name: "admin", Password: "pw", Superuser: true}}
	})
	a := h.sql("data-hot-0", "SELECT 1")
	if a.status != 401 || !strings.HasPrefix(a.ctype, "text/plain") || !strings.HasPrefix(a.auth, "Basic") || strings.HasPrefix(a.body, "{") {
		t.Fatalf("remote crate: %+v", a)
	}
	if a := h.sqlAs(nil, "data-hot-0", "crate", "", "SELECT 1"); a.status != 401 {
		t.Fatalf("remote crate with basic: %+v", a)
	}
	if a := h.sqlAs(nil, "data-hot-0", "system", "wrong", "SELECT 1"); a.status != 401 || !strings.Contains(a.body, "password authentication failed") {
		t.Fatalf("wrong password: %+v", a)
	}
	if a := h.sqlAs(nil, "data-hot-0", "system", "secret", "SELECT name FROM sys.nodes"); a.status != 200 {
		t.Fatalf("system: %+v", a)
	}
	// the engine's superuser question, answered for the authenticated user
	for user, want := range map[string]string{"system": "[[false]]", "admin": "[[true]]"} {
		pass := map[string]string{"system": "secret", "admin": "pw"}[user]
		a := h.sqlAs(nil, "data-hot-0", user, pass, "SELECT superuser FROM sys.users WHERE name = CURRENT_USER")
		if a.status != 200 || fmt.Sprint(a.json["rows"]) != want || fmt.Sprint(a.json["cols"]) != "[superuser]" {
			t.Fatalf("sys.users as %s: %+v", user, a)
		}
	}
	a = h.sqlAs(nil, "data-hot-0", "system", "secret", "ALTER CLUSTER DECOMMISSION 'data-hot-1'")
	if a.status != 401 || a.json["error"].(map[string]any)["code"] != float64(4010) {
		t.Fatalf("system decommission: %+v", a)
	}
	// from the node's own "loopback" 127.0.0.2, crate is trusted
	local := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext}}
	if a := h.sqlAs(local, "data-hot-0", "", "", "SELECT 1"); a.status != 200 {
		t.Fatalf("local crate: %+v", a)
	}
	// unknown node -> 400 4000
	a = h.sqlAs(local, "data-hot-0", "", "", "ALTER CLUSTER DECOMMISSION ?", "nope")
	if a.status != 400 || a.json["error"].(map[string]any)["code"] != float64(4000) {
		t.Fatalf("unknown node: %+v", a)
	}
	// a superuser with a password may decommission from the network
	if a := h.sqlAs(nil, "data-hot-0", "admin", "pw", "ALTER CLUSTER DECOMMISSION $1", "DATA-HOT-1"); a.status != 200 {
		t.Fatalf("admin: %+v", a)
	}
	if code, ok := h.waitExit("data-hot-1", 5*time.Second); !ok || code != 0 {
		t.Fatalf("exit %d %v", code, ok)
	}
}

func TestIntegrationDecommissionResponseModes(t *testing.T) {
	h := newHarness(t)
	h.start("data-hot-0")
	h.start("data-hot-1")
	h.start("data-hot-2")
	c := h.co.Reg.Get("my-cluster")
	c.CreateTable(sim.Table{Name: "t", Shards: 4, Replicas: 1})
	c.UpdateConfig(func(cfg *sim.Config) { cfg.DecommissionResponse = "drop" })
	a := h.sql("data-hot-0", "ALTER CLUSTER DECOMMISSION 'data-hot-1'")
	if a.status != -1 {
		t.Fatalf("drop: %+v", a)
	}
	if code, ok := h.waitExit("data-hot-1", 5*time.Second); !ok || code != 0 {
		t.Fatalf("exit %d %v", code, ok)
	}
	c.UpdateConfig(func(cfg *sim.Config) { cfg.DecommissionResponse = "after-wait"; cfg.ExitDelayMs = 1000 })
	h.sql("data-hot-0", `SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = 'full'`)
	h.sql("data-hot-0", `SET GLOBAL TRANSIENT "cluster.graceful_stop.timeout" = '1s'`)
	h.sql("data-hot-0", `SET GLOBAL TRANSIENT "cluster.graceful_stop.force" = false`)
	// FULL cannot drain with 2 nodes and 1 replica: the answer comes after the timeout, as an error
	t0 := time.Now()
	a = h.sql("data-hot-0", "ALTER CLUSTER DECOMMISSION 'data-hot-2'")
	if a.status != 500 || time.Since(t0) < time.Second {
		t.Fatalf("after-wait/abort: %+v after %s", a, time.Since(t0))
	}
	if a := h.sql("data-hot-2", "SELECT 1"); a.status != 200 {
		t.Fatalf("aborted node refuses SQL: %+v", a)
	}
}

func TestIntegrationStartDelay(t *testing.T) {
	h := newHarness(t)
	h.co.Reg.Get("my-cluster").UpdateConfig(func(c *sim.Config) { c.StartDelayMs = 600 })
	t0 := time.Now()
	h.start("data-hot-0")
	if d := time.Since(t0); d < 600*time.Millisecond {
		t.Fatalf("node answered after %s, before its start delay", d)
	}
}

func TestControlSQL(t *testing.T) {
	h := newHarness(t)
	h.start("data-hot-0")
	out, err := exec.Command(binary, "ctl", "--socket", h.socket, "sql", "my-cluster", "SELECT name FROM sys.nodes WHERE name = ?", `["data-hot-0"]`).CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"rows":[["data-hot-0"]]`) {
		t.Fatalf("%v %s", err, out)
	}
	out, err = exec.Command(binary, "ctl", "--socket", h.socket, "sql", "my-cluster", "SELEC").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "4000") {
		t.Fatalf("%v %s", err, out)
	}
}

// A rolling restart done as the tool should: allocation primaries, decommission
// (PRIMARIES) through another node, wait for exit 0, start the node again,
// reset allocation, wait for GREEN; next node. No violation may be recorded.
func TestIntegrationRollingRestart(t *testing.T) {
	h := newHarness(t)
	names := []string{"data-hot-0", "data-hot-1", "data-hot-2"}
	for _, n := range names {
		h.start(n)
	}
	c := h.co.Reg.Get("my-cluster")
	c.CreateTable(sim.Table{Name: "a", Shards: 6, Replicas: 1})
	c.CreateTable(sim.Table{Name: "b", Shards: 3, Replicas: 0})
	waitGreen := func() {
		for i := 0; i < 300; i++ {
			a := h.sql(names[0], "SELECT health FROM sys.cluster_health")
			if a.status == 200 && a.json["rows"].([]any)[0].([]any)[0] == "GREEN" {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatal("not GREEN")
	}
	waitGreen()
	for i, n := range names {
		via := names[(i+1)%3]
		for _, stmt := range []string{
			`SET GLOBAL TRANSIENT "cluster.routing.allocation.enable" = 'primaries'`,
			`SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = 'primaries'`,
			`SET GLOBAL TRANSIENT "cluster.graceful_stop.timeout" = '30s'`,
			`ALTER CLUSTER DECOMMISSION ?`,
		} {
			if a := h.sql(via, stmt, n); a.status != 200 && !strings.Contains(stmt, "?") {
				t.Fatalf("%s: %+v", stmt, a)
			}
		}
		if code, ok := h.waitExit(n, 10*time.Second); !ok || code != 0 {
			t.Fatalf("%s: exit %d %v", n, code, ok)
		}
		h.start(n)
		if a := h.sql(via, `RESET GLOBAL "cluster.routing.allocation.enable"`); a.status != 200 {
			t.Fatalf("reset: %+v", a)
		}
		waitGreen()
	}
	if v := c.Violations(); len(v) != 0 {
		t.Fatalf("%+v", v[0])
	}
}

// control calls the coordinator's control API over its unix socket.
func (h *harness) control(method, path string) (int, map[string]any) {
	h.t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", h.socket)
		},
	}}
	req, _ := http.NewRequest(method, "http://coordinator"+path, nil)
	resp, err := client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestIntegrationDeleteCluster(t *testing.T) {
	h := newHarness(t)
	h.start("data-hot-0")
	h.start("data-hot-1")
	h.co.Reg.Get("my-cluster").CreateTable(sim.Table{Name: "t", Shards: 2, Replicas: 1})
	// refused while nodes are joined: 409 naming them; nothing changes
	code, body := h.control("DELETE", "/clusters/my-cluster")
	if code != 409 || fmt.Sprint(body["nodes"]) != "[data-hot-0 data-hot-1]" || !strings.Contains(fmt.Sprint(body["error"]), "force=true") {
		t.Fatalf("delete with nodes: %d %v", code, body)
	}
	out, err := exec.Command(binary, "ctl", "--socket", h.socket, "delete", "my-cluster").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "2 node(s) joined") {
		t.Fatalf("ctl delete with nodes: %v %s", err, out)
	}
	if code, _ := h.control("DELETE", "/clusters/my-cluster?force=maybe"); code != 400 {
		t.Fatalf("bad force: %d", code)
	}
	if a := h.sql("data-hot-0", "SELECT count(*) FROM sys.nodes"); a.status != 200 || fmt.Sprint(a.json["rows"]) != "[[2]]" {
		t.Fatalf("after a refused delete: %+v", a)
	}
	// force: the nodes are disconnected and their processes exit 1 (lost the coordinator)
	out, err = exec.Command(binary, "ctl", "--socket", h.socket, "delete", "my-cluster", "--force").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"disconnected":["data-hot-0","data-hot-1"]`) {
		t.Fatalf("ctl delete --force: %v %s", err, out)
	}
	for _, n := range []string{"data-hot-0", "data-hot-1"} {
		if code, ok := h.waitExit(n, 5*time.Second); !ok || code != 1 {
			t.Fatalf("%s after a forced delete: exit %d ok=%v", n, code, ok)
		}
	}
	if names := h.co.Reg.Names(); len(names) != 0 {
		t.Fatalf("clusters left: %v", names)
	}
	if code, _ := h.control("DELETE", "/clusters/my-cluster"); code != 404 {
		t.Fatalf("second delete: %d", code)
	}
	// a cluster without nodes goes without force; a node started again gets a fresh one
	h.co.Reg.Get("empty")
	if code, body := h.control("DELETE", "/clusters/empty"); code != 200 || body["deleted"] != "empty" {
		t.Fatalf("delete empty: %d %v", code, body)
	}
	h.start("data-hot-0")
	if a := h.sql("data-hot-0", "SELECT count(*) FROM information_schema.tables"); a.status != 200 || fmt.Sprint(a.json["rows"]) != "[[0]]" {
		t.Fatalf("fresh cluster: %+v", a)
	}
}

// The data-volume ctl interface (issue 9): create-table --shard-bytes,
// copy-scale, copied (JSON), copied --reset, sys.shards size; a PRIMARIES
// restart of a real node process copies its primaries' bytes.
func TestIntegrationCopiedCounter(t *testing.T) {
	h := newHarness(t)
	names := []string{"data-hot-0", "data-hot-1", "data-hot-2"}
	for _, n := range names {
		h.start(n)
	}
	ctl := func(args ...string) (string, error) {
		out, err := exec.Command(binary, append([]string{"ctl", "--socket", h.socket}, args...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := ctl("create-table", "my-cluster", "doc.big", "6", "1", "--shard-bytes", "bad"); err == nil {
		t.Fatalf("bad size accepted: %s", out)
	}
	if out, err := ctl("copy-scale", "my-cluster", "0"); err == nil {
		t.Fatalf("scale 0 accepted: %s", out)
	}
	if out, err := ctl("create-table", "my-cluster", "doc.big", "6", "1", "--shard-bytes", "100mb"); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	if out, err := ctl("copy-scale", "my-cluster", "20"); err != nil || !strings.Contains(out, `"copyScale":20`) {
		t.Fatalf("%v %s", err, out)
	}
	if out, err := ctl("wait-health", "my-cluster", "GREEN", "10s"); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	a := h.sql("data-hot-0", `SELECT sum(size), count(*) FROM sys.shards WHERE table_name = 'big' AND "primary" = true`)
	if row := a.json["rows"].([]any)[0].([]any); row[0].(float64) != 6*100*1024*1024 || row[1].(float64) != 6 {
		t.Fatalf("sys.shards size: %+v", a.json)
	}
	a = h.sql("data-hot-0", `SELECT count(*) FROM sys.shards WHERE "primary" = true AND node['name'] = 'data-hot-1'`)
	prims := a.json["rows"].([]any)[0].([]any)[0].(float64)
	for _, stmt := range []string{
		`SET GLOBAL TRANSIENT "cluster.routing.allocation.enable" = 'primaries'`,
		`SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = 'primaries'`,
		`ALTER CLUSTER DECOMMISSION 'data-hot-1'`,
	} {
		if a := h.sql("data-hot-0", stmt); a.status != 200 {
			t.Fatalf("%s: %+v", stmt, a)
		}
	}
	if code, ok := h.waitExit("data-hot-1", 15*time.Second); !ok || code != 0 {
		t.Fatalf("exit %d %v", code, ok)
	}
	out, err := ctl("copied", "my-cluster")
	if err != nil {
		t.Fatalf("%v %s", err, out)
	}
	var st sim.Copied
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	if st.Bytes[sim.KindRelocation] != int64(prims)*100<<20 || st.ByNode["data-hot-1"].SentTotal != st.TotalBytes || st.RateBytesPerSec != 20*40<<20 {
		t.Fatalf("want %v primaries x 100 MB relocated from data-hot-1: %s", prims, out)
	}
	if out, err := ctl("copied", "my-cluster", "--reset"); err != nil || !strings.Contains(out, `"totalBytes":0`) {
		t.Fatalf("%v %s", err, out)
	}
	if v := h.co.Reg.Get("my-cluster").Violations(); len(v) != 0 {
		t.Fatalf("%+v", v[0])
	}
}
