package sim

import (
	"fmt"
	"hash/fnv"
	"sort"
	"time"

	"cratesim/internal/sqlparse"
)

// User-table rows. Each node keeps its own copy of a shard's rows (its data
// directory, which survives the node like a PVC): a write goes to every
// assigned copy of the shard, a recovery copies the rows of the active
// primary, a read is served by the active primary. So a write acknowledged
// once is lost only if a copy that missed it became the primary, which the
// e2e traffic recorder (test/e2e/traffic.ts) would see.

// tableShardsLocked returns the shards of schema.table (every partition).
func (c *Cluster) tableShardsLocked(table string) []*Shard {
	var out []*Shard
	for _, s := range c.shards {
		if s.Schema+"."+s.Table == table {
			out = append(out, s)
		}
	}
	return out
}

// activePrimary is the shard's STARTED or RELOCATING primary (nil when none).
func activePrimary(s *Shard) *Copy {
	if s.Lost {
		return nil
	}
	for _, cp := range s.Copies {
		if cp.Primary && !cp.Target && (cp.State == Started || cp.State == Relocating) {
			return cp
		}
	}
	return nil
}

func (s *Shard) rowsOn(node string) map[string]map[string]any {
	if s.Data == nil {
		s.Data = map[string]map[string]map[string]any{}
	}
	m := s.Data[node]
	if m == nil {
		m = map[string]map[string]any{}
		s.Data[node] = m
	}
	return m
}

// recoverDataLocked gives a copy that just finished recovering the rows of
// the shard's active primary (a primary recovering on its own node keeps the
// rows of its data directory).
func recoverDataLocked(s *Shard, cp *Copy, from string) {
	if from == "" || from == cp.Node {
		return
	}
	src := s.rowsOn(from)
	dst := map[string]map[string]any{}
	for k, r := range src {
		dst[k] = r
	}
	if s.Data == nil {
		s.Data = map[string]map[string]map[string]any{}
	}
	s.Data[cp.Node] = dst
}

func routeKey(v any) string {
	switch x := v.(type) {
	case float64:
		if x == float64(int64(x)) {
			return fmt.Sprint(int64(x))
		}
	}
	return fmt.Sprint(v)
}

func shardFor(shards []*Shard, key string) *Shard {
	h := fnv.New32a()
	h.Write([]byte(key))
	return shards[int(h.Sum32()%uint32(len(shards)))]
}

func unavailable(s *Shard) *SQLError {
	return sqlErr(5002, "UnavailableShardsException[[%s.%s][%d] primary shard is not active]", s.Schema, s.Table, s.ID)
}

// insertLocked writes rows: routed by the `id` column (else a generated
// _id), refused when the shard's primary is not active (real CrateDB waits
// up to 1 min first), a duplicate id is 4091.
func (c *Cluster) insertLocked(s *sqlparse.Insert, args []any) (*Result, *SQLError) {
	shards := c.tableShardsLocked(s.Table)
	if len(shards) == 0 {
		return nil, sqlErr(4041, "RelationUnknown: Relation '%s' unknown", s.Table)
	}
	idCol := -1
	for i, col := range s.Cols {
		if col == "id" {
			idCol = i
		}
	}
	n := int64(0)
	for _, vals := range s.Rows {
		row := map[string]any{}
		for i, e := range vals {
			v, err := evalConst(e, args)
			if err != nil {
				return nil, err
			}
			row[s.Cols[i]] = v
		}
		key := newID()
		if idCol >= 0 {
			key = routeKey(row["id"])
		}
		row["_id"] = key
		if t := c.tables[s.Table]; t != nil {
			if t.cols == nil {
				t.cols = map[string]bool{}
			}
			for k := range row {
				t.cols[k] = true
			}
		}
		sh := shardFor(shards, key)
		prim := activePrimary(sh)
		if prim == nil {
			return nil, unavailable(sh)
		}
		if _, dup := sh.rowsOn(prim.Node)[key]; dup {
			return nil, sqlErr(4091, "DuplicateKeyException: A document with the same primary key exists already")
		}
		for _, cp := range sh.Copies {
			if cp.Node != "" && cp.State != Unassigned {
				sh.rowsOn(cp.Node)[key] = row
			}
		}
		n++
	}
	return &Result{Cols: []string{}, Rows: [][]any{}, RowCount: n}, nil
}

