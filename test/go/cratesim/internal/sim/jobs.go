package sim

import (
	"crypto/rand"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"cratesim/internal/sqlparse"
)

// Job is a statement running in the cluster (observed on CrateDB 6.4.3):
// sys.jobs shows it on its coordinator, sys.operations one row per node that
// runs a part of it, and every node it involves (coordinator or part) counts
// it as an active request, which a draining node waits for before it exits.
type Job struct {
	ID          string    `json:"id"`
	Stmt        string    `json:"stmt"`
	Started     time.Time `json:"started"`
	User        string    `json:"username"`
	Coordinator string    `json:"coordinator"` // node id
	Parts       []string  `json:"parts"`       // node ids running a part (the coordinator included)
	// Read: a read is retried on another copy when a node running a part of
	// it leaves (NodeNotConnectedException), which leaks one count on the
	// coordinator (the CrateDB 6.4.3 counter bug).
	Read bool `json:"read,omitempty"`
	// Held: started through the control API (POST /clusters/<c>/hold); it
	// runs until released or Until.
	Held  bool      `json:"held,omitempty"`
	Until time.Time `json:"until,omitempty"`
}

func (j *Job) involves(id string) bool {
	if j.Coordinator == id {
		return true
	}
	for _, p := range j.Parts {
		if p == id {
			return true
		}
	}
	return false
}

// activeLocked is the node's active-request counter as CrateDB keeps it: the
// jobs it coordinates or runs a part of, minus every count a retried read
// leaked (so it can go negative; the exit check waits for exactly 0).
func (c *Cluster) activeLocked(n *Node) int {
	k := 0
	for _, j := range c.jobs {
		if j.involves(n.ID) {
			k++
		}
	}
	return k - n.Leaked
}

// statsEnabledLocked: stats.enabled (default true, as in CrateDB). When false
// sys.jobs and sys.operations are always empty.
func (c *Cluster) statsEnabledLocked() bool {
	b, ok := c.settingLocked(SettingStatsEnabled).(bool)
	return !ok || b
}

// leakLocked decrements a node's counter once more than it was incremented
// (a retried read, or the control API's leak).
func (c *Cluster) leakLocked(n *Node, why string) {
	n.Leaked++
	if n.Leaked == 1 {
		c.logLocked("active-request counter of %s leaked (now %d): %s", n.Name, c.activeLocked(n), why)
	}
}

// retryLocked records that a read coordinated by via was retried; it leaks
// one count unless leakRetriedReads is off.
func (c *Cluster) retryLocked(via *Node, why string) {
	via.Retried++
	if c.cfg.LeakRetriedReads {
		c.leakLocked(via, "read retried after "+why)
	}
}

// refusalLocked is what a draining node answers to a new HTTP SQL request:
// HTTP 500 with a plain-text body (observed on CrateDB 6.4.3).
func (c *Cluster) refusalLocked(n *Node) *SQLError {
	host := "127.0.0.1"
	if u, err := url.Parse(n.RestURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	return &SQLError{Code: 5000, Plain: true, Message: fmt.Sprintf("[%s][%s:4300][sql] disconnected", n.Name, host)}
}

// nodeTables fan out to every node (each node collects its own rows).
var nodeTables = map[string]bool{"sys.nodes": true, "sys.shards": true, "sys.jobs": true, "sys.operations": true, "sys.node_checks": true}

// partsLocked lists the nodes a statement runs on besides its coordinator:
// every node for the per-node sys tables, the nodes holding the table's
// active primaries for a user-table read, every copy for a write.
func (c *Cluster) partsLocked(via string, st sqlparse.Stmt) (parts []string, read bool) {
	set := map[string]bool{via: true}
	switch s := st.(type) {
	case *sqlparse.Select:
		if nodeTables[s.From] {
			for id := range c.nodes {
				set[id] = true
			}
		} else if _, ok := c.tables[s.From]; ok {
			read = true
			for _, sh := range c.tableShardsLocked(s.From) {
				if p := activePrimary(sh); p != nil {
					set[p.Node] = true
				}
			}
		}
	case *sqlparse.Insert:
		for _, sh := range c.tableShardsLocked(s.Table) {
			for _, cp := range sh.Copies {
				if cp.Node != "" {
					set[cp.Node] = true
				}
			}
		}
	}
	for id := range set {
		parts = append(parts, id)
	}
	sort.Strings(parts)
	return parts, read
}

// BeginRequest admits an HTTP SQL request on node via and registers it as a
// running job until EndRequest. A draining node refuses it (and it does not
// count). The statement text is parsed only to find the nodes it involves.
func (c *Cluster) BeginRequest(via, stmt, user string) (string, *SQLError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.nodes[via]
	if !ok {
		return "", sqlErr(5032, "NodeNotConnectedException: node is not a member of cluster %s (disconnected)", c.Name)
	}
	if n.Refusing() {
		return "", c.refusalLocked(n)
	}
	j := &Job{ID: newJobID(), Stmt: stmt, Started: c.now(), User: user, Coordinator: via, Parts: []string{via}}
	if st, err := sqlparse.Parse(stmt); err == nil {
		j.Parts, j.Read = c.partsLocked(via, st)
	}
	c.jobs[j.ID] = j
	return j.ID, nil
}

// EndRequest removes a job registered by BeginRequest.
func (c *Cluster) EndRequest(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.jobs, id)
}

