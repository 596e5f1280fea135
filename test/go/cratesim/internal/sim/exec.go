package sim

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	mrand "math/rand/v2"
	"regexp"
	"sort"
	"strings"
	"time"

	"cratesim/internal/sqlparse"
)

// Result is the body of a successful /_sql answer.
type Result struct {
	Cols     []string  `json:"cols"`
	Rows     [][]any   `json:"rows"`
	RowCount int64     `json:"rowcount"`
	Duration float64   `json:"duration"`
	Results  []BulkRow `json:"results,omitempty"`
}

// BulkRow is one entry of a bulk answer.
type BulkRow struct {
	RowCount int64 `json:"rowcount"`
}

// Session is who runs a statement and through which node.
type Session struct {
	Via  string // node id receiving the request
	User User
	// Job: the id BeginRequest gave the request (it was admitted before the
	// node started draining, and sys.jobs shows it already); "" for control-API SQL.
	Job string
}

// Exec runs one statement. When it is a decommission, the Decom is returned
// too so the caller can answer per Config.DecommissionResponse.
func (c *Cluster) Exec(sess Session, stmt string, args []any, bulk [][]any) (*Result, *Decom, *SQLError) {
	start := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	via, ok := c.nodes[sess.Via]
	if !ok {
		return nil, nil, sqlErr(5032, "NodeNotConnectedException: node is not a member of cluster %s (disconnected)", c.Name)
	}
	if via.Refusing() && (sess.Job == "" || c.jobs[sess.Job] == nil) {
		return nil, nil, c.refusalLocked(via)
	}
	if c.master == "" {
		return nil, nil, sqlErr(5000, "ClusterBlockException[blocked by: [SERVICE_UNAVAILABLE/2/no master];]")
	}
	if p := c.cfg.SQLErrorPercent; p > 0 && mrand.Float64()*100 < p {
		return nil, nil, sqlErr(5032, "NodeNotConnectedException: [%s] Node not connected (injected fault)", via.Name)
	}
	st, err := sqlparse.Parse(stmt)
	if err != nil {
		return nil, nil, sqlErr(4000, "SQLParseException[%s]", err.Error())
	}
	if bulk != nil {
		if _, ok := st.(*sqlparse.Select); ok {
			return nil, nil, sqlErr(4000, "UnsupportedFeatureException: Bulk operations for statements that return result sets is not supported")
		}
		res := &Result{Cols: []string{}}
		for _, a := range bulk {
			r, _, e := c.execLocked(sess, st, stmt, a)
			if e != nil {
				res.Results = append(res.Results, BulkRow{RowCount: -2})
				continue
			}
			res.Results = append(res.Results, BulkRow{RowCount: r.RowCount})
		}
		res.Duration = float64(time.Since(start).Microseconds()) / 1000
		return res, nil, nil
	}
	res, d, e := c.execLocked(sess, st, stmt, args)
	if res != nil {
		res.Duration = float64(time.Since(start).Microseconds()) / 1000
	}
	return res, d, e
}

func param(args []any, p *sqlparse.Param) (any, *SQLError) {
	if p.Idx < 1 || p.Idx > len(args) {
		return nil, sqlErr(4000, "SQLParseException: The query contains a parameter placeholder $%d, but there are only %d parameter values", p.Idx, len(args))
	}
	return args[p.Idx-1], nil
}

