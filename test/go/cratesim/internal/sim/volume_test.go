package sim

import (
	"testing"
	"time"
)

const mb = int64(1 << 20)

// volumeCluster: 3 nodes, doc.t with 6 shards x 1 replica of 100 MB per copy,
// copying at 40mb x 10 = 400 MB/s per node; GREEN and loaded.
func volumeCluster(t *testing.T, replicas int) (*Cluster, *clock) {
	t.Helper()
	c, k := newTestCluster(t, "data-hot-0", "data-hot-1", "data-hot-2")
	c.UpdateConfig(func(cfg *Config) { cfg.CopyScale = 10 })
	if err := c.CreateTable(Table{Name: "t", Shards: 6, Replicas: replicas, ShardBytes: 100 * mb}); err != nil {
		t.Fatal(err)
	}
	advance(c, k, 3*time.Second)
	if c.Health() != "GREEN" {
		t.Fatalf("not GREEN: %s", c.Health())
	}
	if st := c.CopiedStats(); st.TotalBytes != 0 {
		t.Fatalf("the first allocation copied %d bytes", st.TotalBytes)
	}
	return c, k
}

func primariesOn(c *Cluster, node string) int {
	p, _ := copiesOn(c, node)
	return p
}

// every shard that had an active primary still has one: the invariant recorder agrees.
func noViolations(t *testing.T, c *Cluster) {
	t.Helper()
	if v := c.Violations(); len(v) != 0 {
		t.Fatalf("violations: %+v", *v[0])
	}
}

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]int64{"40mb": 40 * mb, "40MB": 40 * mb, "1gb": 1 << 30, "512kb": 512 << 10, "100b": 100, "1234": 1234, "1.5gb": 3 << 29, "0": 0} {
		if got, err := ParseByteSize(in); err != nil || got != want {
			t.Errorf("%s: %d %v, want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "fast", "-1mb", "12xb"} {
		if _, err := ParseByteSize(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

// Observed on CrateDB 6.4.3: PRIMARIES relocates every primary of the node
// (a full file copy to a node without a copy of that shard), at the recovery
// rate; when the node returns with allocation `all`, its replicas recover
// operation-based and the balancer copies about as much back.
func TestPrimariesRestartCopiesTwice(t *testing.T) {
	c, k := volumeCluster(t, 1)
	n1 := c.NodeByID(id("data-hot-1"))
	prims := primariesOn(c, "data-hot-1")
	_, repls := copiesOn(c, "data-hot-1")
	if prims == 0 || repls == 0 {
		t.Fatalf("data-hot-1 holds %d primaries, %d replicas", prims, repls)
	}
	decommission(t, c, "data-hot-0", "data-hot-1",
		`SET GLOBAL TRANSIENT "cluster.routing.allocation.enable" = 'primaries'`,
		`SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = 'primaries'`)
	// 100 MB at 400 MB/s: not done after 0.1 s, in flight and visible
	advance(c, k, 100*time.Millisecond)
	st := c.CopiedStats()
	if len(st.InFlight) == 0 || st.InFlight[0].Kind != KindRelocation || st.InFlight[0].From != "data-hot-1" {
		t.Fatalf("no relocation in flight: %+v", st.InFlight)
	}
	if st.RateBytesPerSec != float64(400*mb) {
		t.Fatalf("rate %v", st.RateBytesPerSec)
	}
	ok, after := waitExit(t, c, k, n1, 60*time.Second)
	if !ok {
		t.Fatalf("no exit: %+v", c.Snapshot().History)
	}
	st = c.CopiedStats()
	if st.Bytes[KindRelocation] != int64(prims)*100*mb || st.Recoveries[KindRelocation] != prims {
		t.Fatalf("relocation copied %d bytes in %d recoveries, want %d primaries x 100 MB", st.Bytes[KindRelocation], st.Recoveries[KindRelocation], prims)
	}
	if got := st.ByNode["data-hot-1"].Sent[KindRelocation]; got != int64(prims)*100*mb {
		t.Fatalf("data-hot-1 sent %d", got)
	}
	if got := st.ByNode["data-hot-0"].Received[KindRelocation] + st.ByNode["data-hot-2"].Received[KindRelocation]; got != int64(prims)*100*mb {
		t.Fatalf("received %d", got)
	}
	// the copies took time: 2 primaries per target node at most, each node 400 MB/s
	if after < 250*time.Millisecond {
		t.Fatalf("drain + exit took %v", after)
	}
	noViolations(t, c)
	join(t, c, "data-hot-1")
	sql(t, c, "data-hot-0", `RESET GLOBAL "cluster.routing.allocation.enable"`)
	for i := 0; i < 300 && !(c.Health() == "GREEN" && c.Snapshot().Relocating == 0 && balanced(c)); i++ {
		advance(c, k, 100*time.Millisecond)
	}
	st = c.CopiedStats()
	if st.Recoveries[KindOps] != repls || st.Bytes[KindReplica] != 0 {
		t.Fatalf("replicas: %d operation-based (want %d), %d file bytes", st.Recoveries[KindOps], repls, st.Bytes[KindReplica])
	}
	if st.Bytes[KindRebalance] == 0 || st.ByNode["data-hot-1"].Received[KindRebalance] != st.Bytes[KindRebalance] {
		t.Fatalf("nothing rebalanced back onto data-hot-1: %+v", st)
	}
	if st.ByNode["data-hot-1"].OperationBased != repls {
		t.Fatalf("per node ops: %+v", st.ByNode["data-hot-1"])
	}
	noViolations(t, c)
}

func balanced(c *Cluster) bool {
	min, max := 1<<30, 0
	for _, n := range []string{"data-hot-0", "data-hot-1", "data-hot-2"} {
		p, r := copiesOn(c, n)
		if p+r < min {
			min = p + r
		}
		if p+r > max {
			max = p + r
		}
	}
	return max-min <= 1
}

// Observed on CrateDB 6.4.3: NONE moves nothing (but still waits for
// active requests); the master promotes a STARTED replica of each primary in
// the same state update that removes the node; after RESET the returning
// node's copies recover operation-based: 0 file bytes.
func TestNoneRestartCopiesNothing(t *testing.T) {
	c, k := volumeCluster(t, 1)
	n1 := c.NodeByID(id("data-hot-1"))
	p, r := copiesOn(c, "data-hot-1")
	if _, err := c.Hold(HoldRequest{Via: "data-hot-0", On: []string{"data-hot-1"}, Stmt: "SELECT * FROM t", Ms: 8000}); err != nil {
		t.Fatal(err)
	}
	decommission(t, c, "data-hot-0", "data-hot-1",
		`SET GLOBAL TRANSIENT "cluster.routing.allocation.enable" = 'primaries'`,
		`SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = 'NONE'`)
	advance(c, k, 100*time.Millisecond)
	if st := c.CopiedStats(); len(st.InFlight) != 0 || primariesOn(c, "data-hot-1") != p {
		t.Fatalf("NONE moved something: %+v", st.InFlight)
	}
	// the held request keeps it up beyond the quiet-node exit time
	if ok, _ := waitExit(t, c, k, n1, 5*time.Second); ok {
		t.Fatal("exited with an active request")
	}
	ok, _ := waitExit(t, c, k, n1, 20*time.Second)
	if !ok {
		t.Fatal("no exit after the request ended")
	}
	// promotion in the same update as the removal: every primary active right now
	for _, s := range c.shards {
		if !primaryActive(s) {
			t.Fatalf("shard %d has no active primary after the node left", s.ID)
		}
	}
	noViolations(t, c)
	if c.Health() != "YELLOW" {
		t.Fatalf("health %s", c.Health())
	}
	advance(c, k, 2*time.Second)
	join(t, c, "data-hot-1")
	advance(c, k, 500*time.Millisecond)
	if _, rr := copiesOn(c, "data-hot-1"); rr != 0 {
		t.Fatalf("replicas allocated under allocation primaries: %d", rr)
	}
	sql(t, c, "data-hot-0", `RESET GLOBAL "cluster.routing.allocation.enable"`)
	for i := 0; i < 100 && c.Health() != "GREEN"; i++ {
		advance(c, k, 100*time.Millisecond)
	}
	advance(c, k, 2*time.Second)
	st := c.CopiedStats()
	if c.Health() != "GREEN" || st.TotalBytes != 0 || st.OperationBased != p+r {
		t.Fatalf("health %s, %d file bytes, %d operation-based (want %d): %+v", c.Health(), st.TotalBytes, st.OperationBased, p+r, st)
	}
	noViolations(t, c)
}

// Past the retention lease the returning node's copies recover by copying files.
func TestRetentionLeaseExpiredCopiesFiles(t *testing.T) {
	c, k := volumeCluster(t, 1)
	c.UpdateConfig(func(cfg *Config) { cfg.RetentionLeaseMs = 1000; cfg.DisableRebalance = true })
	p, r := copiesOn(c, "data-hot-2")
	sql(t, c, "data-hot-0", `SET GLOBAL TRANSIENT "cluster.routing.allocation.enable" = 'primaries'`)
	c.Leave(id("data-hot-2"), "stopped (SIGTERM without decommission)")
	noViolations(t, c)
	advance(c, k, 3*time.Second)
	join(t, c, "data-hot-2")
	sql(t, c, "data-hot-0", `RESET GLOBAL "cluster.routing.allocation.enable"`)
	for i := 0; i < 100 && c.Health() != "GREEN"; i++ {
		advance(c, k, 100*time.Millisecond)
	}
	st := c.CopiedStats()
	if st.OperationBased != 0 || st.Bytes[KindReplica] != int64(p+r)*100*mb || st.Recoveries[KindReplica] != p+r {
		t.Fatalf("want %d file-based replica recoveries of 100 MB: %+v", p+r, st)
	}
	if got := st.ByNode["data-hot-2"].Received[KindReplica]; got != int64(p+r)*100*mb {
		t.Fatalf("data-hot-2 received %d", got)
	}
}

// indices.recovery.max_bytes_per_sec sets the copy rate; a bad value is refused.
func TestRecoveryRateSetting(t *testing.T) {
	c, k := volumeCluster(t, 0)
	c.UpdateConfig(func(cfg *Config) { cfg.CopyScale = 1; cfg.DisableRebalance = true })
	s := crate
	s.Via = id("data-hot-0")
	if _, _, e := c.Exec(s, `SET GLOBAL TRANSIENT "indices.recovery.max_bytes_per_sec" = 'fast'`, nil, nil); e == nil || e.Code != 4000 {
		t.Fatalf("bad value: %v", e)
	}
	sql(t, c, "data-hot-0", `SET GLOBAL TRANSIENT "indices.recovery.max_bytes_per_sec" = '200mb'`)
	if st := c.CopiedStats(); st.MaxBytesPerSec != 200*mb || st.RateBytesPerSec != float64(200*mb) {
		t.Fatalf("rate: %+v", st)
	}
	n1 := c.NodeByID(id("data-hot-1"))
	prims := primariesOn(c, "data-hot-1")
	decommission(t, c, "data-hot-0", "data-hot-1", `SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = 'primaries'`)
	// 2 primaries of 100 MB per target at 200 MB/s: the drain needs ~1 s
	advance(c, k, 300*time.Millisecond)
	if d := n1.Decom; d.Phase != "draining" {
		t.Fatalf("drained too fast: %s", d.Phase)
	}
	st := c.CopiedStats()
	if st.TotalBytes <= 0 || st.TotalBytes >= int64(prims)*100*mb {
		t.Fatalf("after 0.3 s: %d bytes", st.TotalBytes)
	}
	// sys.shards: a recovering copy's size grows, a started one has the shard's bytes
	rows := sql(t, c, "data-hot-0", `SELECT size, routing_state, "primary" FROM sys.shards WHERE table_name = 't'`).Rows
	growing := false
	for _, row := range rows {
		size := row[0].(int64)
		switch row[1] {
		case Initializing:
			growing = growing || (size > 0 && size < 100*mb)
		case Started, Relocating:
			if size != 100*mb {
				t.Fatalf("started copy of size %d", size)
			}
		}
	}
	if !growing {
		t.Fatalf("no recovering copy with a partial size: %v", rows)
	}
	if ok, _ := waitExit(t, c, k, n1, 30*time.Second); !ok {
		t.Fatal("no exit")
	}
	if st := c.CopiedStats(); st.Bytes[KindRelocation] != int64(prims)*100*mb {
		t.Fatalf("relocated %d", st.Bytes[KindRelocation])
	}
	noViolations(t, c)
}

// FULL moves every copy off the node: primaries and replicas, full copies.
func TestFullMovesEverything(t *testing.T) {
	names := []string{"data-hot-0", "data-hot-1", "data-hot-2", "data-hot-3"}
	c, k := newTestCluster(t, names...)
	c.UpdateConfig(func(cfg *Config) { cfg.CopyScale = 10; cfg.DisableRebalance = true })
	c.CreateTable(Table{Name: "t", Shards: 8, Replicas: 1, ShardBytes: 50 * mb})
	advance(c, k, 3*time.Second)
	p, r := copiesOn(c, "data-hot-3")
	n3 := c.NodeByID(id("data-hot-3"))
	decommission(t, c, "data-hot-0", "data-hot-3", `SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = 'full'`)
	if ok, _ := waitExit(t, c, k, n3, 30*time.Second); !ok {
		t.Fatal("no exit")
	}
	st := c.CopiedStats()
	if st.Bytes[KindRelocation] != int64(p+r)*50*mb || st.ByNode["data-hot-3"].SentTotal != int64(p+r)*50*mb {
		t.Fatalf("FULL moved %d bytes, want %d copies x 50 MB", st.Bytes[KindRelocation], p+r)
	}
	if c.Health() != "GREEN" {
		t.Fatal(c.Health())
	}
	noViolations(t, c)
}

// ResetCopied zeroes the counters; a table without shard bytes copies nothing.
func TestCopiedResetAndNoVolume(t *testing.T) {
	c, k := volumeCluster(t, 1)
	c.CreateTable(Table{Name: "empty", Shards: 3, Replicas: 1})
	advance(c, k, time.Second)
	n := c.NodeByID(id("data-hot-2"))
	decommission(t, c, "data-hot-0", "data-hot-2", `SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = 'primaries'`,
		`SET GLOBAL TRANSIENT "cluster.routing.allocation.enable" = 'primaries'`)
	if ok, _ := waitExit(t, c, k, n, 30*time.Second); !ok {
		t.Fatal("no exit")
	}
	st := c.CopiedStats()
	if st.TotalBytes%(100*mb) != 0 || st.TotalBytes == 0 {
		t.Fatalf("only doc.t's 100 MB shards count: %d", st.TotalBytes)
	}
	c.ResetCopied()
	if st := c.CopiedStats(); st.TotalBytes != 0 || st.Recoveries[KindRelocation] != 0 || st.ByNode["data-hot-0"].ReceivedTotal != 0 {
		t.Fatalf("not reset: %+v", st)
	}
}

// Recoveries into the same node share its rate (CrateDB throttles per node).
func TestRateSharedPerNode(t *testing.T) {
	c, k := newTestCluster(t, "data-hot-0", "data-hot-1")
	c.UpdateConfig(func(cfg *Config) { cfg.CopyScale = 10; cfg.DisableRebalance = true })
	c.CreateTable(Table{Name: "t", Shards: 4, Replicas: 0, ShardBytes: 100 * mb})
	advance(c, k, time.Second)
	if primariesOn(c, "data-hot-1") != 2 {
		t.Fatalf("data-hot-1 holds %d primaries", primariesOn(c, "data-hot-1"))
	}
	decommission(t, c, "data-hot-0", "data-hot-1", `SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = 'primaries'`)
	advance(c, k, 200*time.Millisecond)
	st := c.CopiedStats()
	if len(st.InFlight) != 2 || st.TotalBytes > 400*mb/5+mb || st.TotalBytes < 400*mb/10 {
		t.Fatalf("two copies into data-hot-0 at 400 MB/s for 0.2 s: %d bytes, %+v", st.TotalBytes, st.InFlight)
	}
	if st.InFlight[0].Done != st.InFlight[1].Done {
		t.Fatalf("not shared evenly: %+v", st.InFlight)
	}
}
