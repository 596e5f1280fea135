package sim

import (
	"fmt"
	"testing"
	"time"
)

// A `WHERE id = ?` read is a primary-key lookup: CrateDB routes it by the id's hash to the one shard holding the
// row, so it answers while another shard of the table has no active primary, where a full read fails (5002).
func TestPrimaryKeyReadRoutesToOneShard(t *testing.T) {
	c, k := newTestCluster(t, "data-hot-0", "data-hot-1")
	c.CreateTable(Table{Name: "t", Shards: 4, Replicas: 0})
	advance(c, k, 3*time.Second)
	for i := 1; i <= 20; i++ {
		sql(t, c, "data-hot-0", `INSERT INTO t (id, v) VALUES (?, ?)`, float64(i), fmt.Sprintf("v%d", i))
	}
	c.Leave(id("data-hot-1"), "killed")
	shards := c.tableShardsLocked("doc.t")
	alive, lost := 0, 0
	for i := 1; i <= 20; i++ {
		prim := activePrimary(shardFor(shards, routeKey(float64(i))))
		e := sqlErrOf(c, Session{Via: id("data-hot-0"), User: crate.User}, `SELECT v FROM t WHERE id = ?`, float64(i))
		if prim == nil {
			lost++
			if e == nil || e.Code != 5002 {
				t.Fatalf("id %d on a shard without a primary: %v, want 5002", i, e)
			}
			continue
		}
		alive++
		if e != nil {
			t.Fatalf("id %d on a shard with a primary: %v", i, e)
		}
		r := sql(t, c, "data-hot-0", `SELECT v FROM t WHERE id = ?`, float64(i))
		if len(r.Rows) != 1 || r.Rows[0][0] != fmt.Sprintf("v%d", i) {
			t.Fatalf("id %d: %+v", i, r.Rows)
		}
	}
	if alive == 0 || lost == 0 {
		t.Fatalf("want ids on both sides: %d alive, %d lost", alive, lost)
	}
	if e := sqlErrOf(c, Session{Via: id("data-hot-0"), User: crate.User}, `SELECT count(*) FROM t`); e == nil || e.Code != 5002 {
		t.Fatalf("a full read with a shard down: %v, want 5002", e)
	}
	// a column known from earlier writes stays known when the lookup finds no row
	r := sql(t, c, "data-hot-0", `SELECT v FROM t WHERE id = ?`, float64(1000+firstAlive(c, shards)))
	if len(r.Rows) != 0 {
		t.Fatalf("a missing id: %+v", r.Rows)
	}
}

func firstAlive(c *Cluster, shards []*Shard) int {
	for i := 0; ; i++ {
		if activePrimary(shardFor(shards, routeKey(float64(1000+i)))) != nil {
			return i
		}
	}
}

// BenchmarkPrimaryKeyRead: the traffic client's read (`SELECT v FROM doc.metrics WHERE id = ?`) on a table of 30000
// rows (50 nodes writing once a second for 10 minutes). Before the lookup was routed it scanned and sorted every row.
func BenchmarkPrimaryKeyRead(b *testing.B) {
	k := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := NewCluster("bench", k.Now)
	for i := 0; i < 5; i++ {
		c.Join(JoinRequest{Name: fmt.Sprintf("data-hot-%d", i)})
	}
	c.CreateTable(Table{Name: "metrics", Shards: 10, Replicas: 1})
	for i := 0; i < 100; i++ {
		k.t = k.t.Add(100 * time.Millisecond)
		c.Step(k.t)
	}
	s := Session{Via: NodeID("bench", "data-hot-0"), User: User{Name: "crate", Superuser: true}}
	for i := 0; i < 30000; i++ {
		if _, _, e := c.Exec(s, `INSERT INTO doc.metrics (id, v, node) VALUES (?, ?, ?)`, []any{float64(i), "w", "n"}, nil); e != nil {
			b.Fatal(e)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, e := c.Exec(s, `SELECT v FROM doc.metrics WHERE id = ?`, []any{float64(i % 30000)}, nil); e != nil {
			b.Fatal(e)
		}
	}
}
