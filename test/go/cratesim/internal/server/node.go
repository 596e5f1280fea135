package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"cratesim/internal/sim"
)

// NodeOptions are the inputs of `crate-sim node`.
type NodeOptions struct {
	Settings    map[string]string // -Ckey=value
	Hostname    string
	Socket      string
	Listen      string
	PublishHost string
	LocalAddrs  []net.IP // addresses counted as the node's own loopback
	Log         *log.Logger
}

// ParseNodeArgs reads -Ckey=value arguments (unknown ones are kept, others ignored)
// and the environment.
func ParseNodeArgs(args []string) NodeOptions {
	o := NodeOptions{Settings: map[string]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-C") {
			continue
		}
		kv := strings.TrimPrefix(a, "-C")
		if kv == "" && i+1 < len(args) {
			i++
			kv = args[i]
		}
		k, v, ok := strings.Cut(kv, "=")
		if ok {
			o.Settings[k] = v
		}
	}
	o.Hostname = os.Getenv("HOSTNAME")
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
	}
	for k, v := range o.Settings {
		o.Settings[k] = expandHostname(v, o.Hostname)
	}
	o.Socket = os.Getenv("CDK_CRATE_SIM_SOCKET")
	if o.Socket == "" {
		state := os.Getenv("CDK_STATE")
		if state == "" {
			state = "/var/lib/cdk"
		}
		o.Socket = filepath.Join(state, "crate-sim.sock")
	}
	o.Listen = os.Getenv("CRATE_SIM_LISTEN")
	if o.Listen == "" {
		o.Listen = "0.0.0.0:4200"
	}
	o.PublishHost = os.Getenv("CRATE_SIM_PUBLISH_HOST")
	if v := os.Getenv("CRATE_SIM_LOCAL_ADDRS"); v != "" {
		for _, s := range strings.Split(v, ",") {
			if ip := net.ParseIP(strings.TrimSpace(s)); ip != nil {
				o.LocalAddrs = append(o.LocalAddrs, ip)
			}
		}
	}
	o.Log = log.New(os.Stderr, "", log.LstdFlags|log.Lmicroseconds)
	return o
}

var hostnameSubst = regexp.MustCompile(`\$\(hostname[^)]*\)`)

// expandHostname does what the image's shell entrypoint does for
// crate-operator's -Cnode.name=data-hot-$(hostname | awk -F- '{print $NF}'):
// a $(hostname ...) piped through awk's $NF gives the ordinal, a plain
// $(hostname) the pod name.
func expandHostname(v, hostname string) string {
	return hostnameSubst.ReplaceAllStringFunc(v, func(m string) string {
		if strings.Contains(m, "$NF") {
			parts := strings.Split(hostname, "-")
			return parts[len(parts)-1]
		}
		return hostname
	})
}

// hbaEntries reads auth.host_based.config.<n>.<field> in the order of n.
func hbaEntries(settings map[string]string) []sim.HBAEntry {
	byN := map[int]*sim.HBAEntry{}
	for k, v := range settings {
		rest, ok := strings.CutPrefix(k, "auth.host_based.config.")
		if !ok {
			continue
		}
		ns, field, ok := strings.Cut(rest, ".")
		n, err := strconv.Atoi(ns)
		if !ok || err != nil {
			continue
		}
		e := byN[n]
		if e == nil {
			e = &sim.HBAEntry{}
			byN[n] = e
		}
		switch field {
		case "user":
			e.User = v
		case "address":
			e.Address = v
		case "method":
			e.Method = v
		case "protocol":
			e.Protocol = v
		case "ssl":
			e.SSL = v
		}
	}
	if len(byN) == 0 {
		return nil
	}
	var keys []int
	for n := range byN {
		keys = append(keys, n)
	}
	sort.Ints(keys)
	out := make([]sim.HBAEntry, 0, len(keys))
	for _, n := range keys {
		out = append(out, *byN[n])
	}
	return out
}

// isLocal: the request comes from the node's own loopback (or a configured
// address standing in for it).
func (o NodeOptions) isLocal(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	if len(o.LocalAddrs) > 0 {
		for _, l := range o.LocalAddrs {
			if l.Equal(ip) {
				return true
			}
		}
		return false
	}
	return ip.Equal(net.IPv4(127, 0, 0, 1)) || ip.Equal(net.IPv6loopback)
}

