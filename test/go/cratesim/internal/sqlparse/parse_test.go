package sqlparse

import "testing"

func TestDecommissionLiteralForms(t *testing.T) {
	cases := []struct {
		sql    string
		want   any // string literal value, or int param index
		dollar bool
	}{
		{`ALTER CLUSTER DECOMMISSION 'data-hot-0'`, "data-hot-0", false},
		{`alter cluster decommission 'data-hot-0';`, "data-hot-0", false},
		{`ALTER CLUSTER DECOMMISSION 'it''s'`, "it's", false},
		{`ALTER CLUSTER DECOMMISSION ?`, 1, false},
		{`ALTER CLUSTER DECOMMISSION $1`, 1, false},
		{`ALTER CLUSTER DECOMMISSION $$data-hot-0$$`, "data-hot-0", true},
		{`ALTER CLUSTER DECOMMISSION $tag$a'b$tag$`, "a'b", true},
		{"  Alter\n Cluster   DECOMMISSION 'X' ", "X", false},
	}
	for _, c := range cases {
		st, err := Parse(c.sql)
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		d, ok := st.(*Decommission)
		if !ok {
			t.Fatalf("%s: got %T", c.sql, st)
		}
		switch w := c.want.(type) {
		case string:
			l, ok := d.Node.(*Lit)
			if !ok || l.V != w {
				t.Fatalf("%s: got %#v", c.sql, d.Node)
			}
		case int:
			p, ok := d.Node.(*Param)
			if !ok || p.Idx != w {
				t.Fatalf("%s: got %#v", c.sql, d.Node)
			}
		}
		if d.DollarForm != c.dollar {
			t.Fatalf("%s: dollar=%v", c.sql, d.DollarForm)
		}
	}
	for _, bad := range []string{
		`ALTER CLUSTER DECOMMISSION data-hot-0`,
		`ALTER CLUSTER DECOMMISSION "data-hot-0"`,
		`ALTER CLUSTER DECOMMISSION 'unterminated`,
		`ALTER CLUSTER DECOMMISSION`,
		`ALTER CLUSTER DECOMMISSION 'a' 'b'`,
		`DROP TABLE x`,
	} {
		if _, err := Parse(bad); err == nil {
			t.Fatalf("%s: expected parse error", bad)
		}
	}
}

func TestSetReset(t *testing.T) {
	st, err := Parse(`set global transient "cluster.graceful_stop.min_availability"='FULL';`)
	if err != nil {
		t.Fatal(err)
	}
	s := st.(*SetGlobal)
	if s.Persistent || s.Assigns[0].Name != "cluster.graceful_stop.min_availability" || s.Assigns[0].Value.(*Lit).V != "FULL" {
		t.Fatalf("%#v", s)
	}
	st, _ = Parse(`SET GLOBAL PERSISTENT "cluster.graceful_stop.force" = true, "cluster.graceful_stop.timeout" = ?`)
	s = st.(*SetGlobal)
	if !s.Persistent || len(s.Assigns) != 2 || s.Assigns[0].Value.(*Lit).V != true {
		t.Fatalf("%#v", s)
	}
	st, err = Parse(`RESET GLOBAL cluster.routing.allocation.enable;`)
	if err != nil || st.(*ResetGlobal).Names[0] != "cluster.routing.allocation.enable" {
		t.Fatalf("%v %#v", err, st)
	}
	st, err = Parse(`RESET GLOBAL "cluster.routing.allocation.enable"`)
	if err != nil || st.(*ResetGlobal).Names[0] != "cluster.routing.allocation.enable" {
		t.Fatalf("%v %#v", err, st)
	}
}

func TestSelect(t *testing.T) {
	st, err := Parse(`SELECT id, name, node['name'] AS n, count(*) FROM sys.shards s WHERE routing_state IN ('RELOCATING', 'INITIALIZING') AND "primary" = true AND node['id'] != $2 ORDER BY id DESC LIMIT 5`)
	if err != nil {
		t.Fatal(err)
	}
	s := st.(*Select)
	if s.From != "sys.shards" || len(s.Items) != 4 || s.Items[2].Label != "n" || s.Items[3].Label != "count(*)" || s.Limit != 5 || !s.OrderBy[0].Desc {
		t.Fatalf("%#v", s)
	}
	st, err = Parse(`select settings['cluster']['routing']['allocation']['enable'] from sys.cluster`)
	if err != nil {
		t.Fatal(err)
	}
	if l := st.(*Select).Items[0].Label; l != "settings['cluster']['routing']['allocation']['enable']" {
		t.Fatal(l)
	}
	if _, err := Parse(`SELECT 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(`SELECT health FROM sys.health WHERE health <> 'GREEN' and table_name is not null`); err != nil {
		t.Fatal(err)
	}
}

func TestSessionUser(t *testing.T) {
	st, err := Parse("SELECT superuser FROM sys.users WHERE name = CURRENT_USER")
	if err != nil {
		t.Fatal(err)
	}
	w, ok := st.(*Select).Where.(*Bin)
	if !ok {
		t.Fatalf("where: %#v", st.(*Select).Where)
	}
	if u, ok := w.R.(*SessionUser); !ok || u.Name != "current_user" {
		t.Fatalf("CURRENT_USER: %#v", w.R)
	}
	st, err = Parse("SELECT user, Session_User AS s FROM doc.dual")
	if err != nil {
		t.Fatal(err)
	}
	items := st.(*Select).Items
	if _, ok := items[0].Expr.(*SessionUser); !ok || items[0].Label != "user" || items[1].Label != "s" {
		t.Fatalf("items: %#v", items)
	}
	// a subscripted or called name stays a column / function
	st, _ = Parse("SELECT user['name'], current_user() FROM t")
	items = st.(*Select).Items
	if _, ok := items[0].Expr.(*ColRef); !ok {
		t.Fatalf("user[...]: %#v", items[0].Expr)
	}
	if _, ok := items[1].Expr.(*Func); !ok {
		t.Fatalf("current_user(): %#v", items[1].Expr)
	}
}
