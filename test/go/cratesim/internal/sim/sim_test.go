package sim

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (k *clock) Now() time.Time { return k.t }

func newTestCluster(t *testing.T, nodes ...string) (*Cluster, *clock) {
	t.Helper()
	k := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := NewCluster("test", k.Now)
	c.UpdateConfig(func(cfg *Config) { cfg.RelocationShardsPerSecond = 10; cfg.ExitDelayMs = 500; cfg.RequestCheckMs = 200 })
	for _, n := range nodes {
		join(t, c, n)
	}
	return c, k
}

func join(t *testing.T, c *Cluster, name string) *Node {
	t.Helper()
	n, err := c.Join(JoinRequest{Name: name, Hostname: "crate-data-hot-x-" + name[len(name)-1:]})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// advance runs the allocator for d in 100 ms ticks.
func advance(c *Cluster, k *clock, d time.Duration) {
	for i := 0; i < int(d/(100*time.Millisecond)); i++ {
		k.t = k.t.Add(100 * time.Millisecond)
		c.Step(k.t)
	}
}

func id(name string) string { return NodeID("test", name) }

var crate = Session{User: User{Name: "crate", Superuser: true}}

func sql(t *testing.T, c *Cluster, via, stmt string, args ...any) *Result {
	t.Helper()
	s := crate
	s.Via = id(via)
	r, _, err := c.Exec(s, stmt, args, nil)
	if err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	return r
}

func sqlErrOf(c *Cluster, sess Session, stmt string, args ...any) *SQLError {
	_, _, err := c.Exec(sess, stmt, args, nil)
	return err
}

func copiesOn(c *Cluster, node string) (prim, repl int) {
	for _, r := range c.Snapshot().Shards {
		if r.Node == id(node) {
			if r.Primary {
				prim++
			} else {
				repl++
			}
		}
	}
	return
}

func TestAllocationAndHealth(t *testing.T) {
	c, k := newTestCluster(t, "data-hot-0", "data-hot-1", "data-hot-2")
	if err := c.CreateTable(Table{Name: "t1", Shards: 6, Replicas: 1}); err != nil {
		t.Fatal(err)
	}
	if h := c.Health(); h != "YELLOW" {
		t.Fatalf("fresh table with replicas recovering: %s", h)
	}
	advance(c, k, 3*time.Second)
	if h := c.Health(); h != "GREEN" {
		t.Fatalf("health %s", h)
	}
	// never two copies on one node
	seen := map[string]bool{}
	for _, r := range c.Snapshot().Shards {
		key := r.Table + string(rune(r.ID)) + r.Node
		if seen[key] {
			t.Fatalf("two copies of shard %d on %s", r.ID, r.NodeName)
		}
		seen[key] = true
	}
	// balanced: 12 copies on 3 nodes
	for _, n := range []string{"data-hot-0", "data-hot-1", "data-hot-2"} {
		p, r := copiesOn(c, n)
		if p+r != 4 {
			t.Fatalf("%s holds %d copies", n, p+r)
		}
	}
	res := sql(t, c, "data-hot-0", "SELECT count(*) FROM sys.health WHERE table_name = 't1' AND health = 'GREEN'")
	if res.Cols[0] != "count(*)" || res.Rows[0][0] != int64(1) {
		t.Fatalf("%+v", res)
	}
}

func TestAllocationEnableSemantics(t *testing.T) {
	c, k := newTestCluster(t, "data-hot-0", "data-hot-1", "data-hot-2")
	c.CreateTable(Table{Name: "t", Shards: 3, Replicas: 1})
	advance(c, k, 2*time.Second)

	// none: a new table gets nothing allocated
	sql(t, c, "data-hot-0", `SET GLOBAL TRANSIENT "cluster.routing.allocation.enable" = 'none'`)
	c.CreateTable(Table{Name: "n", Shards: 1, Replicas: 0})
	advance(c, k, time.Second)
	if h := healthOf(c, "n"); h != "RED" {
		t.Fatalf("none: new table %s", h)
	}
	// new_primaries: the new primary is allocated, a replica is not
	sql(t, c, "data-hot-0", `SET GLOBAL TRANSIENT "cluster.routing.allocation.enable" = 'new_primaries'`)
	advance(c, k, time.Second)
	if h := healthOf(c, "n"); h != "GREEN" {
		t.Fatalf("new_primaries: new table %s", h)
	}
	// primaries: a node leaves; its replicas are not re-allocated elsewhere, primaries promoted
	sql(t, c, "data-hot-0", `SET GLOBAL TRANSIENT "cluster.routing.allocation.enable" = 'primaries'`)
	c.Leave(id("data-hot-2"), "test stop")
	advance(c, k, 2*time.Second)
	if h := healthOf(c, "t"); h != "YELLOW" {
		t.Fatalf("primaries after a node left: %s", h)
	}
	if v := c.Violations(); len(v) != 0 {
		t.Fatalf("promotion should avoid RED: %+v", v)
	}
	// the node comes back: with primaries its replicas stay unassigned
	join(t, c, "data-hot-2")
	advance(c, k, 2*time.Second)
	if h := healthOf(c, "t"); h != "YELLOW" {
		t.Fatalf("primaries after rejoin: %s", h)
	}
	// RESET GLOBAL clears both levels -> all -> GREEN
	sql(t, c, "data-hot-0", `SET GLOBAL PERSISTENT "cluster.routing.allocation.enable" = 'none'`)
	sql(t, c, "data-hot-0", `RESET GLOBAL "cluster.routing.allocation.enable"`)
	advance(c, k, 3*time.Second)
	if h := healthOf(c, "t"); h != "GREEN" {
		t.Fatalf("after reset: %s", h)
	}
	r := sql(t, c, "data-hot-1", `SELECT settings['cluster']['routing']['allocation']['enable'] FROM sys.cluster`)
	if r.Rows[0][0] != "all" {
		t.Fatalf("%v", r.Rows)
	}
}

func healthOf(c *Cluster, table string) string {
	for _, h := range c.Snapshot().Tablewise {
		if h.Table == table {
			return h.Health
		}
	}
	return "?"
}

func TestTransientHidesPersistent(t *testing.T) {
	c, _ := newTestCluster(t, "data-hot-0")
	sql(t, c, "data-hot-0", `SET GLOBAL PERSISTENT "cluster.routing.allocation.enable" = 'none'`)
	sql(t, c, "data-hot-0", `SET GLOBAL "cluster.routing.allocation.enable" = 'primaries'`)
	r := sql(t, c, "data-hot-0", `SELECT settings['cluster']['routing']['allocation']['enable'] AS e FROM sys.cluster`)
	if r.Rows[0][0] != "primaries" || r.Cols[0] != "e" {
		t.Fatalf("%+v", r)
	}
	if e := sqlErrOf(c, Session{Via: id("data-hot-0"), User: crate.User}, `SET GLOBAL "cluster.routing.allocation.enable" = 'some'`); e == nil || e.Code != 4000 {
		t.Fatalf("invalid enable accepted: %v", e)
	}
	if e := sqlErrOf(c, Session{Via: id("data-hot-0"), User: crate.User}, `SET GLOBAL "cluster.graceful_stop.timeout" = 'soon'`); e == nil {
		t.Fatal("invalid timeout accepted")
	}
	r = sql(t, c, "data-hot-0", `SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = 'full'`)
	if r.RowCount != 1 {
		t.Fatalf("rowcount %d", r.RowCount)
	}
	r = sql(t, c, "data-hot-0", `SELECT settings['cluster']['graceful_stop']['min_availability'] FROM sys.cluster`)
	if r.Rows[0][0] != "FULL" {
		t.Fatalf("%v", r.Rows)
	}
	// unknown min_availability: accepted, warned about (strict mode rejects)
	sql(t, c, "data-hot-0", `SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = 'everything'`)
	if len(c.Warnings()) != 1 {
		t.Fatal("no warning")
	}
	c.UpdateConfig(func(cfg *Config) { cfg.StrictSettings = true })
	if e := sqlErrOf(c, Session{Via: id("data-hot-0"), User: crate.User}, `SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = 'everything'`); e == nil {
		t.Fatal("strict mode accepted it")
	}
}

func TestSelectSubset(t *testing.T) {
	c, k := newTestCluster(t, "data-hot-0", "data-hot-1")
	c.CreateTable(Table{Schema: "doc", Name: "t", Shards: 2, Replicas: 1})
	advance(c, k, 2*time.Second)
	r := sql(t, c, "data-hot-0", `SELECT id, name, hostname, rest_url FROM sys.nodes WHERE name IN ('data-hot-1', 'x') ORDER BY name`)
	if len(r.Rows) != 1 || r.Rows[0][1] != "data-hot-1" {
		t.Fatalf("%+v", r)
	}
	r = sql(t, c, "data-hot-0", `SELECT count(*) FROM sys.shards WHERE "primary" = true AND routing_state = 'STARTED' AND node['name'] = ?`, "data-hot-0")
	if r.Rows[0][0].(int64) < 0 {
		t.Fatal()
	}
	r = sql(t, c, "data-hot-0", `SELECT table_name, id, "primary", routing_state, node['name'], node['id'], relocating_node FROM sys.shards WHERE routing_state != 'STARTED'`)
	if len(r.Rows) != 0 {
		t.Fatalf("%+v", r.Rows)
	}
	r = sql(t, c, "data-hot-0", `select health, severity, missing_shards from sys.cluster_health`)
	if r.Rows[0][0] != "GREEN" {
		t.Fatalf("%+v", r.Rows)
	}
	r = sql(t, c, "data-hot-0", `SELECT id, name, master_node FROM sys.cluster`)
	if r.Rows[0][2] != id("data-hot-0") {
		t.Fatalf("master %v", r.Rows[0][2])
	}
	r = sql(t, c, "data-hot-0", `SELECT stmt FROM sys.jobs WHERE stmt LIKE 'x'`[:len(`SELECT stmt FROM sys.jobs`)])
	if len(r.Rows) != 1 {
		t.Fatalf("%+v", r.Rows)
	}
	r = sql(t, c, "data-hot-0", `SELECT * FROM sys.allocations`)
	if len(r.Cols) == 0 {
		t.Fatal()
	}
	r = sql(t, c, "data-hot-0", `SELECT 1`)
	if r.RowCount != 1 {
		t.Fatal()
	}
	r = sql(t, c, "data-hot-0", `SELECT heap['used'], load['1'] FROM sys.nodes`)
	if r.Rows[0][0] == nil || r.Rows[0][1] == nil {
		t.Fatalf("%+v", r.Rows)
	}
	r = sql(t, c, "data-hot-0", `SELECT count(*) FROM sys.checks WHERE passed = false`)
	if r.Rows[0][0] != int64(0) {
		t.Fatalf("%+v", r.Rows)
	}
	for _, bad := range []struct {
		stmt string
		code int
	}{{`SELECT * FROM sys.nope`, 4041}, {`SELECT nope FROM sys.nodes`, 4043}, {`DELETE FROM x`, 4000}, {`SELECT ? FROM sys.nodes`, 4000}} {
		e := sqlErrOf(c, Session{Via: id("data-hot-0"), User: crate.User}, bad.stmt)
		if e == nil || e.Code != bad.code {
			t.Fatalf("%s: %v", bad.stmt, e)
		}
	}
	// master re-elected when it leaves
	c.Leave(id("data-hot-0"), "stop")
	r = sql(t, c, "data-hot-1", `SELECT master_node FROM sys.cluster`)
	if r.Rows[0][0] != id("data-hot-1") {
		t.Fatalf("master %v", r.Rows[0][0])
	}
}

func TestDecommissionNodeMatching(t *testing.T) {
	c, _ := newTestCluster(t, "data-hot-0", "data-hot-1", "data-hot-2")
	sess := Session{Via: id("data-hot-0"), User: crate.User}
	if e := sqlErrOf(c, sess, `ALTER CLUSTER DECOMMISSION 'nope'`); e == nil || e.Code != 4000 || e.HTTPStatus() != 400 {
		t.Fatalf("unknown node: %v", e)
	}
	if e := sqlErrOf(c, Session{Via: id("data-hot-0"), User: User{Name: "system"}}, `ALTER CLUSTER DECOMMISSION 'data-hot-1'`); e == nil || e.Code != 4010 || e.HTTPStatus() != 401 {
		t.Fatalf("non-superuser: %v", e)
	}
	// by name, ignoring case, through a parameter
	_, d, e := c.Exec(sess, `ALTER CLUSTER DECOMMISSION $1`, []any{"DATA-HOT-1"}, nil)
	if e != nil || d == nil {
		t.Fatal(e)
	}
	// by id, dollar quoted
	_, d, e = c.Exec(sess, `ALTER CLUSTER DECOMMISSION $$`+id("data-hot-2")+`$$`, nil, nil)
	if e != nil || d == nil {
		t.Fatal(e)
	}
	c.UpdateConfig(func(cfg *Config) { cfg.DisableDollarQuoting = true })
	if e := sqlErrOf(c, sess, `ALTER CLUSTER DECOMMISSION $$data-hot-0$$`); e == nil {
		t.Fatal("dollar quoting accepted on an old version")
	}
	// the decommissioned node refuses SQL at once
	e = sqlErrOf(c, Session{Via: id("data-hot-1"), User: crate.User}, `SELECT 1`)
	// HTTP 500 with a plain-text body (observed on CrateDB 6.4.3); the test nodes have no rest_url
	if e == nil || e.HTTPStatus() != 500 || !e.Plain || e.Message != "[data-hot-1][127.0.0.1:4300][sql] disconnected" {
		t.Fatalf("refusal: %+v", e)
	}
}

func decommission(t *testing.T, c *Cluster, via, node string, settings ...string) *Decom {
	t.Helper()
	for _, s := range settings {
		sql(t, c, via, s)
	}
	s := crate
	s.Via = id(via)
	_, d, e := c.Exec(s, `ALTER CLUSTER DECOMMISSION ?`, []any{node}, nil)
	if e != nil {
		t.Fatal(e)
	}
	return d
}

func waitExit(t *testing.T, c *Cluster, k *clock, n *Node, max time.Duration) (exited bool, after time.Duration) {
	start := k.t
	for k.t.Sub(start) < max {
		advance(c, k, 100*time.Millisecond)
		select {
		case ev := <-n.Events:
			if ev.Event == "exit" && ev.Code == 0 {
				return true, k.t.Sub(start)
			}
		default:
		}
	}
	return false, max
}

func TestDecommissionFull(t *testing.T) {
	c, k := newTestCluster(t, "data-hot-0", "data-hot-1", "data-hot-2")
	n1 := c.NodeByID(id("data-hot-1"))
	c.CreateTable(Table{Name: "t", Shards: 6, Replicas: 1})
	advance(c, k, 3*time.Second)
	decommission(t, c, "data-hot-0", "data-hot-1", `SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = 'FULL'`)
	ok, _ := waitExit(t, c, k, n1, 20*time.Second)
	if !ok {
		t.Fatalf("node did not exit: %+v", c.Snapshot().History)
	}
	if c.NodeCount() != 2 || c.Health() != "GREEN" || len(c.Violations()) != 0 {
		t.Fatalf("after FULL: nodes=%d health=%s violations=%+v", c.NodeCount(), c.Health(), c.Violations())
	}
}

func TestDecommissionPrimaries(t *testing.T) {
	c, k := newTestCluster(t, "data-hot-0", "data-hot-1", "data-hot-2")
	n1 := c.NodeByID(id("data-hot-1"))
	c.CreateTable(Table{Name: "t", Shards: 6, Replicas: 0})
	advance(c, k, 3*time.Second)
	if p, _ := copiesOn(c, "data-hot-1"); p == 0 {
		t.Fatal("no primary on data-hot-1")
	}
	d := decommission(t, c, "data-hot-0", "data-hot-1",
		`SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = 'primaries'`,
		`SET GLOBAL TRANSIENT "cluster.routing.allocation.enable" = 'primaries'`)
	if d.MinAvailability != "PRIMARIES" {
		t.Fatal(d.MinAvailability)
	}
	ok, _ := waitExit(t, c, k, n1, 20*time.Second)
	if !ok || len(c.Violations()) != 0 || c.Health() != "GREEN" {
		t.Fatalf("exit=%v violations=%+v health=%s", ok, c.Violations(), c.Health())
	}
}

func TestDecommissionPrimariesUnderNewPrimariesLosesData(t *testing.T) {
	c, k := newTestCluster(t, "data-hot-0", "data-hot-1", "data-hot-2")
	n1 := c.NodeByID(id("data-hot-1"))
	c.CreateTable(Table{Name: "t", Shards: 6, Replicas: 0})
	advance(c, k, 3*time.Second)
	decommission(t, c, "data-hot-0", "data-hot-1",
		`SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = 'primaries'`,
		`SET GLOBAL TRANSIENT "cluster.routing.allocation.enable" = 'new_primaries'`)
	ok, _ := waitExit(t, c, k, n1, 5*time.Second)
	if !ok || len(c.Violations()) == 0 || c.Health() != "RED" {
		t.Fatalf("exit=%v violations=%+v health=%s", ok, c.Violations(), c.Health())
	}
	if !strings.Contains(c.Violations()[0].Cause, "decommission") {
		t.Fatal(c.Violations()[0].Cause)
	}
}

func TestDecommissionNoneExitsAtOnce(t *testing.T) {
	c, k := newTestCluster(t, "data-hot-0", "data-hot-1")
	n1 := c.NodeByID(id("data-hot-1"))
	c.CreateTable(Table{Name: "t", Shards: 2, Replicas: 1})
	advance(c, k, 2*time.Second)
	decommission(t, c, "data-hot-0", "data-hot-1", `SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = 'none'`)
	ok, after := waitExit(t, c, k, n1, 5*time.Second)
	if !ok || after > time.Second {
		t.Fatalf("exit=%v after %s", ok, after)
	}
	if c.Health() != "YELLOW" || len(c.Violations()) != 0 {
		t.Fatalf("health %s %+v", c.Health(), c.Violations())
	}
}

func TestDecommissionTimeoutForce(t *testing.T) {
	for _, force := range []bool{true, false} {
		c, k := newTestCluster(t, "data-hot-0", "data-hot-1")
		n1 := c.NodeByID(id("data-hot-1"))
		// FULL cannot drain: 2 nodes, 1 replica
		c.CreateTable(Table{Name: "t", Shards: 2, Replicas: 1})
		advance(c, k, 2*time.Second)
		f := "false"
		if force {
			f = "true"
		}
		d := decommission(t, c, "data-hot-0", "data-hot-1",
			`SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = 'full'`,
			`SET GLOBAL TRANSIENT "cluster.graceful_stop.timeout" = '2s'`,
			`SET GLOBAL TRANSIENT "cluster.graceful_stop.force" = `+f)
		ok, after := waitExit(t, c, k, n1, 6*time.Second)
		if force {
			if !ok || after < 2*time.Second {
				t.Fatalf("force=true: exit=%v after %s", ok, after)
			}
			continue
		}
		if ok {
			t.Fatal("force=false: node exited")
		}
		<-d.Done()
		if d.Err() == nil || c.NodeCount() != 2 {
			t.Fatalf("force=false: %v nodes=%d", d.Err(), c.NodeCount())
		}
		// it accepts SQL again
		sql(t, c, "data-hot-1", "SELECT 1")
	}
}

func TestInvariantKilledNodeWithOnlyCopy(t *testing.T) {
	c, k := newTestCluster(t, "data-hot-0", "data-hot-1", "data-hot-2")
	c.CreateTable(Table{Name: "t", Shards: 3, Replicas: 0})
	advance(c, k, time.Second)
	p, _ := copiesOn(c, "data-hot-2")
	if p == 0 {
		t.Fatal("no primary on data-hot-2")
	}
	c.Leave(id("data-hot-2"), "connection lost (process killed)")
	v := c.Violations()
	if len(v) != p || v[0].End != nil || !strings.Contains(v[0].Cause, "killed") || v[0].Table != "doc.t" {
		t.Fatalf("%+v", v)
	}
	if c.Health() != "RED" {
		t.Fatal(c.Health())
	}
	// it recovers only when the node holding the data comes back
	advance(c, k, 2*time.Second)
	if c.Health() != "RED" {
		t.Fatal("recovered without the data")
	}
	join(t, c, "data-hot-2")
	advance(c, k, 2*time.Second)
	if c.Health() != "GREEN" || c.Violations()[0].End == nil {
		t.Fatalf("%s %+v", c.Health(), c.Violations())
	}
}

func TestLosePrimaryOnPurpose(t *testing.T) {
	c, k := newTestCluster(t, "data-hot-0", "data-hot-1")
	c.CreateTable(Table{Name: "t", Shards: 2, Replicas: 1})
	advance(c, k, 2*time.Second)
	if err := c.LosePrimary("t", 1); err != nil {
		t.Fatal(err)
	}
	advance(c, k, time.Second)
	if c.Health() != "RED" || !c.Violations()[0].Intentional {
		t.Fatalf("%s %+v", c.Health(), c.Violations())
	}
	c.Restore("t")
	advance(c, k, 2*time.Second)
	if c.Health() != "GREEN" {
		t.Fatal(c.Health())
	}
}

// A correct rolling restart: allocation primaries, decommission with
// PRIMARIES through another node, node exits, rejoins, reset allocation,
// wait for GREEN, next node. No primary is ever unavailable.
func TestRollingRestartNoViolation(t *testing.T) {
	names := []string{"data-hot-0", "data-hot-1", "data-hot-2"}
	c, k := newTestCluster(t, names...)
	c.CreateTable(Table{Name: "a", Shards: 6, Replicas: 1})
	c.CreateTable(Table{Name: "b", Shards: 3, Replicas: 0})
	c.CreateTable(Table{Schema: "doc", Name: "p", Shards: 2, Replicas: 1, Partitions: []string{"04132", "04134"}})
	advance(c, k, 5*time.Second)
	for i, name := range names {
		via := names[(i+1)%3]
		n := c.NodeByID(id(name))
		decommission(t, c, via, name,
			`SET GLOBAL TRANSIENT "cluster.routing.allocation.enable" = 'primaries'`,
			`SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = 'primaries'`,
			`SET GLOBAL TRANSIENT "cluster.graceful_stop.timeout" = '60s'`)
		if ok, _ := waitExit(t, c, k, n, 30*time.Second); !ok {
			t.Fatalf("%s did not exit", name)
		}
		advance(c, k, time.Second)
		join(t, c, name)
		advance(c, k, time.Second)
		sql(t, c, via, `RESET GLOBAL "cluster.routing.allocation.enable"`)
		for j := 0; j < 100 && c.Health() != "GREEN"; j++ {
			advance(c, k, 200*time.Millisecond)
		}
		if c.Health() != "GREEN" {
			t.Fatalf("not GREEN after %s", name)
		}
	}
	if v := c.Violations(); len(v) != 0 {
		t.Fatalf("violations: %+v", v[0])
	}
}

// The same roll done wrong (plain stop, no decommission, table without replicas) is caught.
func TestRollingRestartWrongIsCaught(t *testing.T) {
	c, k := newTestCluster(t, "data-hot-0", "data-hot-1", "data-hot-2")
	c.CreateTable(Table{Name: "b", Shards: 3, Replicas: 0})
	advance(c, k, 2*time.Second)
	c.Leave(id("data-hot-0"), "stopped (SIGTERM without decommission)")
	if len(c.Violations()) == 0 {
		t.Fatal("not caught")
	}
}

func TestNodeLeftDelayAndRecoveryOnRejoin(t *testing.T) {
	c, k := newTestCluster(t, "data-hot-0", "data-hot-1", "data-hot-2")
	c.UpdateConfig(func(cfg *Config) { cfg.NodeLeftDelayMs = 5000; cfg.DisableRebalance = true })
	c.CreateTable(Table{Name: "t", Shards: 6, Replicas: 1})
	advance(c, k, 3*time.Second)
	_, before := copiesOn(c, "data-hot-2")
	pBefore, _ := copiesOn(c, "data-hot-2")
	c.Leave(id("data-hot-2"), "restart")
	advance(c, k, 2*time.Second)
	if c.Health() != "YELLOW" || len(c.Violations()) != 0 {
		t.Fatalf("within the delay: %s %+v", c.Health(), c.Violations())
	}
	// the node comes back within the delay: its copies recover on it
	join(t, c, "data-hot-2")
	advance(c, k, 3*time.Second)
	p, r := copiesOn(c, "data-hot-2")
	if c.Health() != "GREEN" || p+r != before+pBefore {
		t.Fatalf("rejoin: %s, %d copies on data-hot-2, had %d", c.Health(), p+r, before+pBefore)
	}
	// gone for longer than the delay: replicas are rebuilt elsewhere
	c.Leave(id("data-hot-2"), "gone")
	advance(c, k, 8*time.Second)
	if c.Health() != "GREEN" {
		t.Fatalf("after the delay: %s", c.Health())
	}
}

func TestNewPrimariesSpreadWhileRecoveriesRun(t *testing.T) {
	c, k := newTestCluster(t, "data-hot-0", "data-hot-1", "data-hot-2")
	c.UpdateConfig(func(cfg *Config) { cfg.RelocationShardsPerSecond = 0.5 })
	c.CreateTable(Table{Name: "t", Shards: 6, Replicas: 1})
	c.CreateTable(Table{Name: "single", Shards: 6, Replicas: 0})
	advance(c, k, 100*time.Millisecond)
	for _, n := range []string{"data-hot-0", "data-hot-1", "data-hot-2"} {
		count := 0
		for _, r := range c.Snapshot().Shards {
			if r.Table == "doc.single" && r.Node == id(n) {
				count++
			}
		}
		if count != 2 {
			t.Fatalf("%s holds %d primaries of doc.single", n, count)
		}
	}
}

func TestSelectGroupByLikeAggregates(t *testing.T) {
	c, k := newTestCluster(t, "data-hot-0", "data-hot-1", "data-hot-2")
	c.CreateTable(Table{Name: "t", Shards: 6, Replicas: 1})
	advance(c, k, 3*time.Second)
	r := sql(t, c, "data-hot-0", `SELECT node['name'] AS n, count(*) AS c FROM sys.shards GROUP BY node['name'] ORDER BY n DESC`)
	if len(r.Rows) != 3 || r.Rows[0][0] != "data-hot-2" || r.Rows[0][1] != int64(4) || r.Cols[1] != "c" {
		t.Fatalf("%+v", r)
	}
	r = sql(t, c, "data-hot-0", `SELECT routing_state, count(*) FROM sys.shards GROUP BY routing_state`)
	if len(r.Rows) != 1 || r.Rows[0][0] != "STARTED" || r.Rows[0][1] != int64(12) {
		t.Fatalf("%+v", r)
	}
	r = sql(t, c, "data-hot-0", `SELECT count(*), max(id), min(id), sum(id) FROM sys.shards WHERE "primary"`)
	if r.Rows[0][0] != int64(6) || r.Rows[0][1] != int64(5) || r.Rows[0][2] != int64(0) || r.Rows[0][3] != int64(15) {
		t.Fatalf("%+v", r)
	}
	r = sql(t, c, "data-hot-0", `SELECT name FROM sys.nodes WHERE name LIKE 'data-hot-_' AND name NOT LIKE '%2' AND hostname ILIKE 'CRATE%' ORDER BY name`)
	if len(r.Rows) != 2 || r.Rows[1][0] != "data-hot-1" {
		t.Fatalf("%+v", r)
	}
	if e := sqlErrOf(c, Session{Via: id("data-hot-0"), User: crate.User}, `SELECT name, count(*) FROM sys.nodes`); e == nil {
		t.Fatal("ungrouped column accepted")
	}
	// bulk SET
	s := crate
	s.Via = id("data-hot-0")
	res, _, e := c.Exec(s, `SET GLOBAL TRANSIENT "cluster.graceful_stop.timeout" = ?`, nil, [][]any{{"10s"}, {"bad"}})
	if e != nil || len(res.Results) != 2 || res.Results[0].RowCount != 1 || res.Results[1].RowCount != -2 {
		t.Fatalf("%+v %v", res, e)
	}
}

func TestFaults(t *testing.T) {
	c, k := newTestCluster(t, "data-hot-0", "data-hot-1")
	c.CreateTable(Table{Name: "t", Shards: 2, Replicas: 1})
	advance(c, k, 2*time.Second)
	c.UpdateConfig(func(cfg *Config) { cfg.PrematureGreenMs = 2000 })
	sql(t, c, "data-hot-0", `SET GLOBAL TRANSIENT "cluster.routing.allocation.enable" = 'primaries'`)
	c.Leave(id("data-hot-1"), "restart")
	join(t, c, "data-hot-1")
	r := sql(t, c, "data-hot-0", `SELECT health FROM sys.cluster_health`)
	if r.Rows[0][0] != "GREEN" {
		t.Fatalf("no premature GREEN: %v", r.Rows)
	}
	advance(c, k, 3*time.Second)
	r = sql(t, c, "data-hot-0", `SELECT health FROM sys.health`)
	if r.Rows[0][0] != "YELLOW" {
		t.Fatalf("after the premature window: %v", r.Rows)
	}
	c.UpdateConfig(func(cfg *Config) { cfg.SQLErrorPercent = 100 })
	if e := sqlErrOf(c, Session{Via: id("data-hot-0"), User: crate.User}, `SELECT 1`); e == nil || e.Code != 5032 {
		t.Fatalf("%v", e)
	}
}

func TestDedicatedMastersAndQuorum(t *testing.T) {
	c, k := newTestCluster(t)
	for _, m := range []string{"master-0", "master-1", "master-2"} {
		if _, err := c.Join(JoinRequest{Name: m, NoData: true}); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"data-hot-0", "data-hot-1"} {
		if _, err := c.Join(JoinRequest{Name: d, NoMaster: true}); err != nil {
			t.Fatal(err)
		}
	}
	c.CreateTable(Table{Name: "t", Shards: 4, Replicas: 1})
	advance(c, k, 2*time.Second)
	if p, r := copiesOn(c, "master-0"); p+r != 0 {
		t.Fatal("shards on a master-only node")
	}
	r := sql(t, c, "data-hot-0", `SELECT master_node FROM sys.cluster`)
	if r.Rows[0][0] != id("master-0") {
		t.Fatalf("master %v", r.Rows[0][0])
	}
	c.Leave(id("master-0"), "restart")
	r = sql(t, c, "data-hot-0", `SELECT master_node FROM sys.cluster`)
	if r.Rows[0][0] != id("master-1") {
		t.Fatalf("re-elected %v", r.Rows[0][0])
	}
	c.Leave(id("master-1"), "restart")
	e := sqlErrOf(c, Session{Via: id("data-hot-0"), User: crate.User}, `SELECT 1`)
	if e == nil || e.Code != 5000 {
		t.Fatalf("no quorum but SQL answered: %v", e)
	}
	c.Join(JoinRequest{Name: "master-0", NoData: true})
	sql(t, c, "data-hot-0", `SELECT 1`)
	if c.Health() != "GREEN" || len(c.Violations()) != 0 {
		t.Fatalf("%s %+v", c.Health(), c.Violations())
	}
}

func TestVersionGates(t *testing.T) {
	for _, c := range []struct {
		v, w string
		less bool
	}{{"5.1.4", "5.2", true}, {"5.2.0", "5.2", false}, {"5.10.3", "6.0", true}, {"6.4.3", "6.4.4", true}, {"6.4.4", "6.4.4", false}, {"7.0", "6.4.4", false}, {"nightly", "6.0", false}} {
		if VersionBefore(c.v, c.w) != c.less {
			t.Fatalf("%s < %s", c.v, c.w)
		}
	}
	k := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := NewCluster("test", k.Now)
	c.UpdateConfig(func(cfg *Config) { cfg.RequestCheckMs = 200; cfg.ExitDelayMs = 500 })
	old, _ := c.Join(JoinRequest{Name: "data-hot-0", Version: "5.1.4"})
	c.Join(JoinRequest{Name: "data-hot-1", Version: "5.10.3"})
	c.Join(JoinRequest{Name: "data-hot-2"}) // the cluster's default version
	via := func(n string) Session { return Session{Via: id(n), User: crate.User} }
	if e := sqlErrOf(c, via("data-hot-0"), `ALTER CLUSTER DECOMMISSION $$data-hot-2$$`); e == nil || e.Code != 4000 {
		t.Fatalf("5.1 accepted dollar quoting: %v", e)
	}
	if e := sqlErrOf(c, via("data-hot-1"), `SELECT health FROM sys.cluster_health`); e == nil || e.Code != 4041 {
		t.Fatalf("5.10 has sys.cluster_health: %v", e)
	}
	sql(t, c, "data-hot-2", `SELECT health FROM sys.cluster_health`)
	r := sql(t, c, "data-hot-2", `SELECT version['number'] FROM sys.nodes ORDER BY name`)
	if r.Rows[0][0] != "5.1.4" || r.Rows[2][0] != "6.4.4" {
		t.Fatalf("%+v", r.Rows)
	}
	// CrateDB < 6.4.4 stops on a timeout even with force=false
	c.CreateTable(Table{Name: "t", Shards: 3, Replicas: 2})
	advance(c, k, 3*time.Second)
	decommission(t, c, "data-hot-2", "data-hot-0",
		`SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = 'full'`,
		`SET GLOBAL TRANSIENT "cluster.graceful_stop.timeout" = '1s'`,
		`SET GLOBAL TRANSIENT "cluster.graceful_stop.force" = false`)
	if ok, _ := waitExit(t, c, k, old, 3*time.Second); !ok {
		t.Fatal("a 5.1 node did not stop after its timeout with force=false")
	}
}

// Under new_primaries a returning node cannot recover its own primaries: the
// table stays RED until the allocation setting is reset.
func TestNewPrimariesBlocksOwnPrimaryRecovery(t *testing.T) {
	c, k := newTestCluster(t, "data-hot-0", "data-hot-1")
	c.CreateTable(Table{Name: "t", Shards: 2, Replicas: 0})
	advance(c, k, time.Second)
	sql(t, c, "data-hot-0", `SET GLOBAL TRANSIENT "cluster.routing.allocation.enable" = 'new_primaries'`)
	via := "data-hot-0"
	if p, _ := copiesOn(c, "data-hot-1"); p == 0 {
		t.Fatal("no primary on data-hot-1")
	}
	c.Leave(id("data-hot-1"), "plain restart")
	join(t, c, "data-hot-1")
	advance(c, k, 3*time.Second)
	if c.Health() != "RED" {
		t.Fatalf("recovered under new_primaries: %s", c.Health())
	}
	sql(t, c, via, `RESET GLOBAL "cluster.routing.allocation.enable"`)
	advance(c, k, 2*time.Second)
	v := c.Violations()
	if c.Health() != "GREEN" || len(v) != 1 || v[0].End == nil {
		t.Fatalf("%s %+v", c.Health(), v)
	}
}

func TestRegistryDelete(t *testing.T) {
	r := NewRegistry(nil)
	if _, err := r.Delete("nope", true); err != ErrNoCluster {
		t.Fatalf("unknown: %v", err)
	}
	c := r.Get("c1")
	n0, _ := c.Join(JoinRequest{Name: "data-hot-0"})
	n1, _ := c.Join(JoinRequest{Name: "data-hot-1"})
	c.CreateTable(Table{Name: "t", Shards: 2, Replicas: 1})
	_, err := r.Delete("c1", false)
	var busy *BusyError
	if !errors.As(err, &busy) || fmt.Sprint(busy.Nodes) != "[data-hot-0 data-hot-1]" || r.Lookup("c1") == nil {
		t.Fatalf("busy: %v", err)
	}
	select {
	case <-n0.Gone():
		t.Fatal("refused delete disconnected a node")
	default:
	}
	// a draining decommission is aborted, every node is disconnected
	c.UpdateConfig(func(cfg *Config) { cfg.RelocationShardsPerSecond = 0.001 })
	_, d, e := c.Exec(Session{Via: n0.ID, User: User{Name: "crate", Superuser: true}}, "ALTER CLUSTER DECOMMISSION 'data-hot-1'", nil, nil)
	if e != nil || d == nil {
		t.Fatalf("decommission: %v", e)
	}
	names, err := r.Delete("c1", true)
	if err != nil || fmt.Sprint(names) != "[data-hot-0 data-hot-1]" {
		t.Fatalf("force: %v %v", names, err)
	}
	for _, n := range []*Node{n0, n1} {
		select {
		case <-n.Gone():
		default:
			t.Fatalf("%s not disconnected", n.Name)
		}
	}
	select {
	case <-d.Done():
	default:
		t.Fatal("decommission wait not ended")
	}
	if r.Lookup("c1") != nil || len(r.Names()) != 0 || c.NodeCount() != 0 {
		t.Fatalf("still there: %v", r.Names())
	}
	// a join that waited on the deleted cluster is refused; the retry gets a fresh cluster
	if _, err := c.Join(JoinRequest{Name: "data-hot-0"}); err != ErrClusterDeleted {
		t.Fatalf("join on deleted: %v", err)
	}
	if c2 := r.Get("c1"); c2 == c || len(c2.Snapshot().Tables) != 0 {
		t.Fatal("not a fresh cluster")
	}
}
