package sqlparse

import (
	"strconv"
	"strings"
)

// Stmt is one parsed statement: *Select, *SetGlobal, *ResetGlobal,
// *Decommission or *NoOp.
type Stmt interface{ stmt() }

// Expr is a value expression.
type Expr interface{ expr() }

type (
	// ColRef is a column with optional object subscripts: node['name'].
	ColRef struct {
		Name string
		Path []string
	}
	// Lit is a literal: string, float64, int64, bool or nil.
	Lit struct{ V any }
	// Param is a ? (Idx counted in order) or $n placeholder; Idx is 1-based.
	Param struct{ Idx int }
	// Bin is a binary operator: = != < > <= >= AND OR.
	Bin struct {
		Op   string
		L, R Expr
	}
	// In is x [NOT] IN (list).
	In struct {
		X    Expr
		List []Expr
		Not  bool
	}
	// Not is NOT x.
	Not struct{ X Expr }
	// IsNull is x IS [NOT] NULL.
	IsNull struct {
		X   Expr
		Not bool
	}
	// Func is a function call; only count(*) / count(x) are evaluated.
	Func struct {
		Name string
		Args []Expr
		Star bool
	}
	// SessionUser is CURRENT_USER, SESSION_USER or USER (no parentheses):
	// the authenticated user of the request. Name is the lower-cased keyword.
	SessionUser struct{ Name string }
)

func (*ColRef) expr()      {}
func (*Lit) expr()         {}
func (*Param) expr()       {}
func (*Bin) expr()         {}
func (*In) expr()          {}
func (*Not) expr()         {}
func (*IsNull) expr()      {}
func (*Func) expr()        {}
func (*SessionUser) expr() {}

// SelItem is one entry of a select list.
type SelItem struct {
	Star  bool
	Expr  Expr
	Label string // output column name
}

// Order is one ORDER BY term.
type Order struct {
	Expr Expr
	Desc bool
}

// Select is SELECT items [FROM schema.table] [WHERE] [ORDER BY] [LIMIT].
type Select struct {
	Items   []SelItem
	From    string // "sys.nodes"; "" when no FROM
	Where   Expr
	GroupBy []Expr
	OrderBy []Order
	Limit   int // -1 when absent
}

// Assign is one name = value of SET GLOBAL.
type Assign struct {
	Name  string
	Value Expr
}

// SetGlobal is SET GLOBAL [TRANSIENT|PERSISTENT] a = v, ...
type SetGlobal struct {
	Persistent bool
	Assigns    []Assign
}

// ResetGlobal is RESET GLOBAL a, b.
type ResetGlobal struct{ Names []string }

// Decommission is ALTER CLUSTER DECOMMISSION <node>.
type Decommission struct {
	Node       Expr
	DollarForm bool // the literal used $$dollar$$ quoting
}

// NoOp is a statement accepted and ignored (session SET, BEGIN, COMMIT,
// REFRESH TABLE).
type NoOp struct{ Verb string }

// Insert is INSERT INTO schema.table (cols) VALUES (...), (...).
type Insert struct {
	Table string // "doc.t" when unqualified
	Cols  []string
	Rows  [][]Expr
}

func (*Select) stmt()       {}
func (*SetGlobal) stmt()    {}
func (*ResetGlobal) stmt()  {}
func (*Decommission) stmt() {}
func (*NoOp) stmt()         {}
func (*Insert) stmt()       {}

type parser struct {
	toks   []token
	i      int
	nextQ  int // count of '?' seen
	source string
}

// Parse parses one statement (a trailing ';' is allowed).
func Parse(sql string) (Stmt, error) {
	toks, err := lex(sql)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, source: sql}
	st, err := p.statement()
	if err != nil {
		return nil, err
	}
	for p.peekSym(";") {
		p.i++
	}
	if p.cur().kind != tEOF {
		return nil, p.mismatch()
	}
	return st, nil
}

func (p *parser) cur() token { return p.toks[p.i] }

