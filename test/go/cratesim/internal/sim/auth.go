package sim

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// AuthError is a failed login: HTTP 401, plain text, WWW-Authenticate: Basic.
type AuthError struct{ Message string }

func (e *AuthError) Error() string { return e.Message }

// HBAEntry is one auth.host_based.config.<n> entry.
type HBAEntry struct {
	User     string `json:"user,omitempty"`
	Address  string `json:"address,omitempty"` // _local_, an IP or a CIDR; empty = any
	Method   string `json:"method,omitempty"`  // trust (default), password, jwt
	Protocol string `json:"protocol,omitempty"`
	SSL      string `json:"ssl,omitempty"` // on, off, optional
}

// DefaultHBA is crate-operator's host-based configuration: `crate` trusted
// from _local_, everyone else by password.
var DefaultHBA = []HBAEntry{{User: "crate", Address: "_local_", Method: "trust"}, {Method: "password"}}

// AuthRequest describes who knocks.
type AuthRequest struct {
	Local         bool   // from the node's own loopback
	Remote        string // remote IP
	Authorization string // the Authorization header
	TLS           bool
	HBADisabled   bool
	HBA           []HBAEntry // nil: DefaultHBA
}

func (e HBAEntry) matches(user string, r AuthRequest) bool {
	if e.User != "" && e.User != user {
		return false
	}
	if e.Protocol != "" && !strings.EqualFold(e.Protocol, "http") {
		return false
	}
	switch strings.ToLower(e.SSL) {
	case "on":
		if !r.TLS {
			return false
		}
	case "off":
		if r.TLS {
			return false
		}
	}
	switch {
	case e.Address == "":
		return true
	case e.Address == "_local_":
		return r.Local
	case strings.Contains(e.Address, "/"):
		_, n, err := net.ParseCIDR(e.Address)
		ip := net.ParseIP(r.Remote)
		return err == nil && ip != nil && n.Contains(ip)
	}
	a, ip := net.ParseIP(e.Address), net.ParseIP(r.Remote)
	return a != nil && ip != nil && a.Equal(ip)
}

// Authenticate applies host-based authentication like CrateDB: the first
// entry matching user, address, protocol and ssl decides the method. With
// crate-operator's entries `crate` is trusted only from the node's own
// loopback, every other user needs Basic auth with the right password.
// Config.TrustNetwork trusts `crate` from anywhere.
func (c *Cluster) Authenticate(r AuthRequest) (User, *AuthError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	user, pass, hasBasic, bearer := "crate", "", false, false
	h := r.Authorization
	switch {
	case h == "":
	case strings.HasPrefix(strings.ToLower(h), "basic "):
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h[6:]))
		if err != nil {
			return User{}, &AuthError{"Invalid Authorization header"}
		}
		u, p, _ := strings.Cut(string(raw), ":")
		if u != "" {
			user = u
		}
		pass, hasBasic = p, true
	case strings.HasPrefix(strings.ToLower(h), "bearer "):
		bearer = true
	default:
		return User{}, &AuthError{"Unsupported authentication scheme"}
	}
	known := func(name string) (User, bool) {
		if name == "crate" {
			return User{Name: "crate", Superuser: true}, true
		}
		for _, u := range c.cfg.Users {
			if u.Name == name {
				return u, true
			}
		}
		return User{}, false
	}
	if r.HBADisabled || (user == "crate" && c.cfg.TrustNetwork) {
		if u, ok := known(user); ok && !bearer {
			return u, nil
		}
		return User{}, &AuthError{fmt.Sprintf("trust authentication failed for user \"%s\"", user)}
	}
	entries := r.HBA
	if entries == nil {
		entries = DefaultHBA
	}
	for _, e := range entries {
		if !e.matches(user, r) {
			continue
		}
		m := strings.ToLower(e.Method)
		if m == "jwt" && !bearer {
			continue // a JWT entry only takes requests that carry a token
		}
		switch m {
		case "", "trust":
			if u, ok := known(user); ok && !bearer {
				return u, nil
			}
			return User{}, &AuthError{fmt.Sprintf("trust authentication failed for user \"%s\"", user)}
		case "password":
			if u, ok := known(user); ok && hasBasic && u.Name != "crate" && u.Password == pass {
				return u, nil
			}
			return User{}, &AuthError{fmt.Sprintf("password authentication failed for user \"%s\"", user)}
		default:
			return User{}, &AuthError{fmt.Sprintf("%s authentication failed for user \"%s\" (not simulated)", m, user)}
		}
	}
	return User{}, &AuthError{fmt.Sprintf("No valid auth.host_based entry found for host \"%s\", user \"%s\". Did you enable TLS in your client?", r.Remote, user)}
}

