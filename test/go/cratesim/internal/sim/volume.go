package sim

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Data volume (issue 9; as observed on CrateDB 6.4.3).
//
// A table created with ShardBytes has that many bytes in every copy of each
// of its shards. A recovery that copies files (a relocation, a replica
// recovered onto a node holding no usable copy, a rebalance move) copies the
// shard's bytes at indices.recovery.max_bytes_per_sec (default 40mb) times
// the sim-only Config.CopyScale, shared by the recoveries into the same
// node; it finishes when all bytes arrived. A copy recovering onto a node
// that still holds its files from before it left, within the retention lease
// (Config.RetentionLeaseMs, 12 h as CrateDB's
// soft_deletes.retention_lease.period), recovers operation-based: 0 file
// bytes. A table's first allocation copies nothing (its data is taken as
// loaded once every copy started). Tables without ShardBytes keep the
// shard-count rate (relocationShardsPerSecond) and copy nothing.

// SettingRecoveryMaxBytes is CrateDB's recovery throttle.
const SettingRecoveryMaxBytes = "indices.recovery.max_bytes_per_sec"

// Recovery kinds (Copy.Kind).
const (
	KindRelocation = "relocation"       // moved off a draining node (decommission)
	KindReplica    = "replicaFileBased" // an unassigned replica recovered by copying files
	KindRebalance  = "rebalance"        // moved by the balancer
	KindOps        = "operationBased"   // recovered from the node's own files within the lease
	KindLocal      = "local"            // a primary recovering from its own node's files
	KindInitial    = "initial"          // first allocation of a new table (no data yet)
)

// fileKinds are the reasons bytes are counted under.
var fileKinds = []string{KindRelocation, KindReplica, KindRebalance}

// NodeCopied is one node's share of the copied bytes, by reason.
type NodeCopied struct {
	Received      map[string]int64 `json:"received"`
	Sent          map[string]int64 `json:"sent"`
	ReceivedTotal int64            `json:"receivedTotal"`
	SentTotal     int64            `json:"sentTotal"`
	// OperationBased counts operation-based recoveries onto the node.
	OperationBased int `json:"operationBased"`
}

// InFlight is a running recovery that copies files.
type InFlight struct {
	Table     string `json:"table"`
	Partition string `json:"partition,omitempty"`
	Shard     int    `json:"shard"`
	Primary   bool   `json:"primary"`
	Kind      string `json:"kind"`
	From      string `json:"from"`
	To        string `json:"to"`
	Bytes     int64  `json:"bytes"`
	Done      int64  `json:"done"`
}

// Copied is the answer of GET /clusters/<c>/copied (ctl copied).
type Copied struct {
	// RateBytesPerSec: the effective per-node recovery rate
	// (max_bytes_per_sec x copyScale; 0 = unthrottled).
	RateBytesPerSec float64 `json:"rateBytesPerSec"`
	MaxBytesPerSec  int64   `json:"maxBytesPerSec"`
	CopyScale       float64 `json:"copyScale"`
	TotalBytes      int64   `json:"totalBytes"`
	// Bytes: file bytes copied per reason (relocation, replicaFileBased, rebalance).
	Bytes map[string]int64 `json:"bytes"`
	// Recoveries: finished recoveries per kind (the three file kinds, plus
	// operationBased and local).
	Recoveries     map[string]int         `json:"recoveries"`
	OperationBased int                    `json:"operationBased"`
	ByNode         map[string]*NodeCopied `json:"byNode"`
	InFlight       []InFlight             `json:"inFlight"`
	Since          time.Time              `json:"since"`
}

type copyStats struct {
	bytes      map[string]float64
	recoveries map[string]int
	received   map[string]map[string]float64 // node id -> kind -> bytes
	sent       map[string]map[string]float64
	ops        map[string]int
	since      time.Time
	names      map[string]string // node id -> name (nodes that left too)
}

func newCopyStats(now time.Time) copyStats {
	return copyStats{bytes: map[string]float64{}, recoveries: map[string]int{}, received: map[string]map[string]float64{},
		sent: map[string]map[string]float64{}, ops: map[string]int{}, since: now, names: map[string]string{}}
}

func addTo(m map[string]map[string]float64, node, kind string, b float64) {
	if node == "" {
		return
	}
	if m[node] == nil {
		m[node] = map[string]float64{}
	}
	m[node][kind] += b
}

