// Package server runs the simulator's processes: the coordinator (control API
// and node protocol over a unix socket) and the per-pod CrateDB node.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"cratesim/internal/sim"
)

// Coordinator serves the control API and the node protocol.
type Coordinator struct {
	Reg  *sim.Registry
	Tick time.Duration
	Log  *log.Logger
}

// NewCoordinator makes a coordinator with a 100 ms allocator tick.
func NewCoordinator() *Coordinator {
	return &Coordinator{Reg: sim.NewRegistry(time.Now), Tick: 100 * time.Millisecond, Log: log.New(os.Stderr, "crate-sim: ", log.LstdFlags|log.Lmicroseconds)}
}

// Run ticks the allocator until ctx ends.
func (co *Coordinator) Run(ctx context.Context) {
	t := time.NewTicker(co.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			co.Reg.StepAll(now)
		}
	}
}

// ListenAndServe serves on a unix socket until ctx ends.
func (co *Coordinator) ListenAndServe(ctx context.Context, socket string) error {
	_ = os.Remove(socket)
	l, err := net.Listen("unix", socket)
	if err != nil {
		return err
	}
	os.Chmod(socket, 0o666)
	srv := &http.Server{Handler: co.Handler()}
	go co.Run(ctx)
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	co.Log.Printf("coordinator listening on %s", socket)
	err = srv.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, format string, a ...any) {
	writeJSON(w, status, map[string]any{"error": fmt.Sprintf(format, a...)})
}