// Registry holds every simulated cluster by cluster.name.
type Registry struct {
	mu       sync.Mutex
	clusters map[string]*Cluster
	now      func() time.Time
}

// NewRegistry makes an empty registry.
func NewRegistry(now func() time.Time) *Registry {
	return &Registry{clusters: map[string]*Cluster{}, now: now}
}

// Get returns (creating when absent) the cluster with that name.
func (r *Registry) Get(name string) *Cluster {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.clusters[name]
	if !ok {
		c = NewCluster(name, r.now)
		r.clusters[name] = c
	}
	return c
}

// Lookup returns the cluster with that name, nil when absent (never creates one).
func (r *Registry) Lookup(name string) *Cluster {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.clusters[name]
}

// ErrNoCluster: Delete of a name the registry does not hold.
var ErrNoCluster = errors.New("no such cluster")

// BusyError: Delete without force while nodes are joined.
type BusyError struct{ Nodes []string }

func (e *BusyError) Error() string {
	return fmt.Sprintf("%d node(s) joined (%s): stop them first, or delete with force=true to disconnect them", len(e.Nodes), strings.Join(e.Nodes, ", "))
}

// Delete removes a cluster with its state and history. While nodes are joined
// it refuses with a *BusyError unless force is set; then each node leaves
// (cause "cluster deleted") and its Gone channel closes, so the coordinator
// ends its join stream and the node process exits as one that lost the
// coordinator. It returns the names of the nodes disconnected. A node still
// joining is refused and, on its retry, creates a fresh cluster of that name.
func (r *Registry) Delete(name string, force bool) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.clusters[name]
	if !ok {
		return nil, ErrNoCluster
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ns := c.sortedNodesLocked()
	names := make([]string, 0, len(ns))
	for _, n := range ns {
		names = append(names, n.Name)
	}
	if len(ns) > 0 && !force {
		return nil, &BusyError{Nodes: names}
	}
	c.deleted = true
	for _, n := range ns {
		c.leaveLocked(n.ID, "cluster deleted (force): disconnected by the coordinator")
		close(n.gone)
	}
	delete(r.clusters, name)
	return names, nil
}

// Names lists the clusters.
func (r *Registry) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for k := range r.clusters {
		out = append(out, k)
	}
	return out
}

// StepAll runs one allocator tick on every cluster.
func (r *Registry) StepAll(now time.Time) {
	r.mu.Lock()
	cs := make([]*Cluster, 0, len(r.clusters))
	for _, c := range r.clusters {
		cs = append(cs, c)
	}
	r.mu.Unlock()
	for _, c := range cs {
		c.Step(now)
	}
}

// ShardRow is a flattened copy for the state snapshot.
type ShardRow struct {
	Table          string `json:"table"`
	Partition      string `json:"partition,omitempty"`
	ID             int    `json:"id"`
	Primary        bool   `json:"primary"`
	State          string `json:"routing_state"`
	Node           string `json:"node,omitempty"`
	NodeName       string `json:"node_name,omitempty"`
	RelocatingNode string `json:"relocating_node,omitempty"`
	// Size: bytes of the copy (volume.go); Recovery: kind of a running recovery
	Size     int64  `json:"size"`
	Recovery string `json:"recovery,omitempty"`
}

// State is the JSON answer of GET /clusters/<name>.
type State struct {
	Name       string         `json:"name"`
	ID         string         `json:"id"`
	Master     string         `json:"master_node"`
	MasterName string         `json:"master_name"`
	Nodes      []*Node        `json:"nodes"`
	Tables     []*Table       `json:"tables"`
	Shards     []ShardRow     `json:"shards"`
	Transient  map[string]any `json:"transient"`
	Persistent map[string]any `json:"persistent"`
	Effective  map[string]any `json:"effective"`
	Health     string         `json:"health"`
	Tablewise  []TableHealth  `json:"table_health"`
	Relocating int            `json:"relocating"`
	Config     Config         `json:"config"`
	Violations []*Violation   `json:"violations"`
	Warnings   []Event        `json:"warnings"`
	History    []Event        `json:"history"`
	// Jobs: every running statement (HTTP requests in flight, held ones)
	Jobs []Job `json:"jobs"`
}

