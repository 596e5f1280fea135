package sim

import (
	"fmt"
	"strings"
	"time"
)

// findNodeLocked matches a node id exactly, then a node name ignoring case.
func (c *Cluster) findNodeLocked(ref string) *Node {
	if n, ok := c.nodes[ref]; ok {
		return n
	}
	for _, n := range c.nodes {
		if strings.EqualFold(n.Name, ref) {
			return n
		}
	}
	return nil
}

// Refusing reports whether a node no longer accepts SQL (decommissioning).
func (n *Node) Refusing() bool {
	return n.Decom != nil && n.Decom.Phase != "aborted"
}

// active: a decommission is under way (not aborted): the node takes no
// shards and refuses new SQL.
func (d *Decom) active() bool { return d != nil && d.Phase != "aborted" }

// Done is closed when the decommission wait ends; Err tells how.
func (d *Decom) Done() <-chan struct{} { return d.done }

// Err is nil when the node stops, an error when the decommission aborted.
func (d *Decom) Err() error { return d.result }

func (c *Cluster) decommissionLocked(ref string) (*Decom, *SQLError) {
	n := c.findNodeLocked(ref)
	if n == nil {
		return nil, sqlErr(4000, "IllegalArgumentException: Node name or id '%s' not found", ref)
	}
	if n.Decom.active() {
		return n.Decom, nil
	}
	now := c.now()
	mode := strings.ToUpper(fmt.Sprint(c.settingLocked(SettingMinAvailability)))
	if mode != "FULL" && mode != "PRIMARIES" {
		mode = "NONE" // CrateDB treats any other value as NONE
	}
	timeout := fmt.Sprint(c.settingLocked(SettingTimeout))
	d, err := ParseTimeValue(timeout)
	if err != nil {
		d = 2 * time.Hour
	}
	force, _ := c.settingLocked(SettingForce).(bool)
	n.Decom = &Decom{MinAvailability: mode, Timeout: timeout, Force: force, Started: now, Phase: "draining",
		deadline: now.Add(d), done: make(chan struct{})}
	c.logLocked("decommission of %s started (min_availability=%s timeout=%s force=%v)", n.Name, mode, timeout, force)
	if mode == "NONE" {
		c.toRequestsLocked(n, now, "min_availability NONE: no shards move", true)
	}
	c.stepLocked(now)
	return n.Decom, nil
}

// toRequestsLocked ends the shard-move wait (the statement answers now) and
// starts the wait for active requests, as CrateDB does after the drain
// (observed on CrateDB 6.4.3): a check at once, then every RequestCheckMs;
// ownJob: the first check still sees the DECOMMISSION's own job, so a quiet
// node exits about 2 x 5 s after the statement returned.
func (c *Cluster) toRequestsLocked(n *Node, now time.Time, why string, ownJob bool) {
	d := n.Decom
	d.Phase = "requests"
	d.DrainedAt = now
	d.NextCheck = now
	d.ownJob = ownJob
	d.finish(nil)
	c.logLocked("decommission of %s: %s; waiting for active requests", n.Name, why)
}

func (c *Cluster) toExitingLocked(n *Node, at time.Time, why string) {
	n.Decom.Phase = "exiting"
	n.Decom.ExitAt = at
	c.logLocked("decommission of %s: %s; stopping", n.Name, why)
}

