// Package sim holds the state of simulated CrateDB clusters: nodes, tables,
// shard placement, settings, the allocator, health, decommissions and the
// invariant recorder. It does no I/O; the server package drives it.
package sim

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Shard routing states, as in sys.shards.
const (
	Unassigned   = "UNASSIGNED"
	Initializing = "INITIALIZING"
	Started      = "STARTED"
	Relocating   = "RELOCATING"
)

// Config holds tunables and faults of one cluster (POST /clusters/<c>/config).
type Config struct {
	// RelocationShardsPerSecond bounds how many recoveries/relocations finish
	// per second in the whole cluster; <= 0 means instant.
	RelocationShardsPerSecond float64 `json:"relocationShardsPerSecond"`
	// ConcurrentRecoveries is the number of incoming and outgoing recoveries
	// per node (CrateDB's node_concurrent_recoveries, default 2).
	ConcurrentRecoveries int `json:"concurrentRecoveries"`
	// NodeLeftDelayMs delays re-allocating replicas of a node that left
	// anywhere but on that node (index.unassigned.node_left.delayed_timeout).
	NodeLeftDelayMs int `json:"nodeLeftDelayMs"`
	// ExitDelayMs is the pause between the first check that finds no active
	// request on a decommissioned node and its process exit (CrateDB: 5 s,
	// cratedb-facts.md section 7).
	ExitDelayMs int `json:"exitDelayMs"`
	// RequestCheckMs is how often a drained node checks for active requests
	// (CrateDB: every 5 s, cratedb-facts.md section 7).
	RequestCheckMs int `json:"requestCheckMs"`
	// LeakRetriedReads: each retried read decrements its coordinating node's
	// active-request counter once more than it was incremented, so a later
	// decommission of that node waits the whole graceful_stop.timeout
	// (CrateDB 6.4.3 and master; default true).
	LeakRetriedReads bool `json:"leakRetriedReads"`
	// ReadRetryWindowMs: a user-table read coordinated by a node within this
	// long after a node holding a copy of a shard it reads left is retried
	// (NodeNotConnectedException), as is one while a copy recovers
	// (ShardNotFoundException). 0 disables the window rule.
	ReadRetryWindowMs int `json:"readRetryWindowMs"`
	// DecommissionResponse: "immediate" (default), "after-wait" or "drop".
	DecommissionResponse string `json:"decommissionResponse"`
	// StrictSettings rejects unknown graceful_stop.min_availability values;
	// real CrateDB silently treats them as NONE (the default here).
	StrictSettings bool `json:"strictSettings"`
	// TrustNetwork trusts `crate` from any address (host-based auth that
	// trusts the network).
	TrustNetwork bool `json:"trustNetwork"`
	// LegacyForceFalseExits: CrateDB < 6.4.4 exits after a health timeout
	// even with force=false.
	LegacyForceFalseExits bool `json:"legacyForceFalseExits"`
	// DisableDollarQuoting: CrateDB < 5.2 has no $$dollar$$ quoting.
	DisableDollarQuoting bool `json:"disableDollarQuoting"`
	// DisableRebalance stops the balancer moving shards onto emptier nodes.
	DisableRebalance bool `json:"disableRebalance"`
	// Version of nodes that do not bring their own (CRATE_SIM_VERSION).
	// Behaviour follows it: < 5.2 no $$dollar$$ quoting, < 6.0 no
	// sys.cluster_health, < 6.4.4 force=false still exits on a timeout.
	Version string `json:"version"`
	// Jobs are extra statements shown as running in sys.jobs (e.g. a
	// CREATE SNAPSHOT).
	Jobs []string `json:"jobs"`
	// StartDelayMs delays every join: a starting node binds its port and
	// joins only after it (real CrateDB needs 10-30 s to start).
	StartDelayMs int `json:"startDelayMs"`
	// PrematureGreenMs: for this long after any node joins, sys.health and
	// sys.cluster_health report GREEN whatever the placement (the premature
	// GREEN reading that crate-operator guards against).
	PrematureGreenMs int `json:"prematureGreenMs"`
	// SQLErrorPercent makes that share of statements fail with a transient
	// "node not connected" error (503/5032).
	SQLErrorPercent float64 `json:"sqlErrorPercent"`
	// SQLDelayMs delays every SQL answer.
	SQLDelayMs int `json:"sqlDelayMs"`
	// Users besides `crate`.
	Users []User `json:"users"`
	// CopyScale multiplies indices.recovery.max_bytes_per_sec (sim only), so
	// a test or benchmark can copy 200 GB in seconds; 1 = real time.
	CopyScale float64 `json:"copyScale"`
	// RetentionLeaseMs: a returning node's copy recovers operation-based (0
	// file bytes) when it left at most this long ago (CrateDB's
	// soft_deletes.retention_lease.period, 12 h; cratedb-facts.md section 7).
	RetentionLeaseMs int64 `json:"retentionLeaseMs"`
}

