package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"cratesim/internal/sim"
)

// ctlCall is a control-API request over the unix socket.
func (h *harness) ctlCall(method, path string, body any) (int, map[string]any) {
	h.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, "http://coordinator"+path, bytes.NewReader(b))
	resp, err := unixClient(h.socket, 5*time.Second).Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// A request in flight when the drain ends is an active request: the node waits for it,
// answers it, and exits (CrateDB checks every 5 s and exits 5 s after the first clean
// check: observed on CrateDB 6.4.3). New requests get HTTP 500 plain text meanwhile.
func TestIntegrationInFlightRequestDelaysExit(t *testing.T) {
	h := newHarness(t)
	for _, n := range []string{"data-hot-0", "data-hot-1", "data-hot-2"} {
		h.start(n)
	}
	c := h.co.Reg.Get("my-cluster")
	c.UpdateConfig(func(cfg *sim.Config) { cfg.RequestCheckMs = 500; cfg.ExitDelayMs = 500 })
	c.CreateTable(sim.Table{Name: "t", Shards: 3, Replicas: 1})
	if a := h.sql("data-hot-1", `INSERT INTO t (id, v) VALUES (1, 'x')`); a.status != 200 {
		t.Fatalf("insert: %+v", a)
	}
	h.sql("data-hot-0", `SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = 'none'`)
	c.UpdateConfig(func(cfg *sim.Config) { cfg.SQLDelayMs = 3000 })
	slow := make(chan sqlAnswer, 1)
	go func() { slow <- h.sql("data-hot-1", `SELECT v FROM t WHERE id = 1`) }()
	time.Sleep(300 * time.Millisecond)
	c.UpdateConfig(func(cfg *sim.Config) { cfg.SQLDelayMs = 0 })
	t0 := time.Now()
	if a := h.sql("data-hot-0", `ALTER CLUSTER DECOMMISSION 'data-hot-1'`); a.status != 200 {
		t.Fatalf("%+v", a)
	}
	if a := h.sql("data-hot-1", "SELECT 1"); a.status != 500 || a.body != "[data-hot-1][127.0.0.1:4300][sql] disconnected" {
		t.Fatalf("refusal: %+v", a)
	}
	// sys.jobs through another node shows the slow read on data-hot-1
	a := h.sql("data-hot-2", `SELECT stmt FROM sys.jobs WHERE node['name'] = 'data-hot-1'`)
	if rows := a.json["rows"].([]any); len(rows) != 1 || !strings.Contains(rows[0].([]any)[0].(string), "WHERE id = 1") {
		t.Fatalf("sys.jobs: %+v", a)
	}
	if r := <-slow; r.status != 200 || r.json["rows"].([]any)[0].([]any)[0] != "x" {
		t.Fatalf("the request in flight was not answered: %+v", r)
	}
	if time.Since(t0) < 2*time.Second {
		t.Fatal("slow request answered too early")
	}
	if code, ok := h.waitExit("data-hot-1", 5*time.Second); !ok || code != 0 {
		t.Fatalf("exit %d %v", code, ok)
	}
	if el := time.Since(t0); el < 3*time.Second {
		t.Fatalf("exited %s after the statement: before the request in flight ended", el)
	}
}

// The control API's hold and leak: a held statement keeps the node from exiting until it
// is released; a leaked counter makes it wait for graceful_stop.timeout.
func TestIntegrationHoldAndLeak(t *testing.T) {
	h := newHarness(t)
	for _, n := range []string{"data-hot-0", "data-hot-1", "data-hot-2"} {
		h.start(n)
	}
	c := h.co.Reg.Get("my-cluster")
	c.UpdateConfig(func(cfg *sim.Config) { cfg.RequestCheckMs = 200; cfg.ExitDelayMs = 200 })
	code, j := h.ctlCall("POST", "/clusters/my-cluster/hold", map[string]any{"via": "data-hot-0", "on": []string{"data-hot-1"}})
	if code != 201 {
		t.Fatalf("hold: %d %+v", code, j)
	}
	h.sql("data-hot-0", `SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = 'none'`)
	h.sql("data-hot-0", `ALTER CLUSTER DECOMMISSION 'data-hot-1'`)
	if _, ok := h.waitExit("data-hot-1", 2*time.Second); ok {
		t.Fatal("exited while held")
	}
	if code, _ := h.ctlCall("DELETE", "/clusters/my-cluster/hold/"+j["id"].(string), nil); code != 200 {
		t.Fatalf("release: %d", code)
	}
	if code, ok := h.waitExit("data-hot-1", 2*time.Second); !ok || code != 0 {
		t.Fatalf("after release: exit %d %v", code, ok)
	}
	code, l := h.ctlCall("POST", "/clusters/my-cluster/nodes/data-hot-2/leak", map[string]any{})
	if code != 200 || l["activeRequests"] != float64(-5) {
		t.Fatalf("leak: %d %+v", code, l)
	}
	h.sql("data-hot-0", `SET GLOBAL TRANSIENT "cluster.graceful_stop.timeout" = '2s'`)
	h.sql("data-hot-0", `SET GLOBAL TRANSIENT "cluster.graceful_stop.force" = true`)
	t0 := time.Now()
	h.sql("data-hot-0", `ALTER CLUSTER DECOMMISSION 'data-hot-2'`)
	if code, ok := h.waitExit("data-hot-2", 4*time.Second); !ok || code != 0 || time.Since(t0) < 2*time.Second {
		t.Fatalf("leaked: exit %d %v after %s", code, ok, time.Since(t0))
	}
}