// checkRequestsLocked is one of CrateDB's 5-second checks of a drained node:
// exactly 0 active requests -> exit ExitDelayMs later; otherwise, past the
// graceful_stop.timeout, force=true exits at once and force=false aborts
// ("Aborting graceful shutdown": the node accepts SQL again); else check again.
func (c *Cluster) checkRequestsLocked(n *Node, now time.Time) {
	d := n.Decom
	active := c.activeLocked(n)
	if d.ownJob {
		active++
		d.ownJob = false
	}
	d.Checks++
	d.LastActive = active
	d.NextCheck = now.Add(time.Duration(c.cfg.RequestCheckMs) * time.Millisecond)
	switch {
	case active == 0:
		c.toExitingLocked(n, now.Add(time.Duration(c.cfg.ExitDelayMs)*time.Millisecond), "no active requests")
	case !now.Before(d.deadline) && d.Force:
		c.toExitingLocked(n, now, fmt.Sprintf("graceful_stop.timeout %s reached with %d active requests, force=true", d.Timeout, active))
	case !now.Before(d.deadline):
		d.Phase = "aborted"
		c.logLocked("decommission of %s: Aborting graceful shutdown (graceful_stop.timeout %s reached with %d active requests, force=false): the node accepts SQL again", n.Name, d.Timeout, active)
	default:
		// CrateDB logs this on every check; the history gets the first one and one a minute
		if d.Checks == 1 || d.Checks%12 == 0 {
			c.logLocked("decommission of %s: There are still active requests on this node, delaying graceful shutdown (%d active, check %d)", n.Name, active, d.Checks)
		}
	}
}

// canMoveSomewhere: a node exists that may hold another copy of s.
func (c *Cluster) canMoveSomewhere(s *Shard) bool {
	for id, n := range c.nodes {
		if !n.Decom.active() && n.Data {
			if !hasCopyOn(s, id) {
				return true
			}
		}
	}
	return false
}

// drainedLocked is the condition the decommissioning node waits for.
func (c *Cluster) drainedLocked(n *Node) bool {
	if c.relocatingLocked() > 0 {
		return false
	}
	for _, s := range c.shards {
		for _, cp := range s.Copies {
			if cp.State == Initializing {
				return false
			}
		}
	}
	health, _, _ := c.clusterHealthLocked()
	enable := c.allocationEnable()
	switch n.Decom.MinAvailability {
	case "FULL":
		if health != "GREEN" {
			return false
		}
		for _, s := range c.shards {
			if hasCopyOn(s, n.ID) {
				return false
			}
		}
		return true
	case "PRIMARIES":
		if health == "RED" {
			return false
		}
		// a primary that is allowed to move and has somewhere to go has not left yet
		for _, s := range c.shards {
			for _, cp := range s.Copies {
				if cp.Node == n.ID && cp.Primary && moveAllowed(enable, cp, s) && c.canMoveSomewhere(s) {
					return false
				}
			}
		}
		return true
	}
	return true
}

func (c *Cluster) decommissionProgressLocked(now time.Time) {
	var exits []*Node
	for _, n := range c.nodes {
		d := n.Decom
		if d == nil {
			continue
		}
		switch d.Phase {
		case "draining":
			if c.drainedLocked(n) {
				c.toRequestsLocked(n, now, "shards drained", true)
			} else if !now.Before(d.deadline) {
				if d.Force || c.cfg.LegacyForceFalseExits || VersionBefore(c.nodeVersion(n), "6.4.4") {
					// the timed-out wait counts as done; the request check follows (already past the deadline)
					c.toRequestsLocked(n, now, fmt.Sprintf("graceful_stop.timeout %s reached while shards moved, force=%v: going on", d.Timeout, d.Force), false)
				} else {
					d.Phase = "aborted"
					d.finish(fmt.Errorf("graceful stop timed out after %s (force=false): decommission aborted, node stays up", d.Timeout))
					c.logLocked("decommission of %s aborted: %v", n.Name, d.result)
				}
			}
		}
		if d.Phase == "requests" && !now.Before(d.NextCheck) {
			c.checkRequestsLocked(n, now)
		}
		if d.Phase == "exiting" && !now.Before(d.ExitAt) {
			exits = append(exits, n)
		}
	}
	for _, n := range exits {
		n.Decom.Phase = "exited"
		select {
		case n.Events <- NodeEvent{Event: "exit", Code: 0, Why: "decommissioned"}:
		default:
		}
		c.leaveLocked(n.ID, "stopped after decommission")
	}
}