// User is a database user.
type User struct {
	Name      string `json:"name"`
	Password  string `json:"password"`
	Superuser bool   `json:"superuser"`
}

// DefaultConfig is the configuration of a new or reset cluster.
func DefaultConfig() Config {
	return Config{
		RelocationShardsPerSecond: 20,
		ConcurrentRecoveries:      2,
		NodeLeftDelayMs:           60000,
		ExitDelayMs:               5000,
		RequestCheckMs:            5000,
		LeakRetriedReads:          true,
		ReadRetryWindowMs:         3000,
		DecommissionResponse:      "immediate",
		Version:                   "6.4.4",
		CopyScale:                 1,
		RetentionLeaseMs:          int64(12 * time.Hour / time.Millisecond),
	}
}

// Copy is one copy of a shard (primary or replica). A relocation adds a
// second copy on the target (Target=true, INITIALIZING) while the source is
// RELOCATING.
type Copy struct {
	Primary        bool      `json:"primary"`
	Node           string    `json:"node,omitempty"` // node id; "" when unassigned
	State          string    `json:"state"`
	RelocatingNode string    `json:"relocatingNode,omitempty"`
	Target         bool      `json:"relocationTarget,omitempty"`
	LastNode       string    `json:"lastNode,omitempty"`
	UnassignedAt   time.Time `json:"-"`
	RecoveryStart  time.Time `json:"-"`
	// Kind of the running recovery (volume.go), Need its file bytes, Done copied so far.
	Kind string  `json:"recovery,omitempty"`
	Need int64   `json:"recoveryBytes,omitempty"`
	Done float64 `json:"recoveredBytes,omitempty"`
}

// Shard is one shard of a table or partition.
type Shard struct {
	Schema      string          `json:"schema"`
	Table       string          `json:"table"`
	Partition   string          `json:"partition,omitempty"`
	ID          int             `json:"id"`
	Copies      []*Copy         `json:"copies"`
	EverStarted bool            `json:"everStarted"`
	InSync      map[string]bool `json:"inSync"`
	Lost        bool            `json:"lost,omitempty"` // made RED on purpose
	// Data: node id -> _id -> row, the rows each node holds (data.go)
	Data map[string]map[string]map[string]any `json:"-"`
	// Bytes in each copy (volume.go); Loaded once every copy first started.
	Bytes  int64 `json:"bytes"`
	Loaded bool  `json:"loaded"`
	// Retained: node id -> when that node's copy stopped being active (it
	// left); its files stay on disk for an operation-based recovery.
	Retained map[string]time.Time `json:"retained,omitempty"`
}

func (s *Shard) key() string {
	k := s.Schema + "." + s.Table
	if s.Partition != "" {
		k += "[" + s.Partition + "]"
	}
	return fmt.Sprintf("%s#%d", k, s.ID)
}

// Table is a table; each partition has its own shards.
type Table struct {
	Schema     string   `json:"schema"`
	Name       string   `json:"name"`
	Shards     int      `json:"shards"`
	Replicas   int      `json:"replicas"`
	Partitions []string `json:"partitions,omitempty"`
	// ShardBytes: the size of every copy of each shard (0: no data volume).
	ShardBytes int64 `json:"shardBytes,omitempty"`
	// cols: every column ever written (the simulator keeps no schema; CrateDB's dynamic column policy adds a
	// column at its first write), so a read's column check does not scan the rows.
	cols map[string]bool
}

// Decom is the decommission state of a node.
type Decom struct {
	MinAvailability string    `json:"minAvailability"`
	Timeout         string    `json:"timeout"`
	Force           bool      `json:"force"`
	Started         time.Time `json:"started"`
	// Phase: draining (shards move), requests (waiting for active requests,
	// checked every RequestCheckMs), exiting (exit at ExitAt), aborted, exited.
	Phase  string    `json:"phase"`
	ExitAt time.Time `json:"exitAt,omitempty"`
	// DrainedAt: the shard-move wait ended (the statement returns then).
	DrainedAt time.Time `json:"drainedAt,omitempty"`
	// Checks made for active requests, and the counter at the last one.
	Checks     int       `json:"checks"`
	LastActive int       `json:"lastActive"`
	NextCheck  time.Time `json:"nextCheck,omitempty"`
	ownJob     bool      // the first check still sees the DECOMMISSION's own job
	deadline   time.Time
	done       chan struct{} // closed when the drain wait ends (or the decommission aborts)
	doneClosed bool
	result     error
}