func (c *Cluster) execLocked(sess Session, st sqlparse.Stmt, text string, args []any) (*Result, *Decom, *SQLError) {
	switch s := st.(type) {
	case *sqlparse.NoOp:
		return &Result{Cols: []string{}, Rows: [][]any{}, RowCount: 0}, nil, nil
	case *sqlparse.SetGlobal:
		vals := map[string]any{}
		var order []string
		for _, a := range s.Assigns {
			v, e := evalConst(a.Value, args)
			if e != nil {
				return nil, nil, e
			}
			if _, dup := vals[a.Name]; !dup {
				order = append(order, a.Name)
			}
			vals[a.Name] = v
		}
		if e := c.setGlobalLocked(s.Persistent, vals, order); e != nil {
			return nil, nil, e
		}
		return &Result{Cols: []string{}, Rows: [][]any{{}}, RowCount: 1}, nil, nil
	case *sqlparse.ResetGlobal:
		c.resetGlobalLocked(s.Names)
		return &Result{Cols: []string{}, Rows: [][]any{{}}, RowCount: 1}, nil, nil
	case *sqlparse.Decommission:
		if s.DollarForm && (c.cfg.DisableDollarQuoting || VersionBefore(c.nodeVersion(c.nodes[sess.Via]), "5.2")) {
			return nil, nil, sqlErr(4000, "SQLParseException[line 1:28: token recognition error at: '$']")
		}
		if !sess.User.Superuser {
			return nil, nil, sqlErr(4010, "UnauthorizedException: User \"%s\" is not authorized to execute the statement. Superuser permissions are required", sess.User.Name)
		}
		v, e := evalConst(s.Node, args)
		if e != nil {
			return nil, nil, e
		}
		ref, ok := v.(string)
		if !ok {
			return nil, nil, sqlErr(4000, "SQLParseException: node name or id must be a string, got %v", v)
		}
		d, e := c.decommissionLocked(ref)
		if e != nil {
			return nil, nil, e
		}
		return &Result{Cols: []string{}, Rows: [][]any{}, RowCount: 1}, d, nil
	case *sqlparse.Select:
		r, e := c.selectLocked(sess, s, text, args)
		return r, nil, e
	case *sqlparse.Insert:
		r, e := c.insertLocked(s, args)
		return r, nil, e
	}
	return nil, nil, sqlErr(4000, "SQLParseException: unsupported statement")
}

func evalConst(e sqlparse.Expr, args []any) (any, *SQLError) {
	switch x := e.(type) {
	case *sqlparse.Lit:
		return x.V, nil
	case *sqlparse.Param:
		return param(args, x)
	}
	return nil, sqlErr(4000, "SQLParseException: expected a literal or a parameter")
}