// HoldRequest is the body of POST /clusters/<c>/hold.
type HoldRequest struct {
	Via  string   `json:"via"`  // coordinating node (id or name)
	On   []string `json:"on"`   // nodes running a part of it (id or name)
	Stmt string   `json:"stmt"` // shown in sys.jobs
	Ms   int      `json:"ms"`   // released automatically after that long (0 = until released)
	Read *bool    `json:"read"` // a read (default true): retried, and leaking, when a part's node leaves
}

// Hold starts a long-running statement coordinated by Via with parts on On:
// it counts as an active request on each of them until Release (or Ms).
func (c *Cluster) Hold(h HoldRequest) (*Job, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	via := c.findNodeLocked(h.Via)
	if via == nil {
		return nil, fmt.Errorf("no node %q in cluster %s", h.Via, c.Name)
	}
	set := map[string]bool{via.ID: true}
	for _, o := range h.On {
		n := c.findNodeLocked(o)
		if n == nil {
			return nil, fmt.Errorf("no node %q in cluster %s", o, c.Name)
		}
		set[n.ID] = true
	}
	stmt := h.Stmt
	if stmt == "" {
		stmt = "SELECT * FROM doc.held /* held through the control API */"
	}
	j := &Job{ID: newJobID(), Stmt: stmt, Started: c.now(), User: "crate", Coordinator: via.ID, Held: true, Read: h.Read == nil || *h.Read}
	for id := range set {
		j.Parts = append(j.Parts, id)
	}
	sort.Strings(j.Parts)
	if h.Ms > 0 {
		j.Until = c.now().Add(time.Duration(h.Ms) * time.Millisecond)
	}
	c.jobs[j.ID] = j
	c.logLocked("held statement %s started on %s (parts on %s)", j.ID, via.Name, strings.Join(c.namesLocked(j.Parts), ", "))
	jj := *j
	return &jj, nil
}

// Release ends a held statement; false when there is none with that id.
func (c *Cluster) Release(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	j, ok := c.jobs[id]
	if !ok || !j.Held {
		return false
	}
	delete(c.jobs, id)
	c.logLocked("held statement %s released", id)
	return true
}

// Leak makes a node's active-request counter leak count times, as that many
// retried reads would (observed on CrateDB 6.4.3).
func (c *Cluster) Leak(ref string, count int) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.findNodeLocked(ref)
	if n == nil {
		return 0, fmt.Errorf("no node %q in cluster %s", ref, c.Name)
	}
	if count <= 0 {
		count = 5 // a few retried reads: more than the DECOMMISSION's own job offsets at the first check
	}
	for i := 0; i < count; i++ {
		c.leakLocked(n, "leak requested through the control API")
	}
	return c.activeLocked(n), nil
}

// Jobs lists the running jobs (oldest first).
func (c *Cluster) Jobs() []Job {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Job, 0, len(c.jobs))
	for _, j := range c.sortedJobsLocked() {
		out = append(out, *j)
	}
	return out
}

func (c *Cluster) sortedJobsLocked() []*Job {
	js := make([]*Job, 0, len(c.jobs))
	for _, j := range c.jobs {
		js = append(js, j)
	}
	sort.Slice(js, func(a, b int) bool {
		if !js[a].Started.Equal(js[b].Started) {
			return js[a].Started.Before(js[b].Started)
		}
		return js[a].ID < js[b].ID
	})
	return js
}

func (c *Cluster) namesLocked(ids []string) []string {
	var out []string
	for _, id := range ids {
		if n, ok := c.nodes[id]; ok {
			out = append(out, n.Name)
		} else {
			out = append(out, id)
		}
	}
	return out
}

// jobsOnLeaveLocked: the jobs a node coordinated end with it; a read with a
// part on it is retried on another copy, which leaks one count on its
// coordinator (NodeNotConnectedException, observed on CrateDB 6.4.3).
func (c *Cluster) jobsOnLeaveLocked(left *Node) {
	for id, j := range c.jobs {
		if j.Coordinator == left.ID {
			delete(c.jobs, id)
			continue
		}
		keep := j.Parts[:0]
		had := false
		for _, p := range j.Parts {
			if p == left.ID {
				had = true
				continue
			}
			keep = append(keep, p)
		}
		j.Parts = keep
		if had && j.Read {
			if co, ok := c.nodes[j.Coordinator]; ok {
				c.retryLocked(co, fmt.Sprintf("NodeNotConnectedException: [%s] node left while a part of %s ran on it", left.Name, j.ID))
			}
		}
	}
}

// expireHeldLocked ends held statements whose time is up.
func (c *Cluster) expireHeldLocked(now time.Time) {
	for id, j := range c.jobs {
		if j.Held && !j.Until.IsZero() && !now.Before(j.Until) {
			delete(c.jobs, id)
			c.logLocked("held statement %s ended (its time was up)", id)
		}
	}
}

// newJobID is a random UUID, as CrateDB's job ids.
func newJobID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
