// crate-sim simulates CrateDB clusters for the test cluster:
//
//	crate-sim coordinator --socket PATH   hold every cluster's state
//	crate-sim node [-Ckey=value ...]      one CrateDB node (a pod's crate container)
//	crate-sim ctl VERB ...                the control API for shell scripts
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"cratesim/internal/server"
	"cratesim/internal/sim"
)

func defaultSocket() string {
	if s := os.Getenv("CDK_CRATE_SIM_SOCKET"); s != "" {
		return s
	}
	state := os.Getenv("CDK_STATE")
	if state == "" {
		state = "/var/lib/cdk"
	}
	return filepath.Join(state, "crate-sim.sock")
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "coordinator":
		fs := flag.NewFlagSet("coordinator", flag.ExitOnError)
		socket := fs.String("socket", defaultSocket(), "unix socket of the control API")
		tick := fs.Duration("tick", 100*time.Millisecond, "allocator tick")
		fs.Parse(os.Args[2:])
		co := server.NewCoordinator()
		co.Tick = *tick
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		defer stop()
		if err := co.ListenAndServe(ctx, *socket); err != nil {
			fmt.Fprintln(os.Stderr, "crate-sim coordinator:", err)
			os.Exit(1)
		}
		os.Remove(*socket)
	case "node":
		os.Exit(server.RunNode(server.ParseNodeArgs(os.Args[2:])))
	case "ctl":
		os.Exit(ctl(os.Args[2:]))
	default:
		usage()
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  crate-sim coordinator [--socket PATH] [--tick 100ms]
  crate-sim node [-Cnode.name=N] [-Ccluster.name=C] [-Ckey=value ...]
      env: HOSTNAME, CDK_CRATE_SIM_SOCKET (default $CDK_STATE/crate-sim.sock),
           CRATE_SIM_LISTEN (default 0.0.0.0:4200), CRATE_SIM_PUBLISH_HOST,
           CRATE_SIM_LOCAL_ADDRS (addresses counted as the node's own loopback)
  crate-sim ctl [--socket PATH] VERB ...
      clusters
      get CLUSTER
      create-table CLUSTER [SCHEMA.]TABLE SHARDS REPLICAS [PARTITION ...] [--shard-bytes SIZE]
                                    (SIZE: bytes in every copy of each shard, e.g. 4000000000 or 40gb)
      copied CLUSTER [--reset]      (JSON: file bytes copied by recoveries per reason and node,
                                     operation-based recovery count, recoveries in flight)
      copy-scale CLUSTER FACTOR     (recoveries copy at indices.recovery.max_bytes_per_sec x FACTOR)
      config CLUSTER JSON
      invariants CLUSTER            (exit 1 when an unintended violation exists)
      reset CLUSTER
      delete CLUSTER [--force]      (exit 1 while nodes are joined; --force disconnects them)
      sql CLUSTER STMT [ARGS_JSON]  (as crate through the master, no auth)
      lose-primary CLUSTER TABLE [SHARD]
      restore CLUSTER TABLE
      wait-nodes CLUSTER N [TIMEOUT]
      wait-health CLUSTER GREEN|YELLOW|RED [TIMEOUT]
      jobs CLUSTER                  (running statements: requests in flight, held ones)
      hold CLUSTER VIA [ON,ON...] [DURATION] [STMT]
                                    (a long-running read coordinated by VIA with parts on ON:
                                     an active request on each until released; prints its id)
      release CLUSTER JOB_ID
      leak CLUSTER NODE [COUNT]     (decrement NODE's active-request counter COUNT times, default 5,
                                     as that many retried reads do on CrateDB 6.4.3)
`)
	os.Exit(2)
}

func ctl(args []string) int {
	fs := flag.NewFlagSet("ctl", flag.ExitOnError)
	socket := fs.String("socket", defaultSocket(), "unix socket of the control API")
	fs.Parse(args)
	a := fs.Args()
	if len(a) < 1 {
		usage()
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", *socket)
		},
	}}
	call := func(method, path string, body any) (int, []byte, error) {
		var rd io.Reader
		if body != nil {
			switch b := body.(type) {
			case []byte:
				rd = bytes.NewReader(b)
			default:
				j, _ := json.Marshal(b)
				rd = bytes.NewReader(j)
			}
		}
		req, _ := http.NewRequest(method, "http://coordinator"+path, rd)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b, nil
	}
	need := func(n int) {
		if len(a) < n {
			usage()
		}
	}
	out := func(code int, b []byte, err error) int {
		if err != nil {
			fmt.Fprintln(os.Stderr, "crate-sim ctl:", err)
			return 1
		}
		os.Stdout.Write(b)
		if code >= 300 {
			return 1
		}
		return 0
	}
	cl := func(i int) string { return "/clusters/" + url.PathEscape(a[i]) }
	timeoutArg := func(i int) time.Duration {
		if len(a) > i {
			if d, err := time.ParseDuration(a[i]); err == nil {
				return d
			}
		}
		return 120 * time.Second
	}
	switch a[0] {
	case "clusters":
		return out(call("GET", "/clusters", nil))
	case "get":
		need(2)
		return out(call("GET", cl(1), nil))
	case "create-table":
		var shardBytes int64
		var rest []string
		for i := 0; i < len(a); i++ {
			v, isFlag := "", false
			switch {
			case a[i] == "--shard-bytes" || a[i] == "-shard-bytes":
				if i+1 >= len(a) {
					fmt.Fprintln(os.Stderr, "crate-sim ctl: --shard-bytes needs a value")
					return 2
				}
				v, isFlag = a[i+1], true
				i++
			case strings.HasPrefix(a[i], "--shard-bytes="):
				v, isFlag = strings.TrimPrefix(a[i], "--shard-bytes="), true
			}
			if !isFlag {
				rest = append(rest, a[i])
				continue
			}
			b, err := sim.ParseByteSize(v)
			if err != nil {
				fmt.Fprintf(os.Stderr, "crate-sim ctl: --shard-bytes: %v\n", err)
				return 2
			}
			shardBytes = b
		}
		a = rest
		need(5)
		schema, name := "doc", a[2]
		if s, n, ok := strings.Cut(a[2], "."); ok {
			schema, name = s, n
		}
		shards, err1 := strconv.Atoi(a[3])
		replicas, err2 := strconv.Atoi(a[4])
		if err1 != nil || err2 != nil {
			fmt.Fprintln(os.Stderr, "crate-sim ctl: SHARDS and REPLICAS must be integers")
			return 2
		}
		return out(call("POST", cl(1)+"/tables", map[string]any{"schema": schema, "name": name, "shards": shards, "replicas": replicas, "partitions": a[5:], "shardBytes": shardBytes}))
	case "copied":
		need(2)
		if len(a) > 2 && a[2] == "--reset" {
			return out(call("POST", cl(1)+"/copied/reset", nil))
		}
		return out(call("GET", cl(1)+"/copied", nil))
	case "copy-scale":
		need(3)
		f, err := strconv.ParseFloat(a[2], 64)
		if err != nil || f <= 0 {
			fmt.Fprintln(os.Stderr, "crate-sim ctl: copy-scale needs a factor > 0")
			return 2
		}
		return out(call("POST", cl(1)+"/config", map[string]any{"copyScale": f}))
	case "config":
		need(3)
		return out(call("POST", cl(1)+"/config", []byte(a[2])))
	case "invariants":
		need(2)
		code, b, err := call("GET", cl(1)+"/invariants", nil)
		if rc := out(code, b, err); rc != 0 {
			return rc
		}
		var v struct {
			OK bool `json:"ok"`
		}
		json.Unmarshal(b, &v)
		if !v.OK {
			return 1
		}
		return 0
	case "sql":
		need(3)
		body := map[string]any{"stmt": a[2]}
		if len(a) > 3 {
			var args []any
			if err := json.Unmarshal([]byte(a[3]), &args); err != nil {
				fmt.Fprintln(os.Stderr, "crate-sim ctl sql: ARGS must be a JSON array:", err)
				return 2
			}
			body["args"] = args
		}
		return out(call("POST", cl(1)+"/sql", body))
	case "reset":
		need(2)
		return out(call("POST", cl(1)+"/reset", nil))
	case "delete":
		need(2)
		path := cl(1)
		for _, f := range a[2:] {
			switch f {
			case "--force", "-force", "-f", "--force=true", "-force=true":
				path = cl(1) + "?force=true"
			default:
				usage()
			}
		}
		return out(call("DELETE", path, nil))
	case "lose-primary":
		need(3)
		body := map[string]any{}
		if len(a) > 3 {
			n, _ := strconv.Atoi(a[3])
			body["shard"] = n
		}
		return out(call("POST", cl(1)+"/tables/"+url.PathEscape(a[2])+"/lose-primary", body))
	case "restore":
		need(3)
		return out(call("POST", cl(1)+"/tables/"+url.PathEscape(a[2])+"/restore", nil))
	case "jobs":
		need(2)
		return out(call("GET", cl(1)+"/jobs", nil))
	case "hold":
		need(3)
		body := map[string]any{"via": a[2]}
		if len(a) > 3 && a[3] != "" && a[3] != "-" {
			body["on"] = strings.Split(a[3], ",")
		}
		if len(a) > 4 && a[4] != "" && a[4] != "0" {
			d, err := time.ParseDuration(a[4])
			if err != nil {
				fmt.Fprintln(os.Stderr, "crate-sim ctl hold: DURATION:", err)
				return 2
			}
			body["ms"] = d.Milliseconds()
		}
		if len(a) > 5 {
			body["stmt"] = a[5]
		}
		return out(call("POST", cl(1)+"/hold", body))
	case "release":
		need(3)
		return out(call("DELETE", cl(1)+"/hold/"+url.PathEscape(a[2]), nil))
	case "leak":
		need(3)
		count := 5
		if len(a) > 3 {
			n, err := strconv.Atoi(a[3])
			if err != nil || n < 1 {
				fmt.Fprintln(os.Stderr, "crate-sim ctl leak: COUNT must be a positive number")
				return 2
			}
			count = n
		}
		return out(call("POST", cl(1)+"/nodes/"+url.PathEscape(a[2])+"/leak", map[string]any{"count": count}))
	case "wait-nodes", "wait-health":
		need(3)
		deadline := time.Now().Add(timeoutArg(3))
		for {
			_, b, err := call("GET", cl(1), nil)
			if err == nil {
				var st struct {
					Nodes  []any  `json:"nodes"`
					Health string `json:"health"`
				}
				json.Unmarshal(b, &st)
				if a[0] == "wait-nodes" && strconv.Itoa(len(st.Nodes)) == a[2] {
					return 0
				}
				if a[0] == "wait-health" && strings.EqualFold(st.Health, a[2]) {
					return 0
				}
			}
			if time.Now().After(deadline) {
				fmt.Fprintf(os.Stderr, "crate-sim ctl: %s %s %s: timed out\n", a[0], a[1], a[2])
				return 1
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	usage()
	return 2
}