var tableCols = map[string][]string{
	"sys.nodes":                 {"id", "name", "hostname", "rest_url", "attributes", "version", "port", "cluster_state_version", "load", "heap", "mem", "fs"},
	"sys.checks":                {"id", "severity", "description", "passed"},
	"sys.node_checks":           {"id", "node_id", "severity", "description", "passed", "acknowledged"},
	"sys.cluster":               {"id", "name", "master_node", "settings"},
	"sys.health":                {"table_schema", "table_name", "partition_ident", "health", "severity", "missing_shards", "underreplicated_shards"},
	"sys.cluster_health":        {"health", "severity", "description", "pending_tasks", "missing_shards", "underreplicated_shards"},
	"sys.shards":                {"schema_name", "table_name", "id", "partition_ident", "primary", "routing_state", "state", "node", "relocating_node", "orphan_partition", "num_docs", "size", "recovery"},
	"sys.jobs":                  {"id", "stmt", "started", "username", "node"},
	"sys.operations":            {"id", "job_id", "name", "node", "started", "used_bytes"},
	"sys.users":                 {"name", "password", "superuser"},
	"sys.allocations":           {"table_schema", "table_name", "partition_ident", "shard_id", "node_id", "primary", "current_state", "explanation", "decisions"},
	"information_schema.tables": {"table_schema", "table_name", "table_type", "number_of_shards", "number_of_replicas", "partitioned_by"},
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (c *Cluster) rowsLocked(sess Session, table, text string) ([]map[string]any, *SQLError) {
	var rows []map[string]any
	nodeObj := func(id string) any {
		if id == "" {
			return nil
		}
		name := ""
		if n, ok := c.nodes[id]; ok {
			name = n.Name
		}
		return map[string]any{"id": id, "name": name}
	}
	switch table {
	case "doc.dual", "":
		rows = []map[string]any{{}}
	case "sys.nodes":
		for _, n := range c.sortedNodesLocked() {
			attrs := map[string]any{}
			for k, v := range n.Attributes {
				attrs[k] = v
			}
			rows = append(rows, map[string]any{"id": n.ID, "name": n.Name, "hostname": n.Hostname, "rest_url": n.RestURL,
				"attributes": attrs, "version": map[string]any{"number": c.nodeVersion(n)}, "port": map[string]any{"http": 4200, "transport": 4300, "psql": 5432},
				"cluster_state_version": int64(len(c.history)),
				"load":                  map[string]any{"1": 0.1, "5": 0.1, "15": 0.1},
				"heap":                  map[string]any{"used": int64(256 << 20), "max": int64(1 << 30), "free": int64(768 << 20)},
				"mem":                   map[string]any{"used": int64(2 << 30), "free": int64(6 << 30), "used_percent": 25.0, "free_percent": 75.0},
				"fs":                    map[string]any{"total": map[string]any{"size": int64(100 << 30), "used": int64(10 << 30), "available": int64(90 << 30)}}})
		}
	case "sys.cluster":
		var master any
		if c.master != "" {
			master = c.master
		}
		rows = []map[string]any{{"id": ClusterID(c.Name), "name": c.Name, "master_node": master, "settings": c.settingsObjectLocked()}}
	case "sys.health":
		premature := c.prematureGreenLocked()
		for _, h := range c.healthLocked() {
			if premature {
				h.Health, h.Severity, h.MissingShards, h.UnderreplicatedShards = "GREEN", 1, 0, 0
			}
			var pi any
			if h.Partition != "" {
				pi = h.Partition
			}
			rows = append(rows, map[string]any{"table_schema": h.Schema, "table_name": h.Table, "partition_ident": pi, "health": h.Health,
				"severity": int64(h.Severity), "missing_shards": int64(h.MissingShards), "underreplicated_shards": int64(h.UnderreplicatedShards)})
		}
	case "sys.cluster_health":
		if VersionBefore(c.nodeVersion(c.nodes[sess.Via]), "6.0") {
			return nil, sqlErr(4041, "RelationUnknown: Relation '%s' unknown", table)
		}
		h, miss, under := c.clusterHealthLocked()
		if c.prematureGreenLocked() {
			h, miss, under = "GREEN", 0, 0
		}
		desc := "Cluster health is GREEN: all shards are allocated and started"
		if h == "YELLOW" {
			desc = "One or more replicas are missing"
		} else if h == "RED" {
			desc = "One or more primary shards are missing"
		}
		rows = []map[string]any{{"health": h, "severity": int64(severity(h)), "description": desc, "pending_tasks": int64(0),
			"missing_shards": int64(miss), "underreplicated_shards": int64(under)}}
	case "sys.shards":
		for _, s := range c.shards {
			for _, cp := range s.Copies {
				var pi, reloc any
				if s.Partition != "" {
					pi = s.Partition
				}
				if cp.RelocatingNode != "" {
					reloc = cp.RelocatingNode
				}
				state := cp.State
				if state == Initializing && cp.Target {
					state = "RECOVERING"
				}
				// size: the copy's bytes on its node (a file copy grows as it recovers)
				var size int64
				switch {
				case cp.Node == "":
				case cp.State == Initializing && cp.Need > 0:
					size = int64(cp.Done)
				default:
					size = s.Bytes
				}
				recovery := map[string]any{"stage": state, "type": recoveryType(cp), "size": map[string]any{"used": s.Bytes, "recovered": size}}
				rows = append(rows, map[string]any{"schema_name": s.Schema, "table_name": s.Table, "id": int64(s.ID), "partition_ident": pi,
					"primary": cp.Primary, "routing_state": cp.State, "state": state, "node": nodeObj(cp.Node), "relocating_node": reloc,
					"orphan_partition": false, "num_docs": int64(0), "size": size, "recovery": recovery})
			}
		}
	case "sys.checks", "sys.node_checks":
		// every check passes in the simulator: no rows fail
	case "sys.jobs":
		// every running statement on its coordinator (the asking one included),
		// plus config jobs; nothing with stats.enabled = false
		if !c.statsEnabledLocked() {
			break
		}
		if sess.Job == "" {
			rows = append(rows, map[string]any{"id": newJobID(), "stmt": text, "started": c.now().UnixMilli(), "username": sess.User.Name, "node": nodeObj(sess.Via)})
		}
		for _, j := range c.sortedJobsLocked() {
			rows = append(rows, map[string]any{"id": j.ID, "stmt": j.Stmt, "started": j.Started.UnixMilli(), "username": j.User, "node": nodeObj(j.Coordinator)})
		}
		for _, j := range c.cfg.Jobs {
			rows = append(rows, map[string]any{"id": newJobID(), "stmt": j, "started": c.now().UnixMilli(), "username": "crate", "node": nodeObj(c.master)})
		}
	case "sys.operations":
		// one row per node a running statement has a part on; the asking
		// statement's own operation on its coordinator; nothing with
		// stats.enabled = false
		if !c.statsEnabledLocked() {
			break
		}
		op := func(job, node, name string, started time.Time) map[string]any {
			return map[string]any{"id": fmt.Sprintf("%s/%s", job, node), "job_id": job, "name": name, "node": nodeObj(node), "started": started.UnixMilli(), "used_bytes": int64(0)}
		}
		if sess.Job == "" {
			rows = append(rows, op(newJobID(), sess.Via, "collect", c.now()))
		}
		for _, j := range c.sortedJobsLocked() {
			for _, p := range j.Parts {
				name := "collect"
				if p == j.Coordinator && len(j.Parts) > 1 {
					name = "mergeOnHandler"
				}
				rows = append(rows, op(j.ID, p, name, j.Started))
			}
		}
	case "sys.users":
		// the built-in superuser crate (never a password) plus the configured users;
		// privileges are not simulated: every user sees every row
		rows = append(rows, map[string]any{"name": "crate", "password": nil, "superuser": true})
		for _, u := range c.cfg.Users {
			if u.Name == "crate" {
				continue // the built-in one wins, as in Authenticate
			}
			var pw any
			if u.Password != "" {
				pw = "********"
			}
			rows = append(rows, map[string]any{"name": u.Name, "password": pw, "superuser": u.Superuser})
		}
		sort.SliceStable(rows, func(i, j int) bool { return rows[i]["name"].(string) < rows[j]["name"].(string) })
	case "sys.allocations":
		enable := c.allocationEnable()
		for _, s := range c.shards {
			for _, cp := range s.Copies {
				if cp.Target {
					continue
				}
				var pi, node any
				if s.Partition != "" {
					pi = s.Partition
				}
				if cp.Node != "" {
					node = cp.Node
				}
				expl := any(nil)
				switch {
				case s.Lost:
					expl = "cannot allocate because all found copies of the shard are either stale or corrupt"
				case cp.State == Unassigned && cp.Primary && s.EverStarted:
					expl = "cannot allocate because a previous copy of the primary shard existed but can no longer be found on the nodes in the cluster"
				case cp.State == Unassigned && enable != "all":
					expl = fmt.Sprintf("cannot allocate because allocation is not permitted to any of the nodes: cluster.routing.allocation.enable=%s", enable)
				case cp.State == Unassigned:
					expl = "cannot allocate because allocation is not permitted to any of the nodes"
				case cp.Node != "" && c.nodes[cp.Node] != nil && c.nodes[cp.Node].Refusing():
					expl = "cannot remain on its current node because the node is being decommissioned"
				}
				state := strings.ToLower(cp.State)
				rows = append(rows, map[string]any{"table_schema": s.Schema, "table_name": s.Table, "partition_ident": pi, "shard_id": int64(s.ID),
					"node_id": node, "primary": cp.Primary, "current_state": state, "explanation": expl, "decisions": nil})
			}
		}
	case "information_schema.tables":
		var keys []string
		for k := range c.tables {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			t := c.tables[k]
			var pb any
			if len(t.Partitions) > 0 {
				pb = []any{"part"}
			}
			rows = append(rows, map[string]any{"table_schema": t.Schema, "table_name": t.Name, "table_type": "BASE TABLE",
				"number_of_shards": int64(t.Shards), "number_of_replicas": fmt.Sprint(t.Replicas), "partitioned_by": pb})
		}
	default:
		if _, ok := c.tables[table]; ok {
			r, _, e := c.userRowsLocked(c.nodes[sess.Via], table)
			return r, e
		}
		return nil, sqlErr(4041, "RelationUnknown: Relation '%s' unknown", table)
	}
	return rows, nil
}

func (c *Cluster) sortedNodesLocked() []*Node {
	var ns []*Node
	for _, n := range c.nodes {
		ns = append(ns, n)
	}
	sort.Slice(ns, func(i, j int) bool { return ns[i].Name < ns[j].Name })
	return ns
}

// bindSession replaces CURRENT_USER / SESSION_USER / USER by the session's
// user name; unchanged subtrees are returned as they are.
func bindSession(e sqlparse.Expr, user string) sqlparse.Expr {
	switch x := e.(type) {
	case *sqlparse.SessionUser:
		return &sqlparse.Lit{V: user}
	case *sqlparse.Bin:
		l, r := bindSession(x.L, user), bindSession(x.R, user)
		if l != x.L || r != x.R {
			return &sqlparse.Bin{Op: x.Op, L: l, R: r}
		}
	case *sqlparse.Not:
		if y := bindSession(x.X, user); y != x.X {
			return &sqlparse.Not{X: y}
		}
	case *sqlparse.IsNull:
		if y := bindSession(x.X, user); y != x.X {
			return &sqlparse.IsNull{X: y, Not: x.Not}
		}
	case *sqlparse.In:
		changed := false
		y := bindSession(x.X, user)
		list := make([]sqlparse.Expr, len(x.List))
		for i, it := range x.List {
			list[i] = bindSession(it, user)
			changed = changed || list[i] != it
		}
		if changed || y != x.X {
			return &sqlparse.In{X: y, List: list, Not: x.Not}
		}
	case *sqlparse.Func:
		changed := false
		args := make([]sqlparse.Expr, len(x.Args))
		for i, a := range x.Args {
			args[i] = bindSession(a, user)
			changed = changed || args[i] != a
		}
		if changed {
			return &sqlparse.Func{Name: x.Name, Args: args, Star: x.Star}
		}
	}
	return e
}

// bindSelect returns s with the session functions bound to the user (s itself
// when it has none).
func bindSelect(s *sqlparse.Select, user string) *sqlparse.Select {
	b := *s
	b.Items = make([]sqlparse.SelItem, len(s.Items))
	for i, it := range s.Items {
		b.Items[i] = it
		if !it.Star {
			b.Items[i].Expr = bindSession(it.Expr, user)
		}
	}
	if s.Where != nil {
		b.Where = bindSession(s.Where, user)
	}
	b.GroupBy = make([]sqlparse.Expr, len(s.GroupBy))
	for i, g := range s.GroupBy {
		b.GroupBy[i] = bindSession(g, user)
	}
	b.OrderBy = make([]sqlparse.Order, len(s.OrderBy))
	for i, o := range s.OrderBy {
		b.OrderBy[i] = sqlparse.Order{Expr: bindSession(o.Expr, user), Desc: o.Desc}
	}
	return &b
}

func (c *Cluster) selectLocked(sess Session, s *sqlparse.Select, text string, args []any) (*Result, *SQLError) {
	s = bindSelect(s, sess.User.Name)
	var rows []map[string]any
	var e *SQLError
	ut, user := c.tables[s.From]
	if key := primaryKeyLookup(s.Where, args); user && key != nil {
		// a primary-key lookup reads the one shard the id routes to (userRowsByKeyLocked)
		rows, _, e = c.userRowsByKeyLocked(c.nodes[sess.Via], s.From, key)
	} else {
		rows, e = c.rowsLocked(sess, s.From, text)
	}
	if e != nil {
		return nil, e
	}
	cols := tableCols[s.From]
	if user {
		// a user table's columns: every one ever written (the simulator keeps no schema)
		seen := map[string]bool{"_id": true, "id": true}
		for k := range ut.cols {
			seen[k] = true
		}
		for _, r := range rows {
			for k := range r {
				seen[k] = true
			}
		}
		cols = nil
		for k := range seen {
			cols = append(cols, k)
		}
		sort.Strings(cols)
	}
	known := map[string]bool{}
	for _, k := range cols {
		known[k] = true
	}
	// check column names
	var check func(x sqlparse.Expr) *SQLError
	check = func(x sqlparse.Expr) *SQLError {
		switch v := x.(type) {
		case *sqlparse.ColRef:
			if !known[v.Name] {
				return sqlErr(4043, "ColumnUnknownException: Column %s unknown", v.Name)
			}
		case *sqlparse.Bin:
			if e := check(v.L); e != nil {
				return e
			}
			return check(v.R)
		case *sqlparse.In:
			return check(v.X)
		case *sqlparse.Not:
			return check(v.X)
		case *sqlparse.IsNull:
			return check(v.X)
		case *sqlparse.Func:
			for _, a := range v.Args {
				if e := check(a); e != nil {
					return e
				}
			}
		}
		return nil
	}
	for _, it := range s.Items {
		if !it.Star {
			if e := check(it.Expr); e != nil {
				return nil, e
			}
		}
	}
	if s.Where != nil {
		if e := check(s.Where); e != nil {
			return nil, e
		}
	}
	for _, g := range s.GroupBy {
		if e := check(g); e != nil {
			return nil, e
		}
	}
	var filtered []map[string]any
	for _, r := range rows {
		if s.Where != nil {
			v, e := eval(s.Where, r, args)
			if e != nil {
				return nil, e
			}
			if b, _ := v.(bool); !b {
				continue
			}
		}
		filtered = append(filtered, r)
	}
	if len(s.OrderBy) > 0 {
		var sortErr *SQLError
		sort.SliceStable(filtered, func(i, j int) bool {
			for _, o := range s.OrderBy {
				a, e1 := eval(o.Expr, filtered[i], args)
				b, e2 := eval(o.Expr, filtered[j], args)
				if e1 != nil || e2 != nil {
					sortErr = sqlErr(4000, "SQLParseException: cannot order by that expression")
					return false
				}
				cmp := compare(a, b)
				if cmp != 0 {
					if o.Desc {
						return cmp > 0
					}
					return cmp < 0
				}
			}
			return false
		})
		if sortErr != nil {
			return nil, sortErr
		}
	}
	res := &Result{Cols: []string{}, Rows: [][]any{}}
	aggregate := len(s.GroupBy) > 0
	for _, it := range s.Items {
		if isAgg(it.Expr) {
			aggregate = true
		}
	}
	if aggregate {
		return aggregateRows(s, filtered, args)
	}
	for _, it := range s.Items {
		if it.Star {
			res.Cols = append(res.Cols, cols...)
		} else {
			res.Cols = append(res.Cols, it.Label)
		}
	}
	for _, r := range filtered {
		if s.Limit >= 0 && len(res.Rows) >= s.Limit {
			break
		}
		var out []any
		for _, it := range s.Items {
			if it.Star {
				for _, k := range cols {
					out = append(out, r[k])
				}
				continue
			}
			v, e := eval(it.Expr, r, args)
			if e != nil {
				return nil, e
			}
			out = append(out, v)
		}
		res.Rows = append(res.Rows, out)
	}
	res.RowCount = int64(len(res.Rows))
	return res, nil
}

func eval(e sqlparse.Expr, row map[string]any, args []any) (any, *SQLError) {
	switch x := e.(type) {
	case *sqlparse.Lit:
		return x.V, nil
	case *sqlparse.Param:
		return param(args, x)
	case *sqlparse.ColRef:
		v := row[x.Name]
		for _, p := range x.Path {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, nil
			}
			v = m[p]
		}
		return v, nil
	case *sqlparse.Not:
		v, err := eval(x.X, row, args)
		if err != nil || v == nil {
			return nil, err
		}
		b, _ := v.(bool)
		return !b, nil
	case *sqlparse.IsNull:
		v, err := eval(x.X, row, args)
		if err != nil {
			return nil, err
		}
		return (v == nil) != x.Not, nil
	case *sqlparse.In:
		v, err := eval(x.X, row, args)
		if err != nil || v == nil {
			return nil, err
		}
		found := false
		for _, it := range x.List {
			w, err := eval(it, row, args)
			if err != nil {
				return nil, err
			}
			if w != nil && compare(v, w) == 0 {
				found = true
			}
		}
		return found != x.Not, nil
	case *sqlparse.Bin:
		l, err := eval(x.L, row, args)
		if err != nil {
			return nil, err
		}
		r, err := eval(x.R, row, args)
		if err != nil {
			return nil, err
		}
		switch x.Op {
		case "AND":
			lb, lok := l.(bool)
			rb, rok := r.(bool)
			if (lok && !lb) || (rok && !rb) {
				return false, nil
			}
			if !lok || !rok {
				return nil, nil
			}
			return true, nil
		case "OR":
			lb, _ := l.(bool)
			rb, _ := r.(bool)
			if lb || rb {
				return true, nil
			}
			if l == nil || r == nil {
				return nil, nil
			}
			return false, nil
		}
		if l == nil || r == nil {
			return nil, nil
		}
		if x.Op == "LIKE" || x.Op == "ILIKE" {
			return likeMatch(fmt.Sprint(l), fmt.Sprint(r), x.Op == "ILIKE"), nil
		}
		cmp := compare(l, r)
		switch x.Op {
		case "=":
			return cmp == 0, nil
		case "!=":
			return cmp != 0, nil
		case "<":
			return cmp < 0, nil
		case ">":
			return cmp > 0, nil
		case "<=":
			return cmp <= 0, nil
		case ">=":
			return cmp >= 0, nil
		}
	case *sqlparse.Func:
		return nil, sqlErr(4000, "SQLParseException: Unknown function: %s(...) (the simulator only knows count)", x.Name)
	}
	return nil, sqlErr(4000, "SQLParseException: unsupported expression")
}