// userRowsLocked reads every row of a user table from the active primaries;
// a shard without one fails the read. A read while a copy recovers or right
// after a node left is retried (ShardNotFoundException /
// NodeNotConnectedException), which leaks one count on the coordinating node
// as CrateDB 6.4.3 does (cratedb-facts.md section 7).
func (c *Cluster) userRowsLocked(via *Node, table string) ([]map[string]any, []string, *SQLError) {
	return c.userRowsByKeyLocked(via, table, nil)
}

// userRowsByKeyLocked is userRowsLocked, restricted to the row whose routing
// key (`_id`, from the `id` column) is *key when key is not nil: like
// CrateDB's primary-key lookup (`WHERE id = ?` on the primary key is a get
// routed by the id's hash to the one shard holding it, CrateDB docs "Sharding"
// / "Primary key lookups"), only that shard is read, so its availability (and
// its recoveries, for the retry) alone matter and the cost does not grow with
// the table.
func (c *Cluster) userRowsByKeyLocked(via *Node, table string, key *string) ([]map[string]any, []string, *SQLError) {
	shards := c.tableShardsLocked(table)
	if key != nil && len(shards) > 0 {
		shards = []*Shard{shardFor(shards, *key)}
	}
	window := time.Duration(c.cfg.ReadRetryWindowMs) * time.Millisecond
	now := c.now()
	retried := ""
	var rows []map[string]any
	cols := map[string]bool{"_id": true}
	for _, s := range shards {
		prim := activePrimary(s)
		if prim == nil {
			return nil, nil, unavailable(s)
		}
		for _, cp := range s.Copies {
			switch {
			case cp.State == Initializing && retried == "":
				retried = fmt.Sprintf("ShardNotFoundException: [%s.%s][%d] a copy is recovering", s.Schema, s.Table, s.ID)
			case cp.State == Unassigned && cp.LastNode != "" && window > 0 && now.Sub(cp.UnassignedAt) < window && retried == "":
				retried = fmt.Sprintf("NodeNotConnectedException: the node holding a copy of [%s.%s][%d] left", s.Schema, s.Table, s.ID)
			}
		}
		data := s.rowsOn(prim.Node)
		if key != nil {
			if r, ok := data[*key]; ok {
				rows = append(rows, r)
				for k := range r {
					cols[k] = true
				}
			}
			continue
		}
		for _, r := range data {
			rows = append(rows, r)
			for k := range r {
				cols[k] = true
			}
		}
	}
	if retried != "" && via != nil {
		c.retryLocked(via, retried)
	}
	sort.Slice(rows, func(i, j int) bool { return idOf(rows[i]) < idOf(rows[j]) })
	var names []string
	for k := range cols {
		names = append(names, k)
	}
	sort.Strings(names)
	return rows, names, nil
}

// idOf is a row's `_id` (a string: insertLocked sets it), without fmt for the sort of every read.
func idOf(r map[string]any) string {
	if s, ok := r["_id"].(string); ok {
		return s
	}
	return fmt.Sprint(r["_id"])
}

// primaryKeyLookup: the routing key of a WHERE that is exactly `id = <literal or parameter>` (either side),
// else nil (then the read scans every shard).
func primaryKeyLookup(where sqlparse.Expr, args []any) *string {
	b, ok := where.(*sqlparse.Bin)
	if !ok || b.Op != "=" {
		return nil
	}
	l, r := b.L, b.R
	if c, ok := r.(*sqlparse.ColRef); ok && c.Name == "id" {
		l, r = r, l
	}
	if c, ok := l.(*sqlparse.ColRef); !ok || c.Name != "id" {
		return nil
	}
	switch r.(type) {
	case *sqlparse.Lit, *sqlparse.Param:
	default:
		return nil
	}
	v, err := evalConst(r, args)
	if err != nil || v == nil {
		return nil
	}
	k := routeKey(v)
	return &k
}