// ParseByteSize parses an Elasticsearch byte size: 40mb, 1gb, 512kb, 100b,
// a bare number of bytes; units b, kb, mb, gb, tb, pb (1024-based, any case).
func ParseByteSize(v string) (int64, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"pb", 1 << 50}, {"tb", 1 << 40}, {"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"b", 1}} {
		if strings.HasSuffix(s, u.suf) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suf)), u.m
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("failed to parse [%s] as a byte size value", v)
	}
	return int64(f * float64(mult)), nil
}

// maxBytesLocked is the effective indices.recovery.max_bytes_per_sec (0 = unthrottled).
func (c *Cluster) maxBytesLocked() int64 {
	b, err := ParseByteSize(fmt.Sprint(c.settingLocked(SettingRecoveryMaxBytes)))
	if err != nil {
		return 40 << 20
	}
	return b
}

func (c *Cluster) rateLocked() float64 {
	scale := c.cfg.CopyScale
	if scale <= 0 {
		scale = 1
	}
	return float64(c.maxBytesLocked()) * scale
}

// retainedLocked: node holds files of s from before it left, within the lease.
func (c *Cluster) retainedLocked(s *Shard, node string, now time.Time) bool {
	at, ok := s.Retained[node]
	if !ok {
		return false
	}
	lease := time.Duration(c.cfg.RetentionLeaseMs) * time.Millisecond
	if c.cfg.RetentionLeaseMs <= 0 {
		lease = 12 * time.Hour
	}
	return now.Sub(at) <= lease
}

// beginRecoveryLocked decides how the INITIALIZING copy cp recovers: kind is
// the reason it was started (relocation, replica, rebalance); an
// operation-based recovery when its node still holds the shard's files
// within the retention lease; nothing to copy before the table's data is loaded.
func (c *Cluster) beginRecoveryLocked(s *Shard, cp *Copy, kind string, now time.Time) {
	cp.Kind, cp.Need, cp.Done = kind, 0, 0
	switch {
	case !s.Loaded:
		cp.Kind = KindInitial
	case c.retainedLocked(s, cp.Node, now):
		cp.Kind = KindOps
	default:
		cp.Need = s.Bytes
	}
}

// sourceOf is the node a recovering copy reads from.
func sourceOf(s *Shard, cp *Copy) string {
	if cp.Target {
		return cp.RelocatingNode
	}
	if p := activePrimary(s); p != nil {
		return p.Node
	}
	return ""
}

// progressCopiesLocked moves file bytes of running recoveries for dt seconds:
// each node receives at most the rate, shared by its running file copies.
func (c *Cluster) progressCopiesLocked(dt float64) {
	type rec struct {
		s  *Shard
		cp *Copy
	}
	byNode := map[string][]rec{}
	for _, s := range c.shards {
		for _, cp := range s.Copies {
			if cp.State == Initializing && cp.Need > 0 && cp.Done < float64(cp.Need) {
				byNode[cp.Node] = append(byNode[cp.Node], rec{s, cp})
			}
		}
	}
	rate := c.rateLocked()
	for node, recs := range byNode {
		share := math.Inf(1)
		if c.maxBytesLocked() > 0 {
			share = rate * dt / float64(len(recs))
		}
		for _, r := range recs {
			b := math.Min(share, float64(r.cp.Need)-r.cp.Done)
			if b <= 0 {
				continue
			}
			r.cp.Done += b
			c.copied.bytes[r.cp.Kind] += b
			addTo(c.copied.received, node, r.cp.Kind, b)
			addTo(c.copied.sent, sourceOf(r.s, r.cp), r.cp.Kind, b)
		}
	}
}

// copyDone: a file copy has all its bytes.
func (cp *Copy) copyDone() bool { return cp.Need > 0 && cp.Done >= float64(cp.Need) }

// finishRecoveryLocked counts a finished recovery and forgets the node's old files.
func (c *Cluster) finishRecoveryLocked(s *Shard, cp *Copy) {
	switch cp.Kind {
	case KindOps:
		c.copied.recoveries[KindOps]++
		c.copied.ops[cp.Node]++
	case KindRelocation, KindReplica, KindRebalance, KindLocal:
		c.copied.recoveries[cp.Kind]++
	}
	delete(s.Retained, cp.Node)
	cp.Kind, cp.Need, cp.Done = "", 0, 0
}