func unixClient(socket string, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
	}}
}

// publishIP picks the pod IP: the listen address when specific, else the
// first non-loopback IPv4 of this network namespace.
func publishIP(listen string) string {
	host, _, _ := net.SplitHostPort(listen)
	if host != "" && host != "0.0.0.0" && host != "::" {
		return host
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
			return ipn.IP.String()
		}
	}
	return "127.0.0.1"
}

// RunNode runs a simulated CrateDB node until it is told to exit; it returns
// the process exit code.
func RunNode(o NodeOptions) int {
	lg := o.Log
	cluster := o.Settings["cluster.name"]
	if cluster == "" {
		cluster = "crate"
	}
	name := o.Settings["node.name"]
	if name == "" {
		name = o.Hostname
	}
	hbaDisabled := strings.EqualFold(o.Settings["auth.host_based.enabled"], "false")
	useTLS := strings.EqualFold(o.Settings["ssl.http.enabled"], "true")
	pub := o.PublishHost
	if pub == "" {
		pub = publishIP(o.Listen)
	}
	_, port, _ := net.SplitHostPort(o.Listen)
	scheme := "http"
	if useTLS {
		scheme = "https"
	}
	restURL := scheme + "://" + net.JoinHostPort(pub, port)
	bootBytes := make([]byte, 8)
	rand.Read(bootBytes)
	bootID := hex.EncodeToString(bootBytes)
	attrs := map[string]string{}
	for k, v := range o.Settings {
		if strings.HasPrefix(k, "node.attr.") {
			attrs[strings.TrimPrefix(k, "node.attr.")] = v
		}
	}

	// join, retrying while the coordinator is not there or the old incarnation is still a member
	stream := unixClient(o.Socket, 0)
	body, _ := json.Marshal(map[string]any{"name": name, "hostname": o.Hostname, "restUrl": restURL, "attributes": attrs, "bootId": bootID,
		"version": os.Getenv("CRATE_SIM_VERSION"), "noMaster": strings.EqualFold(o.Settings["node.master"], "false"), "noData": strings.EqualFold(o.Settings["node.data"], "false")})
	joinURL := "http://coordinator/clusters/" + url.PathEscape(cluster) + "/join"
	var resp *http.Response
	var err error
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err = stream.Post(joinURL, "application/json", bytes.NewReader(body))
		if err == nil && resp.StatusCode == 200 {
			break
		}
		why := fmt.Sprint(err)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			why = fmt.Sprintf("HTTP %d %s", resp.StatusCode, strings.TrimSpace(string(b)))
		}
		if time.Now().After(deadline) {
			lg.Printf("[%s] cannot join cluster %s through %s: %s", name, cluster, o.Socket, why)
			return 1
		}
		lg.Printf("[%s] join of cluster %s failed (%s), retrying", name, cluster, why)
		time.Sleep(500 * time.Millisecond)
	}
	rd := bufio.NewReader(resp.Body)
	first, err := rd.ReadBytes('\n')
	var jl JoinLine
	if err != nil || json.Unmarshal(first, &jl) != nil {
		lg.Printf("[%s] bad join answer: %v", name, err)
		return 1
	}
	lg.Printf("[%s] joined cluster %s as %s, serving %s on %s", name, cluster, jl.ID, scheme, o.Listen)

	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		lg.Printf("[%s] cannot bind %s: %v", name, o.Listen, err)
		resp.Body.Close() // leaving the join stream = leaving the cluster
		return 1
	}
	if useTLS {
		cert, err := selfSigned(pub)
		if err != nil {
			lg.Printf("[%s] TLS: %v", name, err)
			resp.Body.Close()
			return 1
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}})
	}

	ctl := unixClient(o.Socket, 0)
	nodeBase := "http://coordinator/clusters/" + url.PathEscape(cluster) + "/nodes/" + url.PathEscape(jl.ID)
	h := &nodeHandler{o: o, name: name, cluster: cluster, id: jl.ID, bootID: bootID, version: jl.Version, hbaDisabled: hbaDisabled,
		hba: hbaEntries(o.Settings), tls: useTLS, ctl: ctl, base: nodeBase}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second}
	go srv.Serve(ln)

	exit := make(chan int, 2)
	go func() {
		for {
			line, err := rd.ReadBytes('\n')
			if err != nil {
				lg.Printf("[%s] lost the connection to the coordinator: %v", name, err)
				exit <- 1
				return
			}
			var ev struct {
				Event string `json:"event"`
				Code  int    `json:"code"`
				Why   string `json:"why"`
			}
			if json.Unmarshal(line, &ev) == nil && ev.Event == "exit" {
				lg.Printf("[%s] stopping: %s (exit code %d)", name, ev.Why, ev.Code)
				exit <- ev.Code
				return
			}
		}
	}()
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	var code int
	select {
	case code = <-exit:
	case s := <-sig:
		lg.Printf("[%s] %v received without a decommission: leaving the cluster now", name, s)
		b, _ := json.Marshal(map[string]string{"bootId": bootID, "cause": fmt.Sprintf("stopped by %v without decommission", s)})
		if r, err := ctl.Post(nodeBase+"/leave", "application/json", bytes.NewReader(b)); err == nil {
			r.Body.Close()
		}
		code = 128 + int(s.(syscall.Signal))
	}
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	srv.Shutdown(ctx)
	cancel()
	resp.Body.Close()
	return code
}