// Snapshot renders the cluster state.
func (c *Cluster) Snapshot() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := State{Name: c.Name, ID: ClusterID(c.Name), Master: c.master, Transient: map[string]any{}, Persistent: map[string]any{},
		Effective: map[string]any{}, Config: c.cfg, Violations: c.copyViolationsLocked(), Warnings: c.warnings}
	if n, ok := c.nodes[c.master]; ok {
		st.MasterName = n.Name
	}
	for _, n := range c.sortedNodesLocked() {
		nn := *n
		nn.ActiveRequests = c.activeLocked(n)
		if n.Decom != nil {
			d := *n.Decom
			nn.Decom = &d
		}
		st.Nodes = append(st.Nodes, &nn)
	}
	for k, v := range c.transient {
		st.Transient[k] = v
	}
	for k, v := range c.persistent {
		st.Persistent[k] = v
	}
	for k := range settingDefaults {
		st.Effective[k] = c.settingLocked(k)
	}
	for k, v := range c.persistent {
		st.Effective[k] = v
	}
	for k, v := range c.transient {
		st.Effective[k] = v
	}
	for _, t := range c.tables {
		tt := *t
		st.Tables = append(st.Tables, &tt)
	}
	for _, s := range c.shards {
		for _, cp := range s.Copies {
			r := ShardRow{Table: s.Schema + "." + s.Table, Partition: s.Partition, ID: s.ID, Primary: cp.Primary, State: cp.State, Node: cp.Node, RelocatingNode: cp.RelocatingNode, Size: s.Bytes, Recovery: cp.Kind}
			if cp.State == Initializing && cp.Need > 0 {
				r.Size = int64(cp.Done)
			}
			if n, ok := c.nodes[cp.Node]; ok {
				r.NodeName = n.Name
			}
			st.Shards = append(st.Shards, r)
		}
	}
	st.Health, _, _ = c.clusterHealthLocked()
	st.Tablewise = c.healthLocked()
	st.Relocating = c.relocatingLocked()
	h := c.history
	if len(h) > 300 {
		h = h[len(h)-300:]
	}
	st.History = append([]Event(nil), h...)
	st.Jobs = []Job{}
	for _, j := range c.sortedJobsLocked() {
		jj := *j
		jj.Parts = append([]string(nil), j.Parts...)
		st.Jobs = append(st.Jobs, jj)
	}
	return st
}

func (c *Cluster) copyViolationsLocked() []*Violation {
	out := make([]*Violation, 0, len(c.violations))
	for _, v := range c.violations {
		vv := *v
		out = append(out, &vv)
	}
	return out
}

// Violations returns every recorded interval of an unavailable primary.
func (c *Cluster) Violations() []*Violation {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.copyViolationsLocked()
}

// Warnings returns suspicious things the cluster accepted.
func (c *Cluster) Warnings() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Event(nil), c.warnings...)
}

// NodeByID returns a node (nil when it is not a member).
func (c *Cluster) NodeByID(id string) *Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[id]
}

// NodeCount returns the number of members.
func (c *Cluster) NodeCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.nodes)
}

// Health returns the cluster health.
func (c *Cluster) Health() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, _, _ := c.clusterHealthLocked()
	return h
}

// LeaveIfSame removes the node only when n is still the member with its id
// (a later incarnation of the same node is left alone).
func (c *Cluster) LeaveIfSame(n *Node, cause string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nodes[n.ID] != n {
		return false
	}
	c.leaveLocked(n.ID, cause)
	return true
}

// NodeInfo returns name, version and whether the node refuses SQL.
func (c *Cluster) NodeInfo(n *Node) (member, refusing bool, version string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[n.ID] == n, n.Refusing(), c.nodeVersion(n)
}

// SQLNode picks the node to run control-API SQL through: the named one (id or
// name), else the master, else any node that accepts SQL; "" when none.
func (c *Cluster) SQLNode(ref string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ref != "" {
		if n := c.findNodeLocked(ref); n != nil {
			return n.ID
		}
		return ""
	}
	if n, ok := c.nodes[c.master]; ok && !n.Refusing() {
		return n.ID
	}
	for _, n := range c.sortedNodesLocked() {
		if !n.Refusing() {
			return n.ID
		}
	}
	return ""
}

// NodeVersion returns the CrateDB version a node runs.
func (c *Cluster) NodeVersion(n *Node) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodeVersion(n)
}
