package sim

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkStep: one allocator tick of a 5-node cluster with 1200 copies, one node gone.
func BenchmarkStep(b *testing.B) {
	k := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := NewCluster("bench", k.Now)
	for i := 0; i < 5; i++ {
		c.Join(JoinRequest{Name: fmt.Sprintf("data-hot-%d", i)})
	}
	for i := 0; i < 20; i++ {
		c.CreateTable(Table{Name: fmt.Sprintf("t%d", i), Shards: 10, Replicas: 2, Partitions: []string{"a", "b"}})
	}
	for i := 0; i < 600; i++ {
		k.t = k.t.Add(100 * time.Millisecond)
		c.Step(k.t)
	}
	c.Leave(NodeID("bench", "data-hot-4"), "bench")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k.t = k.t.Add(100 * time.Millisecond)
		c.Step(k.t)
	}
}