type nodeHandler struct {
	o           NodeOptions
	name        string
	cluster     string
	id          string
	bootID      string
	version     string
	hbaDisabled bool
	hba         []sim.HBAEntry
	tls         bool
	ctl         *http.Client
	base        string
}

func (h *nodeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/" && (r.Method == "GET" || r.Method == "HEAD"):
		writeJSON(w, 200, map[string]any{
			"ok": true, "status": 200, "name": h.name, "cluster_name": h.cluster,
			"version": map[string]any{"number": h.version, "build_hash": "crate-sim", "build_snapshot": false, "es_version": "8.0.0", "lucene_version": "9.0.0"},
			"sim":     map[string]any{"node_id": h.id, "boot_id": h.bootID, "pid": os.Getpid()},
		})
	case r.URL.Path == "/_sql" && r.Method == "POST":
		h.sql(w, r)
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(404)
		fmt.Fprintf(w, `{"error":{"message":"No handler found for uri [%s] and method [%s]","code":4040}}`+"\n", r.URL.Path, r.Method)
	}
}

func (h *nodeHandler) sql(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Stmt     string  `json:"stmt"`
		Args     []any   `json:"args"`
		BulkArgs [][]any `json:"bulk_args"`
	}
	raw, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(raw, &in); err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": "SQLParseException: Failed to parse source [" + string(raw) + "]", "code": 4000}})
		w.Write(b)
		return
	}
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	req := SQLRequest{BootID: h.bootID, Local: h.o.isLocal(r.RemoteAddr), Remote: host, Authorization: r.Header.Get("Authorization"),
		HBADisabled: h.hbaDisabled, HBA: h.hba, TLS: h.tls, Stmt: in.Stmt, Args: in.Args, BulkArgs: in.BulkArgs}
	b, _ := json.Marshal(req)
	cr, err := h.ctl.Post(h.base+"/sql", "application/json", bytes.NewReader(b))
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(503)
		fmt.Fprintf(w, `{"error":{"message":"NodeDisconnectedException[[%s] disconnected]","code":5032}}`+"\n", h.name)
		return
	}
	defer cr.Body.Close()
	var out SQLResponse
	if err := json.NewDecoder(cr.Body).Decode(&out); err != nil {
		w.WriteHeader(500)
		return
	}
	if out.Drop {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	if out.Text != "" {
		// plain text: a failed login (401), a draining node's refusal (500)
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		if out.Status == 401 {
			w.Header().Set("WWW-Authenticate", `Basic realm="CrateDB Authenticator"`)
		}
		w.WriteHeader(out.Status)
		io.WriteString(w, out.Text)
		if out.Status == 401 {
			io.WriteString(w, "\n")
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(out.Status)
	w.Write(out.Body)
}

func selfSigned(host string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "crate-sim"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * 365 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