// finish ends the wait the statement answers after (once).
func (d *Decom) finish(err error) {
	if d.doneClosed {
		return
	}
	d.result = err
	d.doneClosed = true
	close(d.done)
}

// NodeEvent is sent to a node process over its registration stream.
type NodeEvent struct {
	Event string `json:"event"` // "exit"
	Code  int    `json:"code"`
	Why   string `json:"why,omitempty"`
}

// Node is a member of the cluster.
type Node struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Hostname   string            `json:"hostname"`
	RestURL    string            `json:"rest_url"`
	Attributes map[string]string `json:"attributes"`
	JoinedAt   time.Time         `json:"joinedAt"`
	BootID     string            `json:"bootId"`
	Version    string            `json:"version,omitempty"`
	Master     bool              `json:"masterEligible"`
	Data       bool              `json:"data"`
	Decom      *Decom            `json:"decommission,omitempty"`
	// Leaked counts the decrements retried reads (or the control API) made
	// without an increment; ActiveRequests is the counter (snapshot only).
	Leaked         int `json:"leaked"`
	Retried        int `json:"retriedReads"`
	ActiveRequests int `json:"activeRequests"`
	seq            int
	Events         chan NodeEvent `json:"-"`
	gone           chan struct{}  // closed when the coordinator drops the node (cluster deleted)
}

// Gone is closed when the coordinator disconnects the node on its own (its
// cluster was deleted with force): the join stream must end.
func (n *Node) Gone() <-chan struct{} { return n.gone }

// Violation is one interval during which a primary was unavailable.
type Violation struct {
	Table       string     `json:"table"`
	Partition   string     `json:"partition,omitempty"`
	Shard       int        `json:"shard"`
	Start       time.Time  `json:"start"`
	End         *time.Time `json:"end,omitempty"`
	Cause       string     `json:"cause"`
	Intentional bool       `json:"intentional,omitempty"`
}

// Event is a line of the cluster's history (joins, leaves, decommissions).
type Event struct {
	Time time.Time `json:"time"`
	What string    `json:"what"`
}

// Cluster is one simulated CrateDB cluster.
type Cluster struct {
	mu         sync.Mutex
	Name       string
	cfg        Config
	nodes      map[string]*Node // by id
	seq        int
	tables     map[string]*Table // by schema.name
	shards     []*Shard
	transient  map[string]any
	persistent map[string]any
	master     string
	tokens     float64
	lastStep   time.Time
	lastJoin   time.Time
	voting     map[string]bool // names of master-eligible nodes ever joined
	jobs       map[string]*Job // running statements (jobs.go)
	deleted    bool            // removed from the registry: joins are refused
	copied     copyStats       // bytes copied by recoveries (volume.go)

	violations []*Violation
	open       map[string]*Violation // shard key -> open violation
	warnings   []Event
	history    []Event
	now        func() time.Time
}

// NewCluster creates an empty cluster.
func NewCluster(name string, now func() time.Time) *Cluster {
	if now == nil {
		now = time.Now
	}
	c := &Cluster{Name: name, now: now}
	c.resetLocked()
	c.nodes = map[string]*Node{}
	c.voting = map[string]bool{}
	return c
}

func (c *Cluster) resetLocked() {
	c.cfg = DefaultConfig()
	c.tables = map[string]*Table{}
	c.shards = nil
	c.transient = map[string]any{}
	c.persistent = map[string]any{}
	c.violations = nil
	c.open = map[string]*Violation{}
	c.warnings = nil
	c.history = nil
	c.jobs = map[string]*Job{}
	c.copied = newCopyStats(c.now())
	for _, n := range c.nodes {
		if n.Decom != nil {
			n.Decom.finish(fmt.Errorf("cluster reset"))
		}
		n.Decom = nil
		n.Leaked, n.Retried = 0, 0
	}
}

// Reset clears tables, settings, config and the recorded invariants; nodes stay.
func (c *Cluster) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resetLocked()
}