// markLoadedLocked: shards whose copies are all started hold their data.
func (c *Cluster) markLoadedLocked() {
	for _, s := range c.shards {
		if s.Loaded || s.Lost {
			continue
		}
		all := len(s.Copies) > 0
		for _, cp := range s.Copies {
			if cp.State != Started {
				all = false
			}
		}
		s.Loaded = all
	}
}

// forgetStaleOnJoinLocked: a joining node deletes its files of shards that
// are fully allocated without it (CrateDB deletes a stale copy once every
// copy is active elsewhere), so a later move onto it copies files.
func (c *Cluster) forgetStaleOnJoinLocked(node string) {
	for _, s := range c.shards {
		if _, ok := s.Retained[node]; !ok {
			continue
		}
		all := true
		for _, cp := range s.Copies {
			if cp.State != Started {
				all = false
			}
		}
		if all {
			delete(s.Retained, node)
		}
	}
}

// CopiedStats renders the copy counters.
func (c *Cluster) CopiedStats() Copied {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := Copied{MaxBytesPerSec: c.maxBytesLocked(), CopyScale: c.cfg.CopyScale, Bytes: map[string]int64{}, Recoveries: map[string]int{},
		ByNode: map[string]*NodeCopied{}, InFlight: []InFlight{}, Since: c.copied.since}
	if out.CopyScale <= 0 {
		out.CopyScale = 1
	}
	if out.MaxBytesPerSec > 0 {
		out.RateBytesPerSec = c.rateLocked()
	}
	for _, k := range fileKinds {
		out.Bytes[k] = int64(math.Round(c.copied.bytes[k]))
		out.TotalBytes += out.Bytes[k]
		out.Recoveries[k] = c.copied.recoveries[k]
	}
	out.Recoveries[KindOps] = c.copied.recoveries[KindOps]
	out.Recoveries[KindLocal] = c.copied.recoveries[KindLocal]
	out.OperationBased = c.copied.recoveries[KindOps]
	name := func(id string) string {
		if n, ok := c.nodes[id]; ok {
			return n.Name
		}
		if n, ok := c.copied.names[id]; ok {
			return n
		}
		return id
	}
	node := func(id string) *NodeCopied {
		nm := name(id)
		if out.ByNode[nm] == nil {
			nc := &NodeCopied{Received: map[string]int64{}, Sent: map[string]int64{}}
			for _, k := range fileKinds {
				nc.Received[k], nc.Sent[k] = 0, 0
			}
			out.ByNode[nm] = nc
		}
		return out.ByNode[nm]
	}
	for id := range c.nodes {
		node(id)
	}
	for id, m := range c.copied.received {
		nc := node(id)
		for k, b := range m {
			nc.Received[k] = int64(math.Round(b))
			nc.ReceivedTotal += nc.Received[k]
		}
	}
	for id, m := range c.copied.sent {
		nc := node(id)
		for k, b := range m {
			nc.Sent[k] = int64(math.Round(b))
			nc.SentTotal += nc.Sent[k]
		}
	}
	for id, n := range c.copied.ops {
		node(id).OperationBased = n
	}
	for _, s := range c.shards {
		for _, cp := range s.Copies {
			if cp.State == Initializing && cp.Need > 0 {
				out.InFlight = append(out.InFlight, InFlight{Table: s.Schema + "." + s.Table, Partition: s.Partition, Shard: s.ID, Primary: cp.Primary,
					Kind: cp.Kind, From: name(sourceOf(s, cp)), To: name(cp.Node), Bytes: cp.Need, Done: int64(cp.Done)})
			}
		}
	}
	sort.Slice(out.InFlight, func(i, j int) bool {
		a, b := out.InFlight[i], out.InFlight[j]
		if a.Table != b.Table {
			return a.Table < b.Table
		}
		return a.Shard < b.Shard
	})
	return out
}

// ResetCopied zeroes the copy counters (running recoveries go on).
func (c *Cluster) ResetCopied() {
	c.mu.Lock()
	defer c.mu.Unlock()
	names := c.copied.names
	c.copied = newCopyStats(c.now())
	c.copied.names = names
}

// recoveryType is sys.shards' recovery['type'] of a copy.
func recoveryType(cp *Copy) any {
	switch {
	case cp.State != Initializing:
		return nil
	case cp.Kind == KindOps:
		return "PEER (operation-based)"
	case cp.Kind == KindLocal:
		return "EXISTING_STORE"
	case cp.Kind == KindInitial:
		return "EMPTY_STORE"
	}
	return "PEER"
}
