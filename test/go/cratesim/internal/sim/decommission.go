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

// Done is closed when the decommission wait ends; Err tells how.
func (d *Decom) Done() <-chan struct{} { return d.done }

// Err is nil when the node stops, an error when the decommission aborted.
func (d *Decom) Err() error { return d.result }

func (c *Cluster) decommissionLocked(ref string) (*Decom, *SQLError) {
	n := c.findNodeLocked(ref)
	if n == nil {
		return nil, sqlErr(4000, "IllegalArgumentException: Node name or id '%s' not found", ref)
	}
	if n.Decom != nil && n.Decom.Phase != "aborted" {
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
		c.toExitingLocked(n, now, "min_availability NONE: no shards move")
	}
	c.stepLocked(now)
	return n.Decom, nil
}

func (c *Cluster) toExitingLocked(n *Node, now time.Time, why string) {
	n.Decom.Phase = "exiting"
	n.Decom.ExitAt = now.Add(time.Duration(c.cfg.ExitDelayMs) * time.Millisecond)
	close(n.Decom.done)
	c.logLocked("decommission of %s: %s; stopping", n.Name, why)
}

// canMoveSomewhere: a node exists that may hold another copy of s.
func (c *Cluster) canMoveSomewhere(s *Shard) bool {
	for id, n := range c.nodes {
		if (n.Decom == nil || n.Decom.Phase == "aborted") && n.Data {
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
				c.toExitingLocked(n, now, "shards drained")
			} else if !now.Before(d.deadline) {
				if d.Force || c.cfg.LegacyForceFalseExits || VersionBefore(c.nodeVersion(n), "6.4.4") {
					c.toExitingLocked(n, now, fmt.Sprintf("graceful_stop.timeout %s reached, force=%v: stopping anyway", d.Timeout, d.Force))
				} else {
					d.Phase = "aborted"
					d.result = fmt.Errorf("graceful stop timed out after %s (force=false): decommission aborted, node stays up", d.Timeout)
					close(d.done)
					c.logLocked("decommission of %s aborted: %v", n.Name, d.result)
				}
			}
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