// Handler returns the HTTP routes.
func (co *Coordinator) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"ok": true, "clusters": co.Reg.Names()})
	})
	mux.HandleFunc("GET /clusters", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, co.Reg.Names())
	})
	mux.HandleFunc("GET /clusters/{name}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, co.Reg.Get(r.PathValue("name")).Snapshot())
	})
	// Delete a cluster with its state and history: 409 while nodes are joined,
	// unless ?force=true, which disconnects them (their processes exit 1).
	mux.HandleFunc("DELETE /clusters/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		force := false
		if q := r.URL.Query().Get("force"); q != "" {
			var err error
			if force, err = strconv.ParseBool(q); err != nil {
				writeErr(w, 400, "force must be true or false, got %q", q)
				return
			}
		}
		nodes, err := co.Reg.Delete(name, force)
		var busy *sim.BusyError
		switch {
		case errors.Is(err, sim.ErrNoCluster):
			writeErr(w, 404, "no cluster %s", name)
			return
		case errors.As(err, &busy):
			writeJSON(w, 409, map[string]any{"error": fmt.Sprintf("cluster %s: %v", name, err), "nodes": busy.Nodes})
			return
		case err != nil:
			writeErr(w, 500, "%v", err)
			return
		}
		if len(nodes) > 0 {
			co.Log.Printf("cluster %s: deleted with force, disconnected %v", name, nodes)
		} else {
			co.Log.Printf("cluster %s: deleted", name)
		}
		writeJSON(w, 200, map[string]any{"deleted": name, "disconnected": nodes})
	})
	mux.HandleFunc("POST /clusters/{name}/tables", func(w http.ResponseWriter, r *http.Request) {
		var t sim.Table
		if err := json.NewDecoder(r.Body).Decode(&t); err != nil {
			writeErr(w, 400, "bad table JSON: %v", err)
			return
		}
		if err := co.Reg.Get(r.PathValue("name")).CreateTable(t); err != nil {
			writeErr(w, 409, "%v", err)
			return
		}
		writeJSON(w, 201, map[string]any{"created": t})
	})
	mux.HandleFunc("POST /clusters/{name}/tables/{table}/lose-primary", func(w http.ResponseWriter, r *http.Request) {
		body := struct {
			Shard *int `json:"shard"`
		}{}
		json.NewDecoder(r.Body).Decode(&body)
		shard := -1
		if q := r.URL.Query().Get("shard"); q != "" {
			shard, _ = strconv.Atoi(q)
		}
		if body.Shard != nil {
			shard = *body.Shard
		}
		if err := co.Reg.Get(r.PathValue("name")).LosePrimary(r.PathValue("table"), shard); err != nil {
			writeErr(w, 404, "%v", err)
			return
		}
		writeJSON(w, 200, map[string]any{"lost": r.PathValue("table"), "shard": shard})
	})
	mux.HandleFunc("POST /clusters/{name}/tables/{table}/restore", func(w http.ResponseWriter, r *http.Request) {
		co.Reg.Get(r.PathValue("name")).Restore(r.PathValue("table"))
		writeJSON(w, 200, map[string]any{"restored": r.PathValue("table")})
	})
	mux.HandleFunc("GET /clusters/{name}/config", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, co.Reg.Get(r.PathValue("name")).Config())
	})
	mux.HandleFunc("POST /clusters/{name}/config", func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var err error
		c := co.Reg.Get(r.PathValue("name"))
		c.UpdateConfig(func(cfg *sim.Config) {
			next := *cfg
			if err = json.Unmarshal(raw, &next); err == nil {
				switch next.DecommissionResponse {
				case "immediate", "after-wait", "drop":
				case "":
					next.DecommissionResponse = "immediate"
				default:
					err = fmt.Errorf("decommissionResponse must be immediate, after-wait or drop")
					return
				}
				if next.CopyScale < 0 || next.RetentionLeaseMs < 0 {
					err = fmt.Errorf("copyScale and retentionLeaseMs must not be negative")
					return
				}
				if next.CopyScale == 0 {
					next.CopyScale = 1
				}
				*cfg = next
			}
		})
		if err != nil {
			writeErr(w, 400, "bad config: %v", err)
			return
		}
		writeJSON(w, 200, c.Config())
	})
	mux.HandleFunc("GET /clusters/{name}/invariants", func(w http.ResponseWriter, r *http.Request) {
		c := co.Reg.Get(r.PathValue("name"))
		v := c.Violations()
		unintended := 0
		for _, x := range v {
			if !x.Intentional {
				unintended++
			}
		}
		writeJSON(w, 200, map[string]any{"ok": unintended == 0, "violations": v, "unintended": unintended, "warnings": c.Warnings()})
	})
	mux.HandleFunc("GET /clusters/{name}/copied", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, co.Reg.Get(r.PathValue("name")).CopiedStats())
	})
	mux.HandleFunc("POST /clusters/{name}/copied/reset", func(w http.ResponseWriter, r *http.Request) {
		c := co.Reg.Get(r.PathValue("name"))
		c.ResetCopied()
		writeJSON(w, 200, c.CopiedStats())
	})
	mux.HandleFunc("POST /clusters/{name}/reset", func(w http.ResponseWriter, r *http.Request) {
		co.Reg.Get(r.PathValue("name")).Reset()
		writeJSON(w, 200, map[string]any{"reset": r.PathValue("name")})
	})
	// SQL as `crate` for tests and demos, through the master (or any node that
	// accepts SQL), bypassing host-based auth.
	mux.HandleFunc("POST /clusters/{name}/sql", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Stmt string `json:"stmt"`
			Args []any  `json:"args"`
			Via  string `json:"via"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeErr(w, 400, "bad sql request: %v", err)
			return
		}
		c := co.Reg.Get(r.PathValue("name"))
		via := c.SQLNode(req.Via)
		if via == "" {
			writeErr(w, 503, "no node of cluster %s accepts SQL", c.Name)
			return
		}
		res, _, e := c.Exec(sim.Session{Via: via, User: sim.User{Name: "crate", Superuser: true}}, req.Stmt, normalizeArgs(req.Args), nil)
		if e != nil && e.Plain {
			w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
			w.WriteHeader(e.HTTPStatus())
			io.WriteString(w, e.Message+"\n")
			return
		}
		if e != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(e.HTTPStatus())
			w.Write(errorBody(e))
			return
		}
		writeJSON(w, 200, res)
	})
	// Running statements (HTTP requests in flight and held ones), per node.
	mux.HandleFunc("GET /clusters/{name}/jobs", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, co.Reg.Get(r.PathValue("name")).Jobs())
	})
	// Hold a long-running statement: it counts as an active request on its
	// coordinator and on every node it has a part on until released.
	mux.HandleFunc("POST /clusters/{name}/hold", func(w http.ResponseWriter, r *http.Request) {
		var h sim.HoldRequest
		if err := json.NewDecoder(r.Body).Decode(&h); err != nil {
			writeErr(w, 400, "bad hold request: %v", err)
			return
		}
		j, err := co.Reg.Get(r.PathValue("name")).Hold(h)
		if err != nil {
			writeErr(w, 404, "%v", err)
			return
		}
		writeJSON(w, 201, j)
	})
	mux.HandleFunc("DELETE /clusters/{name}/hold/{job}", func(w http.ResponseWriter, r *http.Request) {
		if !co.Reg.Get(r.PathValue("name")).Release(r.PathValue("job")) {
			writeErr(w, 404, "no held statement %s", r.PathValue("job"))
			return
		}
		writeJSON(w, 200, map[string]any{"released": r.PathValue("job")})
	})
	// Leak the node's active-request counter (as count retried reads would).
	mux.HandleFunc("POST /clusters/{name}/nodes/{id}/leak", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Count int `json:"count"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		c := co.Reg.Lookup(r.PathValue("name"))
		if c == nil {
			writeErr(w, 404, "no cluster %s", r.PathValue("name"))
			return
		}
		active, err := c.Leak(r.PathValue("id"), body.Count)
		if err != nil {
			writeErr(w, 404, "%v", err)
			return
		}
		writeJSON(w, 200, map[string]any{"node": r.PathValue("id"), "activeRequests": active})
	})
	mux.HandleFunc("POST /clusters/{name}/join", co.join)
	mux.HandleFunc("POST /clusters/{name}/nodes/{id}/leave", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			BootID string `json:"bootId"`
			Cause  string `json:"cause"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		c := co.Reg.Lookup(r.PathValue("name")) // a deleted cluster is not re-created
		var n *sim.Node
		if c != nil {
			n = c.NodeByID(r.PathValue("id"))
		}
		if n == nil || n.BootID != body.BootID {
			writeJSON(w, 200, map[string]any{"left": false})
			return
		}
		writeJSON(w, 200, map[string]any{"left": c.LeaveIfSame(n, body.Cause)})
	})
	mux.HandleFunc("POST /clusters/{name}/nodes/{id}/sql", co.sql)
	return mux
}

// JoinLine is the first line of the join stream.
type JoinLine struct {
	Event   string `json:"event"`
	ID      string `json:"id"`
	Cluster string `json:"cluster"`
	Version string `json:"version"`
}

// join registers a node and keeps the response open; its end means the node
// is gone.
func (co *Coordinator) join(w http.ResponseWriter, r *http.Request) {
	var jr sim.JoinRequest
	if err := json.NewDecoder(r.Body).Decode(&jr); err != nil || jr.Name == "" {
		writeErr(w, 400, "bad join request: %v", err)
		return
	}
	c := co.Reg.Get(r.PathValue("name"))
	if d := c.Config().StartDelayMs; d > 0 {
		select {
		case <-time.After(time.Duration(d) * time.Millisecond):
		case <-r.Context().Done():
			return
		}
	}
	n, err := c.Join(jr)
	if err != nil {
		writeErr(w, 409, "%v", err)
		return
	}
	co.Log.Printf("cluster %s: node %s (%s, %s) joined", c.Name, n.Name, n.ID, n.RestURL)
	fl, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(200)
	enc := json.NewEncoder(w)
	enc.Encode(JoinLine{Event: "joined", ID: n.ID, Cluster: c.Name, Version: c.NodeVersion(n)})
	if fl != nil {
		fl.Flush()
	}
	ping := time.NewTicker(time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			if c.LeaveIfSame(n, "connection to the coordinator lost (process died or was killed)") {
				co.Log.Printf("cluster %s: node %s lost its connection: counted as died", c.Name, n.Name)
			}
			return
		case <-n.Gone():
			co.Log.Printf("cluster %s: node %s disconnected (cluster deleted)", c.Name, n.Name)
			return
		case ev := <-n.Events:
			enc.Encode(ev)
			if fl != nil {
				fl.Flush()
			}
		case <-ping.C:
			if _, err := w.Write([]byte("{\"event\":\"ping\"}\n")); err != nil {
				c.LeaveIfSame(n, "connection to the coordinator lost (write failed)")
				return
			}
			if fl != nil {
				fl.Flush()
			}
		}
	}
}

// SQLRequest is what a node forwards for each /_sql call.
type SQLRequest struct {
	BootID        string         `json:"bootId"`
	Local         bool           `json:"local"`
	Remote        string         `json:"remote"`
	Authorization string         `json:"authorization"`
	HBADisabled   bool           `json:"hbaDisabled"`
	HBA           []sim.HBAEntry `json:"hba,omitempty"`
	TLS           bool           `json:"tls"`
	Stmt          string         `json:"stmt"`
	Args          []any          `json:"args"`
	BulkArgs      [][]any        `json:"bulk_args"`
}

// SQLResponse tells the node what to answer.
type SQLResponse struct {
	Status int             `json:"status"`
	Text   string          `json:"text,omitempty"` // plain-text body (401 login failure)
	Body   json.RawMessage `json:"body,omitempty"`
	Drop   bool            `json:"drop,omitempty"` // close the connection without an answer
}

// answerOf: error JSON, or the plain-text body of a refusal.
func answerOf(e *sim.SQLError) SQLResponse {
	if e.Plain {
		return SQLResponse{Status: e.HTTPStatus(), Text: e.Message}
	}
	return SQLResponse{Status: e.HTTPStatus(), Body: errorBody(e)}
}

func errorBody(e *sim.SQLError) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": e.Message, "code": e.Code}})
	return b
}

func (co *Coordinator) sql(w http.ResponseWriter, r *http.Request) {
	var req SQLRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeErr(w, 400, "bad sql request: %v", err)
		return
	}
	c := co.Reg.Lookup(r.PathValue("name")) // a deleted cluster is not re-created
	var n *sim.Node
	if c != nil {
		n = c.NodeByID(r.PathValue("id"))
	}
	if n == nil || n.BootID != req.BootID {
		e := &sim.SQLError{Code: 5032, Message: "NodeNotConnectedException: this node is not a member of the cluster"}
		writeJSON(w, 200, SQLResponse{Status: e.HTTPStatus(), Body: errorBody(e)})
		return
	}
	user, aerr := c.Authenticate(sim.AuthRequest{Local: req.Local, Remote: req.Remote, Authorization: req.Authorization, TLS: req.TLS, HBADisabled: req.HBADisabled, HBA: req.HBA})
	if aerr != nil {
		writeJSON(w, 200, SQLResponse{Status: 401, Text: aerr.Message})
		return
	}
	// Admitted now (a draining node refuses: HTTP 500, plain text), the
	// request counts as active on its node until it answers.
	job, refused := c.BeginRequest(n.ID, req.Stmt, user.Name)
	if refused != nil {
		writeJSON(w, 200, answerOf(refused))
		return
	}
	defer c.EndRequest(job)
	cfg := c.Config()
	if cfg.SQLDelayMs > 0 {
		time.Sleep(time.Duration(cfg.SQLDelayMs) * time.Millisecond)
	}
	if req.Stmt == "" {
		e := &sim.SQLError{Code: 4000, Message: "SQLParseException: Missing \"stmt\" in request body"}
		writeJSON(w, 200, SQLResponse{Status: 400, Body: errorBody(e)})
		return
	}
	args := normalizeArgs(req.Args)
	var bulk [][]any
	if req.BulkArgs != nil {
		bulk = make([][]any, len(req.BulkArgs))
		for i, b := range req.BulkArgs {
			bulk[i] = normalizeArgs(b)
		}
	}
	res, decom, e := c.Exec(sim.Session{Via: n.ID, User: user, Job: job}, req.Stmt, args, bulk)
	if e != nil {
		writeJSON(w, 200, answerOf(e))
		return
	}
	if decom != nil {
		co.Log.Printf("cluster %s: ALTER CLUSTER DECOMMISSION via %s (answer: %s)", c.Name, n.Name, cfg.DecommissionResponse)
		switch cfg.DecommissionResponse {
		case "drop":
			writeJSON(w, 200, SQLResponse{Drop: true})
			return
		case "after-wait":
			select {
			case <-decom.Done():
			case <-r.Context().Done():
				return
			}
			if err := decom.Err(); err != nil {
				e := &sim.SQLError{Code: 5000, Message: "SQLActionException: " + err.Error()}
				writeJSON(w, 200, SQLResponse{Status: 500, Body: errorBody(e)})
				return
			}
		}
	}
	b, _ := json.Marshal(res)
	writeJSON(w, 200, SQLResponse{Status: 200, Body: b})
}

// normalizeArgs turns JSON numbers into int64 when integral.
func normalizeArgs(in []any) []any {
	out := make([]any, len(in))
	for i, v := range in {
		if f, ok := v.(float64); ok && f == float64(int64(f)) {
			out[i] = int64(f)
			continue
		}
		out[i] = v
	}
	return out
}