func (p *parser) mismatch() error {
	t := p.cur()
	if t.kind == tEOF {
		return errf("line 1:%d: mismatched input '<EOF>'", t.pos+1)
	}
	return errf("line 1:%d: mismatched input '%s'", t.pos+1, t.raw)
}

func (p *parser) peekKw(kw string) bool {
	t := p.cur()
	return t.kind == tIdent && t.text == kw
}

func (p *parser) acceptKw(kw string) bool {
	if p.peekKw(kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectKw(kw string) error {
	if !p.acceptKw(kw) {
		return p.mismatch()
	}
	return nil
}

func (t token) isSym(s string) bool { return t.kind == tSym && t.text == s }

func (p *parser) peekSym(s string) bool {
	t := p.cur()
	return t.kind == tSym && t.text == s
}

func (p *parser) acceptSym(s string) bool {
	if p.peekSym(s) {
		p.i++
		return true
	}
	return false
}

func (p *parser) statement() (Stmt, error) {
	switch {
	case p.acceptKw("select"):
		return p.selectStmt()
	case p.acceptKw("set"):
		if p.acceptKw("global") {
			return p.setGlobal()
		}
		// session settings (SET search_path TO ..., SET SESSION ...): accepted, ignored
		p.i = len(p.toks) - 1
		return &NoOp{Verb: "SET"}, nil
	case p.acceptKw("reset"):
		if err := p.expectKw("global"); err != nil {
			return nil, err
		}
		var names []string
		for {
			n, err := p.settingName()
			if err != nil {
				return nil, err
			}
			names = append(names, n)
			if !p.acceptSym(",") {
				break
			}
		}
		return &ResetGlobal{Names: names}, nil
	case p.acceptKw("alter"):
		if err := p.expectKw("cluster"); err != nil {
			return nil, err
		}
		if err := p.expectKw("decommission"); err != nil {
			return nil, err
		}
		t := p.cur()
		switch t.kind {
		case tString:
			p.i++
			return &Decommission{Node: &Lit{V: t.text}, DollarForm: strings.HasPrefix(t.raw, "$")}, nil
		case tParam:
			e, _ := p.primary()
			return &Decommission{Node: e}, nil
		}
		return nil, p.mismatch()
	case p.acceptKw("insert"):
		return p.insertStmt()
	case p.acceptKw("refresh"):
		if err := p.expectKw("table"); err != nil {
			return nil, err
		}
		p.i = len(p.toks) - 1
		return &NoOp{Verb: "REFRESH"}, nil
	case p.acceptKw("begin"), p.acceptKw("commit"), p.acceptKw("end"):
		p.i = len(p.toks) - 1
		return &NoOp{Verb: "BEGIN"}, nil
	}
	return nil, p.mismatch()
}

// settingName reads "a.b.c" or a.b.c.
func (p *parser) settingName() (string, error) {
	t := p.cur()
	if t.kind == tQIdent {
		p.i++
		return t.text, nil
	}
	if t.kind != tIdent {
		return "", p.mismatch()
	}
	parts := []string{t.text}
	p.i++
	for p.acceptSym(".") {
		t = p.cur()
		if t.kind != tIdent && t.kind != tQIdent {
			return "", p.mismatch()
		}
		parts = append(parts, t.text)
		p.i++
	}
	return strings.Join(parts, "."), nil
}

func (p *parser) setGlobal() (Stmt, error) {
	st := &SetGlobal{}
	if p.acceptKw("persistent") {
		st.Persistent = true
	} else {
		p.acceptKw("transient")
	}
	for {
		name, err := p.settingName()
		if err != nil {
			return nil, err
		}
		if !p.acceptSym("=") && !p.acceptKw("to") {
			return nil, p.mismatch()
		}
		var v Expr
		if t := p.cur(); t.kind == tIdent && t.text != "true" && t.text != "false" && t.text != "null" {
			p.i++ // bare word value: SET GLOBAL "x" = primaries
			v = &Lit{V: t.raw}
		} else {
			v, err = p.primary()
			if err != nil {
				return nil, err
			}
		}
		st.Assigns = append(st.Assigns, Assign{Name: name, Value: v})
		if !p.acceptSym(",") {
			break
		}
	}
	return st, nil
}

func (p *parser) selectStmt() (Stmt, error) {
	st := &Select{Limit: -1}
	for {
		startTok := p.i
		if p.acceptSym("*") {
			st.Items = append(st.Items, SelItem{Star: true})
		} else {
			e, err := p.expression()
			if err != nil {
				return nil, err
			}
			label := p.rawBetween(startTok, p.i)
			if c, ok := e.(*ColRef); ok {
				label = colLabel(c)
			}
			if u, ok := e.(*SessionUser); ok {
				label = u.Name
			}
			if p.acceptKw("as") {
				t := p.cur()
				if t.kind != tIdent && t.kind != tQIdent {
					return nil, p.mismatch()
				}
				label = t.text
				p.i++
			} else if t := p.cur(); t.kind == tQIdent || (t.kind == tIdent && !isReserved(t.text)) {
				label = t.text
				p.i++
			}
			st.Items = append(st.Items, SelItem{Expr: e, Label: label})
		}
		if !p.acceptSym(",") {
			break
		}
	}
	if p.acceptKw("from") {
		var parts []string
		for {
			t := p.cur()
			if t.kind != tIdent && t.kind != tQIdent {
				return nil, p.mismatch()
			}
			parts = append(parts, t.text)
			p.i++
			if !p.acceptSym(".") {
				break
			}
		}
		st.From = strings.Join(parts, ".")
		if !strings.Contains(st.From, ".") {
			st.From = "doc." + st.From
		}
		// optional alias
		if p.acceptKw("as") || (p.cur().kind == tIdent && !isReserved(p.cur().text)) {
			p.i++
		}
	}
	if p.acceptKw("where") {
		w, err := p.expression()
		if err != nil {
			return nil, err
		}
		st.Where = w
	}
	if p.acceptKw("group") {
		if err := p.expectKw("by"); err != nil {
			return nil, err
		}
		for {
			e, err := p.expression()
			if err != nil {
				return nil, err
			}
			st.GroupBy = append(st.GroupBy, e)
			if !p.acceptSym(",") {
				break
			}
		}
	}
	if p.acceptKw("order") {
		if err := p.expectKw("by"); err != nil {
			return nil, err
		}
		for {
			e, err := p.expression()
			if err != nil {
				return nil, err
			}
			o := Order{Expr: e}
			if p.acceptKw("desc") {
				o.Desc = true
			} else {
				p.acceptKw("asc")
			}
			st.OrderBy = append(st.OrderBy, o)
			if !p.acceptSym(",") {
				break
			}
		}
	}
	if p.acceptKw("limit") {
		t := p.cur()
		if t.kind != tNumber {
			return nil, p.mismatch()
		}
		n, _ := strconv.Atoi(t.text)
		st.Limit = n
		p.i++
	}
	return st, nil
}

// tableName reads schema.table (doc. when unqualified).
func (p *parser) tableName() (string, error) {
	var parts []string
	for {
		t := p.cur()
		if t.kind != tIdent && t.kind != tQIdent {
			return "", p.mismatch()
		}
		parts = append(parts, t.text)
		p.i++
		if !p.acceptSym(".") {
			break
		}
	}
	name := strings.Join(parts, ".")
	if !strings.Contains(name, ".") {
		name = "doc." + name
	}
	return name, nil
}

func (p *parser) insertStmt() (Stmt, error) {
	if err := p.expectKw("into"); err != nil {
		return nil, err
	}
	name, err := p.tableName()
	if err != nil {
		return nil, err
	}
	st := &Insert{Table: name}
	if !p.acceptSym("(") {
		return nil, p.mismatch()
	}
	for {
		t := p.cur()
		if t.kind != tIdent && t.kind != tQIdent {
			return nil, p.mismatch()
		}
		st.Cols = append(st.Cols, t.text)
		p.i++
		if !p.acceptSym(",") {
			break
		}
	}
	if !p.acceptSym(")") {
		return nil, p.mismatch()
	}
	if err := p.expectKw("values"); err != nil {
		return nil, err
	}
	for {
		if !p.acceptSym("(") {
			return nil, p.mismatch()
		}
		var row []Expr
		for {
			e, err := p.primary()
			if err != nil {
				return nil, err
			}
			row = append(row, e)
			if !p.acceptSym(",") {
				break
			}
		}
		if !p.acceptSym(")") {
			return nil, p.mismatch()
		}
		if len(row) != len(st.Cols) {
			return nil, errf("INSERT: %d values for %d columns", len(row), len(st.Cols))
		}
		st.Rows = append(st.Rows, row)
		if !p.acceptSym(",") {
			break
		}
	}
	return st, nil
}

func isReserved(w string) bool {
	switch w {
	case "from", "where", "order", "limit", "as", "and", "or", "not", "in", "is", "by", "asc", "desc", "group", "having", "like", "ilike":
		return true
	}
	return false
}

func (p *parser) rawBetween(a, b int) string {
	if b <= a {
		return ""
	}
	start := p.toks[a].pos
	end := p.toks[b].pos
	if b-1 >= 0 {
		last := p.toks[b-1]
		end = last.pos + len(last.raw)
	}
	return strings.TrimSpace(p.source[start:end])
}

func colLabel(c *ColRef) string {
	var b strings.Builder
	b.WriteString(c.Name)
	for _, s := range c.Path {
		b.WriteString("['" + s + "']")
	}
	return b.String()
}

// expression: or-expression
func (p *parser) expression() (Expr, error) { return p.orExpr() }

func (p *parser) orExpr() (Expr, error) {
	l, err := p.andExpr()
	if err != nil {
		return nil, err
	}
	for p.acceptKw("or") {
		r, err := p.andExpr()
		if err != nil {
			return nil, err
		}
		l = &Bin{Op: "OR", L: l, R: r}
	}
	return l, nil
}

func (p *parser) andExpr() (Expr, error) {
	l, err := p.notExpr()
	if err != nil {
		return nil, err
	}
	for p.acceptKw("and") {
		r, err := p.notExpr()
		if err != nil {
			return nil, err
		}
		l = &Bin{Op: "AND", L: l, R: r}
	}
	return l, nil
}

func (p *parser) notExpr() (Expr, error) {
	if p.acceptKw("not") {
		x, err := p.notExpr()
		if err != nil {
			return nil, err
		}
		return &Not{X: x}, nil
	}
	return p.comparison()
}

func (p *parser) comparison() (Expr, error) {
	l, err := p.primary()
	if err != nil {
		return nil, err
	}
	t := p.cur()
	if t.kind == tSym {
		switch t.text {
		case "=", "!=", "<>", "<", ">", "<=", ">=":
			p.i++
			r, err := p.primary()
			if err != nil {
				return nil, err
			}
			op := t.text
			if op == "<>" {
				op = "!="
			}
			return &Bin{Op: op, L: l, R: r}, nil
		}
	}
	not := false
	if p.peekKw("not") && p.toks[p.i+1].kind == tIdent && p.toks[p.i+1].text == "in" {
		p.i++
		not = true
	}
	if p.acceptKw("in") {
		if !p.acceptSym("(") {
			return nil, p.mismatch()
		}
		in := &In{X: l, Not: not}
		for {
			e, err := p.primary()
			if err != nil {
				return nil, err
			}
			in.List = append(in.List, e)
			if !p.acceptSym(",") {
				break
			}
		}
		if !p.acceptSym(")") {
			return nil, p.mismatch()
		}
		return in, nil
	}
	if p.peekKw("like") || p.peekKw("ilike") || (not && (p.peekKw("like") || p.peekKw("ilike"))) {
		op := strings.ToUpper(p.cur().text)
		p.i++
		r, err := p.primary()
		if err != nil {
			return nil, err
		}
		var e Expr = &Bin{Op: op, L: l, R: r}
		if not {
			e = &Not{X: e}
		}
		return e, nil
	}
	if p.peekKw("not") && (p.toks[p.i+1].text == "like" || p.toks[p.i+1].text == "ilike") && p.toks[p.i+1].kind == tIdent {
		p.i++
		op := strings.ToUpper(p.cur().text)
		p.i++
		r, err := p.primary()
		if err != nil {
			return nil, err
		}
		return &Not{X: &Bin{Op: op, L: l, R: r}}, nil
	}
	if p.acceptKw("is") {
		n := p.acceptKw("not")
		if err := p.expectKw("null"); err != nil {
			return nil, err
		}
		return &IsNull{X: l, Not: n}, nil
	}
	return l, nil
}

func (p *parser) primary() (Expr, error) {
	t := p.cur()
	switch t.kind {
	case tString:
		p.i++
		return p.castSuffix(&Lit{V: t.text})
	case tNumber:
		p.i++
		if strings.Contains(t.text, ".") {
			f, _ := strconv.ParseFloat(t.text, 64)
			return &Lit{V: f}, nil
		}
		n, _ := strconv.ParseInt(t.text, 10, 64)
		return p.castSuffix(&Lit{V: n})
	case tParam:
		p.i++
		if t.num == 0 {
			p.nextQ++
			return &Param{Idx: p.nextQ}, nil
		}
		return &Param{Idx: t.num}, nil
	case tSym:
		if t.text == "(" {
			p.i++
			e, err := p.expression()
			if err != nil {
				return nil, err
			}
			if !p.acceptSym(")") {
				return nil, p.mismatch()
			}
			return e, nil
		}
		if t.text == "-" && p.toks[p.i+1].kind == tNumber {
			p.i++
			e, err := p.primary()
			if err != nil {
				return nil, err
			}
			switch v := e.(*Lit).V.(type) {
			case int64:
				return &Lit{V: -v}, nil
			case float64:
				return &Lit{V: -v}, nil
			}
		}
	case tIdent, tQIdent:
		if t.kind == tIdent {
			switch t.text {
			case "true":
				p.i++
				return &Lit{V: true}, nil
			case "false":
				p.i++
				return &Lit{V: false}, nil
			case "null":
				p.i++
				return &Lit{V: nil}, nil
			case "current_user", "session_user", "user":
				// CrateDB's system information functions, written without parentheses
				if !p.toks[p.i+1].isSym("(") && !p.toks[p.i+1].isSym(".") && !p.toks[p.i+1].isSym("[") {
					p.i++
					return &SessionUser{Name: t.text}, nil
				}
			}
		}
		p.i++
		if t.kind == tIdent && p.peekSym("(") {
			p.i++
			f := &Func{Name: t.text}
			if p.acceptSym("*") {
				f.Star = true
			} else if !p.peekSym(")") {
				for {
					e, err := p.expression()
					if err != nil {
						return nil, err
					}
					f.Args = append(f.Args, e)
					if !p.acceptSym(",") {
						break
					}
				}
			}
			if !p.acceptSym(")") {
				return nil, p.mismatch()
			}
			return f, nil
		}
		c := &ColRef{Name: t.text}
		// table-qualified column: x.col
		if p.peekSym(".") && (p.toks[p.i+1].kind == tIdent || p.toks[p.i+1].kind == tQIdent) {
			p.i++
			c.Name = p.cur().text
			p.i++
		}
		for p.acceptSym("[") {
			s := p.cur()
			if s.kind != tString {
				return nil, p.mismatch()
			}
			p.i++
			if !p.acceptSym("]") {
				return nil, p.mismatch()
			}
			c.Path = append(c.Path, s.text)
		}
		return p.castSuffix(c)
	}
	return nil, p.mismatch()
}

// castSuffix skips a PostgreSQL-style ::type cast.
func (p *parser) castSuffix(e Expr) (Expr, error) {
	if p.acceptSym("::") {
		if p.cur().kind != tIdent {
			return nil, p.mismatch()
		}
		p.i++
	}
	return e, nil
}