func num(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case int32:
		return float64(n), true
	}
	return 0, false
}

// compare orders two values: numbers numerically, others as strings.
func compare(a, b any) int {
	if a == nil && b == nil {
		return 0
	}
	if a == nil {
		return -1
	}
	if b == nil {
		return 1
	}
	if x, ok := num(a); ok {
		if y, ok := num(b); ok {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	if x, ok := a.(bool); ok {
		if y, ok := b.(bool); ok {
			if x == y {
				return 0
			}
			if !x {
				return -1
			}
			return 1
		}
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

func isAgg(e sqlparse.Expr) bool {
	f, ok := e.(*sqlparse.Func)
	if !ok {
		return false
	}
	switch f.Name {
	case "count", "min", "max", "sum":
		return true
	}
	return false
}

// exprKey identifies an expression for GROUP BY / ORDER BY matching.
func exprKey(e sqlparse.Expr) string { return fmt.Sprintf("%#v", e) }

func aggValue(f *sqlparse.Func, rows []map[string]any, args []any) (any, *SQLError) {
	if f.Name == "count" && (f.Star || len(f.Args) == 0) {
		return int64(len(rows)), nil
	}
	if len(f.Args) != 1 {
		return nil, sqlErr(4000, "SQLParseException: %s() takes one argument", f.Name)
	}
	var acc any
	n := int64(0)
	for _, r := range rows {
		v, e := eval(f.Args[0], r, args)
		if e != nil {
			return nil, e
		}
		if v == nil {
			continue
		}
		n++
		switch f.Name {
		case "min":
			if acc == nil || compare(v, acc) < 0 {
				acc = v
			}
		case "max":
			if acc == nil || compare(v, acc) > 0 {
				acc = v
			}
		case "sum":
			x, ok := num(v)
			if !ok {
				return nil, sqlErr(4000, "SQLParseException: sum() needs numbers")
			}
			y, _ := num(acc)
			acc = x + y
		}
	}
	if f.Name == "count" {
		return n, nil
	}
	if f.Name == "sum" && acc != nil {
		if v := acc.(float64); v == float64(int64(v)) {
			return int64(v), nil
		}
	}
	return acc, nil
}

func aggregateRows(s *sqlparse.Select, rows []map[string]any, args []any) (*Result, *SQLError) {
	groupKeys := map[string]bool{}
	for _, g := range s.GroupBy {
		groupKeys[exprKey(g)] = true
	}
	res := &Result{Cols: []string{}, Rows: [][]any{}}
	for _, it := range s.Items {
		if it.Star {
			return nil, sqlErr(4000, "SQLParseException: '*' cannot be used with GROUP BY or aggregates")
		}
		if !isAgg(it.Expr) && !groupKeys[exprKey(it.Expr)] {
			if _, lit := it.Expr.(*sqlparse.Lit); !lit {
				return nil, sqlErr(4000, "SQLParseException: '%s' must appear in the GROUP BY clause or be used in an aggregation function", it.Label)
			}
		}
		res.Cols = append(res.Cols, it.Label)
	}
	type group struct{ rows []map[string]any }
	var order []string
	groups := map[string]*group{}
	if len(s.GroupBy) == 0 {
		order = []string{""}
		groups[""] = &group{rows: rows}
	} else {
		for _, r := range rows {
			var parts []string
			for _, g := range s.GroupBy {
				v, e := eval(g, r, args)
				if e != nil {
					return nil, e
				}
				parts = append(parts, fmt.Sprintf("%T:%v", v, v))
			}
			k := strings.Join(parts, "\x00")
			if groups[k] == nil {
				groups[k] = &group{}
				order = append(order, k)
			}
			groups[k].rows = append(groups[k].rows, r)
		}
	}
	for _, k := range order {
		g := groups[k]
		var out []any
		for _, it := range s.Items {
			if f, ok := it.Expr.(*sqlparse.Func); ok && isAgg(f) {
				v, e := aggValue(f, g.rows, args)
				if e != nil {
					return nil, e
				}
				out = append(out, v)
				continue
			}
			var first map[string]any
			if len(g.rows) > 0 {
				first = g.rows[0]
			}
			v, e := eval(it.Expr, first, args)
			if e != nil {
				return nil, e
			}
			out = append(out, v)
		}
		res.Rows = append(res.Rows, out)
	}
	if len(s.OrderBy) > 0 {
		idx := make([]int, len(s.OrderBy))
		for i, o := range s.OrderBy {
			idx[i] = -1
			for j, it := range s.Items {
				c, isCol := o.Expr.(*sqlparse.ColRef)
				if exprKey(o.Expr) == exprKey(it.Expr) || (isCol && len(c.Path) == 0 && c.Name == it.Label) {
					idx[i] = j
				}
			}
			if idx[i] < 0 {
				return nil, sqlErr(4000, "SQLParseException: ORDER BY of an aggregate query must name a selected column")
			}
		}
		sort.SliceStable(res.Rows, func(a, b int) bool {
			for i, o := range s.OrderBy {
				c := compare(res.Rows[a][idx[i]], res.Rows[b][idx[i]])
				if c != 0 {
					return (c < 0) != o.Desc
				}
			}
			return false
		})
	}
	if s.Limit >= 0 && len(res.Rows) > s.Limit {
		res.Rows = res.Rows[:s.Limit]
	}
	res.RowCount = int64(len(res.Rows))
	return res, nil
}

// likeMatch implements SQL LIKE: % any run, _ one character.
func likeMatch(v, pattern string, fold bool) bool {
	var b strings.Builder
	b.WriteString("^")
	if fold {
		b.WriteString("(?is)")
	} else {
		b.WriteString("(?s)")
	}
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteString(".")
		case '\\':
			if i+1 < len(pattern) {
				i++
				b.WriteString(regexp.QuoteMeta(string(pattern[i])))
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	return err == nil && re.MatchString(v)
}

func (c *Cluster) prematureGreenLocked() bool {
	d := time.Duration(c.cfg.PrematureGreenMs) * time.Millisecond
	return d > 0 && !c.lastJoin.IsZero() && c.now().Sub(c.lastJoin) < d
}
