package sim

import "sort"

// TableHealth is a row of sys.health.
type TableHealth struct {
	Schema                string `json:"table_schema"`
	Table                 string `json:"table_name"`
	Partition             string `json:"partition_ident"`
	Health                string `json:"health"`
	Severity              int    `json:"severity"`
	MissingShards         int    `json:"missing_shards"`
	UnderreplicatedShards int    `json:"underreplicated_shards"`
}

func severity(h string) int {
	switch h {
	case "RED":
		return 3
	case "YELLOW":
		return 2
	}
	return 1
}

// healthLocked computes health per table/partition from shard placement:
// GREEN all copies started, YELLOW a replica not started, RED a primary not
// active.
func (c *Cluster) healthLocked() []TableHealth {
	byKey := map[string]*TableHealth{}
	var keys []string
	for _, s := range c.shards {
		k := s.Schema + "." + s.Table + "/" + s.Partition
		h, ok := byKey[k]
		if !ok {
			h = &TableHealth{Schema: s.Schema, Table: s.Table, Partition: s.Partition, Health: "GREEN"}
			byKey[k] = h
			keys = append(keys, k)
		}
		if !primaryActive(s) {
			h.MissingShards++
			continue
		}
		under := false
		for _, cp := range s.Copies {
			if !cp.Primary && !cp.Target && cp.State != Started && cp.State != Relocating {
				under = true
			}
		}
		if under {
			h.UnderreplicatedShards++
		}
	}
	sort.Strings(keys)
	out := make([]TableHealth, 0, len(keys))
	for _, k := range keys {
		h := byKey[k]
		switch {
		case h.MissingShards > 0:
			h.Health = "RED"
		case h.UnderreplicatedShards > 0:
			h.Health = "YELLOW"
		}
		h.Severity = severity(h.Health)
		out = append(out, *h)
	}
	return out
}

// clusterHealthLocked is the worst table health (GREEN without tables).
func (c *Cluster) clusterHealthLocked() (string, int, int) {
	worst, missing, under := "GREEN", 0, 0
	for _, h := range c.healthLocked() {
		if severity(h.Health) > severity(worst) {
			worst = h.Health
		}
		missing += h.MissingShards
		under += h.UnderreplicatedShards
	}
	return worst, missing, under
}

func (c *Cluster) relocatingLocked() int {
	n := 0
	for _, s := range c.shards {
		for _, cp := range s.Copies {
			if cp.State == Relocating {
				n++
			}
		}
	}
	return n
}