// Lock exposes the cluster mutex to the server for compound operations.
func (c *Cluster) Lock()   { c.mu.Lock() }
func (c *Cluster) Unlock() { c.mu.Unlock() }

// Config returns a copy of the configuration.
func (c *Cluster) Config() Config {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cfg
}

// UpdateConfig lets fn change the configuration.
func (c *Cluster) UpdateConfig(fn func(*Config)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn(&c.cfg)
}

// NodeID derives a stable CrateDB-like node id from cluster and node name,
// so that a restarted node keeps its id (as with its data directory).
func NodeID(cluster, name string) string {
	h := sha256.Sum256([]byte(cluster + "/" + name))
	return base64.RawURLEncoding.EncodeToString(h[:])[:22]
}

// ClusterID derives a stable UUID-looking cluster id.
func ClusterID(cluster string) string {
	h := sha256.Sum256([]byte("cluster/" + cluster))
	x := fmt.Sprintf("%x", h[:16])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// JoinRequest describes a node that joins.
type JoinRequest struct {
	Name       string            `json:"name"`
	Hostname   string            `json:"hostname"`
	RestURL    string            `json:"restUrl"`
	Attributes map[string]string `json:"attributes"`
	BootID     string            `json:"bootId"`
	// Version of this node's CrateDB ("" = the cluster's configured one).
	Version string `json:"version,omitempty"`
	// NoMaster / NoData: -Cnode.master=false / -Cnode.data=false
	NoMaster bool `json:"noMaster,omitempty"`
	NoData   bool `json:"noData,omitempty"`
}

// ErrDuplicateNode is returned when a node with the same name is still a member.
var ErrDuplicateNode = fmt.Errorf("a node with this name is already a member")

// ErrClusterDeleted is returned by Join on a cluster removed from the
// registry while the join waited (the node retries and gets a fresh cluster).
var ErrClusterDeleted = fmt.Errorf("the cluster was deleted")

// Join adds a node. It runs the allocator so the node recovers its shards.
func (c *Cluster) Join(r JoinRequest) (*Node, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.deleted {
		return nil, ErrClusterDeleted
	}
	id := NodeID(c.Name, r.Name)
	if _, ok := c.nodes[id]; ok {
		return nil, ErrDuplicateNode
	}
	c.seq++
	n := &Node{ID: id, Name: r.Name, Hostname: r.Hostname, RestURL: r.RestURL, Attributes: r.Attributes,
		JoinedAt: c.now(), BootID: r.BootID, seq: c.seq, Events: make(chan NodeEvent, 4), gone: make(chan struct{}), Master: !r.NoMaster, Data: !r.NoData, Version: r.Version}
	if n.Attributes == nil {
		n.Attributes = map[string]string{}
	}
	c.nodes[id] = n
	if n.Master {
		c.voting[n.Name] = true
	}
	c.lastJoin = c.now()
	c.copied.names[id] = n.Name
	c.forgetStaleOnJoinLocked(id)
	c.electLocked()
	c.logLocked("node %s (%s) joined", n.Name, n.ID)
	c.stepLocked(c.now())
	return n, nil
}

func (c *Cluster) logLocked(format string, a ...any) {
	c.history = append(c.history, Event{Time: c.now(), What: fmt.Sprintf(format, a...)})
	if len(c.history) > 2000 {
		c.history = c.history[len(c.history)-1000:]
	}
}

// electLocked keeps the master while it is a member, else elects the
// master-eligible node that joined first. With 3 or more master-eligible
// nodes ever seen, a majority of them must be present (else no master: the
// cluster refuses SQL).
func (c *Cluster) electLocked() {
	present := 0
	for _, n := range c.nodes {
		if n.Master {
			present++
		}
	}
	quorum := len(c.voting) < 3 || present*2 > len(c.voting)
	if _, ok := c.nodes[c.master]; ok && quorum {
		return
	}
	old := c.master
	c.master = ""
	if quorum {
		best := 0
		for id, n := range c.nodes {
			if n.Master && (c.master == "" || n.seq < best) {
				c.master, best = id, n.seq
			}
		}
	}
	switch {
	case c.master != "":
		c.logLocked("node %s elected master", c.nodes[c.master].Name)
	case old != "" || len(c.nodes) > 0:
		c.logLocked("no master: %d of %d master-eligible nodes present", present, len(c.voting))
	}
}

// Leave removes a node: its copies become unassigned, a started replica is
// promoted where a primary was lost. cause is recorded with any violation.
func (c *Cluster) Leave(id, cause string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.leaveLocked(id, cause)
}

func (c *Cluster) leaveLocked(id, cause string) {
	n, ok := c.nodes[id]
	if !ok {
		return
	}
	now := c.now()
	why := fmt.Sprintf("node %s (%s) left: %s", n.Name, id, cause)
	c.logLocked("%s", why)
	if n.Decom != nil && (n.Decom.Phase == "draining" || n.Decom.Phase == "requests") {
		if n.Decom.Phase == "draining" {
			n.Decom.Phase = "aborted"
		}
		n.Decom.finish(fmt.Errorf("node left during decommission"))
	}
	delete(c.nodes, id)
	c.jobsOnLeaveLocked(n)
	for _, s := range c.shards {
		var keep []*Copy
		for _, cp := range s.Copies {
			switch {
			case cp.Target && (cp.Node == id || cp.RelocatingNode == id):
				// a relocation to or from the node that left is cancelled
				if cp.Node == id {
					for _, src := range s.Copies {
						if src.State == Relocating && src.RelocatingNode == id {
							src.State, src.RelocatingNode = Started, ""
						}
					}
				}
			case cp.Node == id:
				if cp.State == Started || cp.State == Relocating {
					if s.Retained == nil {
						s.Retained = map[string]time.Time{}
					}
					s.Retained[id] = now // its files stay in the node's data directory
				}
				keep = append(keep, &Copy{Primary: cp.Primary, State: Unassigned, LastNode: id, UnassignedAt: now})
			default:
				keep = append(keep, cp)
			}
		}
		s.Copies = keep
		c.promoteLocked(s, id)
	}
	c.electLocked()
	c.recordLocked(why)
	c.stepLocked(now)
}

// promoteLocked promotes a started replica when the primary is unassigned.
func (c *Cluster) promoteLocked(s *Shard, leftNode string) {
	var prim *Copy
	for _, cp := range s.Copies {
		if cp.Primary && !cp.Target {
			prim = cp
		}
	}
	if prim == nil || prim.State != Unassigned {
		return
	}
	for _, cp := range s.Copies {
		if !cp.Primary && !cp.Target && (cp.State == Started || cp.State == Relocating) {
			cp.Primary = true
			prim.Primary = false
			// a relocating replica carries its target along
			for _, t := range s.Copies {
				if t.Target && t.RelocatingNode == cp.Node {
					t.Primary = true
				}
			}
			// the in-sync set is now the active copies only
			s.InSync = map[string]bool{}
			for _, a := range s.Copies {
				if !a.Target && (a.State == Started || a.State == Relocating) {
					s.InSync[a.Node] = true
				}
			}
			return
		}
	}
}

// primaryActive reports whether the shard's primary is STARTED or RELOCATING.
func primaryActive(s *Shard) bool {
	if s.Lost {
		return false
	}
	for _, cp := range s.Copies {
		if cp.Primary && !cp.Target && (cp.State == Started || cp.State == Relocating) {
			return true
		}
	}
	return false
}

// recordLocked opens and closes violation intervals: a primary that was once
// started and is now not active is a violation.
func (c *Cluster) recordLocked(cause string) {
	now := c.now()
	seen := map[string]bool{}
	for _, s := range c.shards {
		if !s.EverStarted && !s.Lost {
			continue
		}
		k := s.key()
		if primaryActive(s) {
			continue
		}
		seen[k] = true
		if _, ok := c.open[k]; ok {
			continue
		}
		v := &Violation{Table: s.Schema + "." + s.Table, Partition: s.Partition, Shard: s.ID, Start: now, Cause: cause, Intentional: s.Lost}
		c.violations = append(c.violations, v)
		c.open[k] = v
	}
	for k, v := range c.open {
		if !seen[k] {
			t := now
			v.End = &t
			delete(c.open, k)
		}
	}
}

// CreateTable adds a table (and its partitions) and allocates its shards.
func (c *Cluster) CreateTable(t Table) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.Schema == "" {
		t.Schema = "doc"
	}
	if t.Name == "" || t.Shards <= 0 || t.Replicas < 0 || t.ShardBytes < 0 {
		return fmt.Errorf("table needs a name, shards > 0 and replicas >= 0")
	}
	k := t.Schema + "." + t.Name
	if _, ok := c.tables[k]; ok {
		return fmt.Errorf("RelationAlreadyExists: Relation '%s' already exists.", k)
	}
	tt := t
	c.tables[k] = &tt
	parts := t.Partitions
	if len(parts) == 0 {
		parts = []string{""}
	}
	for _, p := range parts {
		for i := 0; i < t.Shards; i++ {
			s := &Shard{Schema: t.Schema, Table: t.Name, Partition: p, ID: i, InSync: map[string]bool{}, Bytes: t.ShardBytes, Retained: map[string]time.Time{}}
			s.Copies = append(s.Copies, &Copy{Primary: true, State: Unassigned, UnassignedAt: c.now()})
			for r := 0; r < t.Replicas; r++ {
				s.Copies = append(s.Copies, &Copy{State: Unassigned, UnassignedAt: c.now()})
			}
			c.shards = append(c.shards, s)
		}
	}
	c.logLocked("table %s created (%d shards, %d replicas, %d partitions)", k, t.Shards, t.Replicas, len(t.Partitions))
	c.stepLocked(c.now())
	return nil
}

// LosePrimary makes a shard (or every shard when shard < 0) of a table RED on
// purpose: all its copies become unassigned and stay so until Restore.
func (c *Cluster) LosePrimary(table string, shard int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	table = qualify(table)
	found := false
	for _, s := range c.shards {
		if s.Schema+"."+s.Table != table || (shard >= 0 && s.ID != shard) {
			continue
		}
		found = true
		s.Lost = true
		s.EverStarted = true
		var keep []*Copy
		for _, cp := range s.Copies {
			if cp.Target {
				continue
			}
			if cp.Node != "" {
				s.InSync[cp.Node] = true
			}
			keep = append(keep, &Copy{Primary: cp.Primary, State: Unassigned, LastNode: cp.Node, UnassignedAt: c.now()})
		}
		s.Copies = keep
	}
	if !found {
		return fmt.Errorf("no such table or shard: %s #%d", table, shard)
	}
	c.recordLocked("lose-primary requested through the control API")
	return nil
}

// Restore lets shards made RED with LosePrimary recover.
func (c *Cluster) Restore(table string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	table = qualify(table)
	for _, s := range c.shards {
		if s.Schema+"."+s.Table == table {
			s.Lost = false
		}
	}
	c.stepLocked(c.now())
	return nil
}

func qualify(t string) string {
	if !strings.Contains(t, ".") {
		return "doc." + t
	}
	return t
}

// Step runs one allocator tick at time now.
func (c *Cluster) Step(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stepLocked(now)
}

func (c *Cluster) incoming(node string) int {
	n := 0
	for _, s := range c.shards {
		for _, cp := range s.Copies {
			if cp.Node == node && cp.State == Initializing && !cp.RecoveryStart.IsZero() {
				n++
			}
		}
	}
	return n
}

func (c *Cluster) outgoing(node string) int {
	n := 0
	for _, s := range c.shards {
		for _, cp := range s.Copies {
			if cp.Node == node && cp.State == Relocating {
				n++
			}
		}
	}
	return n
}

func (c *Cluster) load() map[string]int {
	l := map[string]int{}
	for id := range c.nodes {
		l[id] = 0
	}
	for _, s := range c.shards {
		for _, cp := range s.Copies {
			if cp.Node != "" {
				l[cp.Node]++
			}
		}
	}
	return l
}

func hasCopyOn(s *Shard, node string) bool {
	for _, cp := range s.Copies {
		if cp.Node == node {
			return true
		}
	}
	return false
}

// eligibleTargets returns nodes that may receive a copy of s, least loaded
// first: present, not decommissioning, no copy of s, below the recovery limit.
func (c *Cluster) eligibleTargets(s *Shard, load map[string]int) []string {
	return c.targets(s, load, false)
}

// targets lists eligible nodes; noLimit skips the recovery limit (a new,
// empty primary copies no data).
func (c *Cluster) targets(s *Shard, load map[string]int, noLimit bool) []string {
	var out []string
	limit := c.cfg.ConcurrentRecoveries
	if limit <= 0 {
		limit = 2
	}
	for id, n := range c.nodes {
		if (n.Decom != nil && n.Decom.Phase != "aborted") || !n.Data {
			continue
		}
		if hasCopyOn(s, id) || (!noLimit && c.incoming(id) >= limit) {
			continue
		}
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool {
		if load[out[i]] != load[out[j]] {
			return load[out[i]] < load[out[j]]
		}
		return c.nodes[out[i]].Name < c.nodes[out[j]].Name
	})
	return out
}

// AllocationEnable returns the effective cluster.routing.allocation.enable.
func (c *Cluster) allocationEnable() string {
	if v, ok := c.effectiveLocked(SettingAllocationEnable); ok {
		return strings.ToLower(fmt.Sprint(v))
	}
	return "all"
}

func (c *Cluster) stepLocked(now time.Time) {
	if c.lastStep.IsZero() {
		c.lastStep = now
	}
	dt := now.Sub(c.lastStep).Seconds()
	if dt < 0 {
		dt = 0
	}
	c.lastStep = now
	c.progressCopiesLocked(dt)
	rate := c.cfg.RelocationShardsPerSecond
	instant := rate <= 0
	if !instant {
		c.tokens += rate * dt
		// a small bucket: the rate holds even after an idle period
		max := rate * 0.25
		if max < 1 {
			max = 1
		}
		if c.tokens > max {
			c.tokens = max
		}
	}
	c.completeRecoveriesLocked(instant)
	enable := c.allocationEnable()
	load := c.load()
	limit := c.cfg.ConcurrentRecoveries
	if limit <= 0 {
		limit = 2
	}
	// 1. allocate unassigned copies
	for _, s := range c.shards {
		if s.Lost {
			continue
		}
		for _, cp := range s.Copies {
			if cp.State != Unassigned {
				continue
			}
			if cp.Primary {
				if !(enable == "all" || enable == "primaries" || (enable == "new_primaries" && !s.EverStarted)) {
					continue
				}
				var target string
				if !s.EverStarted {
					if t := c.targets(s, load, true); len(t) > 0 {
						target = t[0]
					}
				} else {
					// a primary with no active copy recovers only on a node holding its data
					for _, t := range c.eligibleTargets(s, load) {
						if s.InSync[t] {
							target = t
							break
						}
					}
				}
				if target == "" {
					continue
				}
				cp.Node, cp.State, cp.RecoveryStart = target, Initializing, now
				cp.Kind, cp.Need, cp.Done = KindLocal, 0, 0 // from its own files
				if !s.EverStarted {
					cp.State = Started // an empty new primary starts at once
					s.EverStarted = true
					s.InSync[target] = true
				}
				load[target]++
				continue
			}
			if enable != "all" || !primaryActive(s) {
				continue
			}
			targets := c.eligibleTargets(s, load)
			target := ""
			for _, t := range targets {
				if t == cp.LastNode {
					target = t
				}
			}
			delay := time.Duration(c.cfg.NodeLeftDelayMs) * time.Millisecond
			if target == "" && len(targets) > 0 && (cp.LastNode == "" || now.Sub(cp.UnassignedAt) >= delay) {
				target = targets[0]
			}
			if target == "" {
				continue
			}
			cp.Node, cp.State, cp.RecoveryStart = target, Initializing, now
			c.beginRecoveryLocked(s, cp, KindReplica, now)
			load[target]++
		}
	}
	// 2. move shards off decommissioning nodes
	for id, n := range c.nodes {
		if n.Decom == nil || n.Decom.Phase != "draining" {
			continue
		}
		mode := strings.ToUpper(n.Decom.MinAvailability)
		if mode != "FULL" && mode != "PRIMARIES" {
			continue
		}
		for _, s := range c.shards {
			for _, cp := range s.Copies {
				if cp.Node != id || cp.State != Started || cp.Target {
					continue
				}
				if mode == "PRIMARIES" && !cp.Primary {
					continue
				}
				if !moveAllowed(enable, cp, s) || c.outgoing(id) >= limit {
					continue
				}
				c.startRelocationLocked(s, cp, load, now)
			}
		}
	}
	// 3. rebalance onto emptier nodes
	if !c.cfg.DisableRebalance && enable == "all" && c.quietLocked() && len(c.nodes) > 1 {
		c.rebalanceLocked(load, now)
	}
	if instant {
		c.completeRecoveriesLocked(true)
	}
	c.markLoadedLocked()
	c.recordLocked("allocator")
	c.expireHeldLocked(now)
	c.decommissionProgressLocked(now)
}

func moveAllowed(enable string, cp *Copy, s *Shard) bool {
	switch enable {
	case "all":
		return true
	case "primaries":
		return cp.Primary
	case "new_primaries":
		return cp.Primary && !s.EverStarted
	}
	return false
}

func (c *Cluster) startRelocationLocked(s *Shard, cp *Copy, load map[string]int, now time.Time) bool {
	t := c.eligibleTargets(s, load)
	if len(t) == 0 {
		return false
	}
	cp.State, cp.RelocatingNode = Relocating, t[0]
	tc := &Copy{Primary: cp.Primary, Node: t[0], State: Initializing, RelocatingNode: cp.Node, Target: true, RecoveryStart: now}
	c.beginRecoveryLocked(s, tc, KindRelocation, now)
	s.Copies = append(s.Copies, tc)
	load[t[0]]++
	return true
}

// quietLocked: nothing unassigned, initializing or relocating.
func (c *Cluster) quietLocked() bool {
	for _, s := range c.shards {
		if s.Lost {
			return false
		}
		for _, cp := range s.Copies {
			if cp.State != Started {
				return false
			}
		}
	}
	return true
}

func (c *Cluster) rebalanceLocked(load map[string]int, now time.Time) {
	var ids []string
	for id, n := range c.nodes {
		if (n.Decom == nil || n.Decom.Phase == "aborted") && n.Data {
			ids = append(ids, id)
		}
	}
	if len(ids) < 2 {
		return
	}
	sort.Slice(ids, func(i, j int) bool {
		if load[ids[i]] != load[ids[j]] {
			return load[ids[i]] > load[ids[j]]
		}
		return c.nodes[ids[i]].Name < c.nodes[ids[j]].Name
	})
	from, to := ids[0], ids[len(ids)-1]
	if load[from]-load[to] <= 1 {
		return
	}
	for _, s := range c.shards {
		if hasCopyOn(s, to) {
			continue
		}
		for _, cp := range s.Copies {
			if cp.Node == from && cp.State == Started {
				cp.State, cp.RelocatingNode = Relocating, to
				tc := &Copy{Primary: cp.Primary, Node: to, State: Initializing, RelocatingNode: from, Target: true, RecoveryStart: now}
				c.beginRecoveryLocked(s, tc, KindRebalance, now)
				s.Copies = append(s.Copies, tc)
				return
			}
		}
	}
}

func (c *Cluster) completeRecoveriesLocked(instant bool) {
	type rec struct {
		s  *Shard
		cp *Copy
	}
	var inflight []rec
	for _, s := range c.shards {
		for _, cp := range s.Copies {
			if cp.State == Initializing {
				inflight = append(inflight, rec{s, cp})
			}
		}
	}
	sort.SliceStable(inflight, func(i, j int) bool { return inflight[i].cp.RecoveryStart.Before(inflight[j].cp.RecoveryStart) })
	for _, r := range inflight {
		if r.cp.Need > 0 {
			// a file copy finishes when its bytes arrived (progressCopiesLocked)
			if !r.cp.copyDone() {
				continue
			}
		} else if !instant {
			if c.tokens < 1 {
				continue
			}
			c.tokens--
		}
		s, cp := r.s, r.cp
		from := ""
		if p := activePrimary(s); p != nil {
			from = p.Node
		}
		if cp.Target {
			src := cp.RelocatingNode
			from = src // a relocation copies its source
			var keep []*Copy
			for _, o := range s.Copies {
				if o.Node == src && o.State == Relocating && !o.Target {
					continue
				}
				keep = append(keep, o)
			}
			s.Copies = keep
			delete(s.InSync, src)
			cp.Target, cp.RelocatingNode = false, ""
		}
		recoverDataLocked(s, cp, from)
		c.finishRecoveryLocked(s, cp)
		cp.State = Started
		s.EverStarted = true
		s.InSync[cp.Node] = true
	}
}

// nodeVersion is the CrateDB version a node runs.
func (c *Cluster) nodeVersion(n *Node) string {
	if n != nil && n.Version != "" {
		return n.Version
	}
	return c.cfg.Version
}

// VersionBefore reports whether version v is older than w (numeric parts;
// anything unparsable counts as new).
func VersionBefore(v, w string) bool {
	parse := func(s string) []int {
		s = strings.TrimPrefix(s, "v")
		if i := strings.IndexAny(s, "-+ "); i >= 0 {
			s = s[:i]
		}
		var out []int
		for _, p := range strings.Split(s, ".") {
			n := 0
			for _, ch := range p {
				if ch < '0' || ch > '9' {
					return nil
				}
				n = n*10 + int(ch-'0')
			}
			out = append(out, n)
		}
		return out
	}
	a, b := parse(v), parse(w)
	if a == nil || b == nil {
		return false
	}
	for i := 0; i < len(a) || i < len(b); i++ {
		x, y := 0, 0
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return x < y
		}
	}
	return false
}
