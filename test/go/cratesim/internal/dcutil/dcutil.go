// Package dcutil is a stand-in for crate-operator's dc_util preStop/postStart
// helper: the same flags and rules (see docs/test-cluster.md), written for the
// test cluster where pods are local processes.
package dcutil

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Label keys read from the StatefulSet.
const (
	LabelMinAvailability  = "dc-util-min-availability"
	LabelGracefulStop     = "dc-util-graceful-stop"
	LabelDisabled         = "dc-util-disabled"
	LabelNoPostStart      = "dc-util-no-poststart"
	LabelPreStopRouting   = "dc-util-pre-stop-routing-allocation"
	LabelRoutingOwner     = "dc-util-routing-owner"
	routingOwnerOperator  = "operator"
	routingOwnerTTL       = 2 * time.Hour
	defaultNodePrefix     = "data-hot"
	gracePeriodBuffer     = 120
	minimumTimeoutSeconds = 360
)

// Options are dc_util's flags plus the knobs of the simulation.
type Options struct {
	CrateNodePrefix string
	Timeout         string
	PID             int
	PIDSet          bool
	Proto           string
	Hostname        string
	MinAvailability string
	DryRun          bool
	ResetRouting    bool
	LogFile         string
	LockFile        string

	CrateURL     string        // base URL of the local node; default <proto>://127.0.0.1:4200
	Settle       time.Duration // pause before the decommission statements (real: 2 s)
	PollInterval time.Duration // process-gone and readiness polling
	ReadyTimeout time.Duration // postStart readiness wait (real: 10 min)
	Kube         *KubeClient
	Now          func() time.Time
}

// ParseFlags parses dc_util's command line exactly like the Go flag package
// does for the real binary (-x, --x, -x=v).
func ParseFlags(args []string) (Options, error) {
	o := Options{}
	fs := flag.NewFlagSet("dc_util", flag.ContinueOnError)
	fs.StringVar(&o.CrateNodePrefix, "crate-node-prefix", defaultNodePrefix, "Prefix of the CrateDB node name")
	fs.StringVar(&o.Timeout, "timeout", "7200s", "Timeout for decommission statement in seconds")
	fs.IntVar(&o.PID, "pid", 1, "PID of the process to check")
	fs.StringVar(&o.Proto, "proto", "https", "Protocol to use for the HTTP server")
	fs.StringVar(&o.Hostname, "hostname", os.Getenv("HOSTNAME"), "Hostname of the pod")
	fs.StringVar(&o.MinAvailability, "min-availability", "FULL", "Minimum availability during decommission (FULL/PRIMARIES)")
	fs.BoolVar(&o.DryRun, "dry-run", false, "Log all actions without sending SQL commands to the node")
	fs.BoolVar(&o.ResetRouting, "reset-routing", false, "PostStart hook mode: reset routing allocation if dc_util lock file exists")
	fs.StringVar(&o.LogFile, "log-file", "", "Path to log file for persistent logging (default $CDK_STATE/dc_util/<hostname>/dc_util.log)")
	fs.StringVar(&o.LockFile, "lock-file", "", "Path to lock file for tracking dc_util shutdowns (default $CDK_STATE/dc_util/<hostname>/dc_util.lock)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "pid" {
			o.PIDSet = true
		}
	})
	// The real defaults live on the pod's own volume (/resource/heapdump). Pods
	// of the test cluster share the host filesystem, so a per-hostname folder
	// under $CDK_STATE stands in for that volume.
	state := os.Getenv("CDK_STATE")
	if state == "" {
		state = "/var/lib/cdk"
	}
	podDir := filepath.Join(state, "dc_util", o.Hostname)
	if o.LogFile == "" {
		o.LogFile = filepath.Join(podDir, "dc_util.log")
	}
	if o.LockFile == "" {
		o.LockFile = filepath.Join(podDir, "dc_util.lock")
	}
	o.Settle = 2 * time.Second
	o.PollInterval = 2 * time.Second
	o.ReadyTimeout = 10 * time.Minute
	if v := os.Getenv("CDK_DC_UTIL_SETTLE"); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			o.Settle = d
		}
	}
	if v := os.Getenv("CDK_DC_UTIL_POLL"); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			o.PollInterval = d
		}
	}
	return o, nil
}

// SetupLogging writes the log to stdout and the log file.
func SetupLogging(path string) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		log.Printf("Warning: Failed to setup file logging to %s: %v", path, err)
		return
	}
	if st, err := os.Stat(path); err == nil && st.Size() > 900000 {
		os.Truncate(path, 0)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		log.Printf("Warning: Failed to setup file logging to %s: %v", path, err)
		return
	}
	log.SetOutput(io.MultiWriter(os.Stdout, f))
}

// StatefulSet holds the fields dc_util reads.
type StatefulSet struct {
	Metadata struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		Replicas *int32 `json:"replicas"`
		Template struct {
			Spec struct {
				TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds"`
				Containers                    []struct {
					Name      string `json:"name"`
					Lifecycle *struct {
						PostStart *struct {
							Exec *struct {
								Command []string `json:"command"`
							} `json:"exec"`
						} `json:"postStart"`
					} `json:"lifecycle"`
				} `json:"containers"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

// KubeClient reads StatefulSets with the pod's service-account token.
type KubeClient struct {
	Server    string
	Token     string
	Namespace string
	HTTP      *http.Client
}

// InClusterClient builds a client from the service-account folder
// ($CDK_SA_DIR, $KUBERNETES_SA_DIR or the standard path) and
// KUBERNETES_SERVICE_HOST/PORT.
func InClusterClient() (*KubeClient, error) {
	dir := "/var/run/secrets/kubernetes.io/serviceaccount"
	for _, env := range []string{"CDK_SA_DIR", "KUBERNETES_SA_DIR"} {
		if v := os.Getenv(env); v != "" {
			dir = v
			break
		}
	}
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return nil, errors.New("unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined")
	}
	token, err := os.ReadFile(filepath.Join(dir, "token"))
	if err != nil {
		return nil, err
	}
	ns, err := os.ReadFile(filepath.Join(dir, "namespace"))
	if err != nil {
		return nil, fmt.Errorf("failed to read namespace: %w", err)
	}
	ca, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("no certificates in %s", filepath.Join(dir, "ca.crt"))
	}
	return &KubeClient{
		Server:    "https://" + net.JoinHostPort(host, port),
		Token:     strings.TrimSpace(string(token)),
		Namespace: strings.TrimSpace(string(ns)),
		HTTP:      &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}},
	}, nil
}

// GetStatefulSet reads one StatefulSet of the client's namespace.
func (k *KubeClient) GetStatefulSet(name string) (*StatefulSet, error) {
	req, _ := http.NewRequest("GET", k.Server+"/apis/apps/v1/namespaces/"+k.Namespace+"/statefulsets/"+name, nil)
	req.Header.Set("Authorization", "Bearer "+k.Token)
	req.Header.Set("Accept", "application/json")
	resp, err := k.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		var st struct {
			Message string `json:"message"`
		}
		json.Unmarshal(body, &st)
		return nil, fmt.Errorf("statefulsets.apps %q: HTTP %d: %s", name, resp.StatusCode, st.Message)
	}
	var s StatefulSet
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// StatefulSetName is the hostname without its last -<ordinal>.
func StatefulSetName(hostname string) (string, error) {
	parts := strings.Split(hostname, "-")
	if len(parts) < 2 {
		return "", fmt.Errorf("invalid HOSTNAME format: %s", hostname)
	}
	return strings.Join(parts[:len(parts)-1], "-"), nil
}

// NodeName derives the CrateDB node name: with a custom prefix,
// <prefix>-<ordinal>; with the default prefix the hostname must look like
// crate-<prefix>-<cluster id ...>-<ordinal>.
func NodeName(hostname, prefix string) (string, error) {
	parts := strings.Split(hostname, "-")
	ordinal := parts[len(parts)-1]
	if prefix != "" && prefix != defaultNodePrefix {
		return prefix + "-" + ordinal, nil
	}
	want := strings.Split(prefix, "-")
	if len(parts) >= 4 && parts[0] == "crate" && len(parts) >= len(want)+2 {
		ok := true
		for i, w := range want {
			if parts[1+i] != w {
				ok = false
			}
		}
		if ok {
			return prefix + "-" + ordinal, nil
		}
	}
	return "", errors.New("malformed hostname")
}

// EffectiveTimeout: the flag when terminationGracePeriodSeconds is unset or
// 30; otherwise grace - 120 s, at least 360 s.
func EffectiveTimeout(flagTimeout string, grace *int64) (string, error) {
	d, err := time.ParseDuration(flagTimeout)
	if err != nil {
		return "", fmt.Errorf("invalid timeout format: %w", err)
	}
	if grace == nil || *grace == 30 {
		return flagTimeout, nil
	}
	eff := int(*grace) - gracePeriodBuffer
	if eff < minimumTimeoutSeconds {
		log.Printf("Calculated timeout (%ds) is below minimum, using %ds instead", eff, minimumTimeoutSeconds)
		eff = minimumTimeoutSeconds
	}
	if eff != int(d.Seconds()) {
		log.Printf("Using timeout derived from terminationGracePeriodSeconds: %ds (terminationGracePeriodSeconds=%ds, buffer=%ds) instead of flag value: %ds",
			eff, *grace, gracePeriodBuffer, int(d.Seconds()))
	}
	return fmt.Sprintf("%ds", eff), nil
}

func labelBool(labels map[string]string, key string, def bool) bool {
	v, ok := labels[key]
	if !ok {
		return def
	}
	switch strings.ToLower(v) {
	case "true":
		log.Printf("Using %s from StatefulSet label: true", key)
		return true
	case "false":
		log.Printf("Using %s from StatefulSet label: false", key)
		return false
	}
	log.Printf("Invalid value in StatefulSet label '%s': %s, using default: %v", key, v, def)
	return def
}

// MinAvailabilityFromLabels applies the dc-util-min-availability override.
func MinAvailabilityFromLabels(labels map[string]string, def string) string {
	v, ok := labels[LabelMinAvailability]
	if !ok {
		return def
	}
	switch strings.ToUpper(v) {
	case "NONE", "FULL", "PRIMARIES":
		log.Printf("Using min-availability from StatefulSet label: %s", strings.ToUpper(v))
		return strings.ToUpper(v)
	}
	log.Printf("Invalid min-availability value in StatefulSet label '%s': %s, using default: %s", LabelMinAvailability, v, def)
	return def
}

// OperatorOwnsRouting: label dc-util-routing-owner=operator-<unix secs> at
// most 2 h off now. Only the owner "operator" counts, as in dc_util.
func OperatorOwnsRouting(labels map[string]string, now time.Time) bool {
	v, ok := labels[LabelRoutingOwner]
	if !ok {
		return false
	}
	owner, ts, found := strings.Cut(v, "-")
	if !found || owner != routingOwnerOperator {
		log.Printf("Unrecognised owner in StatefulSet label '%s': %s, ignoring it", LabelRoutingOwner, v)
		return false
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		log.Printf("Malformed timestamp in StatefulSet label '%s': %s, ignoring it", LabelRoutingOwner, v)
		return false
	}
	age := now.Sub(time.Unix(secs, 0))
	if age < 0 {
		age = -age
	}
	if age > routingOwnerTTL {
		log.Printf("StatefulSet label '%s' is stale (%s off), reclaiming the routing allocation setting", LabelRoutingOwner, age.Round(time.Second))
		return false
	}
	log.Printf("Operator owns the routing allocation setting (StatefulSet label %s=%s)", LabelRoutingOwner, v)
	return true
}

// HasResetRoutingPostStart: a container's postStart exec runs dc_util with
// -reset-routing or --reset-routing.
func HasResetRoutingPostStart(s *StatefulSet) bool {
	for _, c := range s.Spec.Template.Spec.Containers {
		if c.Lifecycle == nil || c.Lifecycle.PostStart == nil || c.Lifecycle.PostStart.Exec == nil {
			continue
		}
		cmd := strings.Join(c.Lifecycle.PostStart.Exec.Command, " ")
		if !strings.Contains(cmd, "dc_util") {
			continue
		}
		for _, f := range strings.Fields(cmd) {
			f = strings.Trim(f, `"';&|`)
			if f == "-reset-routing" || f == "--reset-routing" {
				return true
			}
		}
	}
	return false
}

func (o *Options) baseURL() string {
	if o.CrateURL != "" {
		return o.CrateURL
	}
	return o.Proto + "://127.0.0.1:4200"
}

// insecure is shared by every request (no certificate check, as dc_util);
// keep-alives are off so polling leaves no idle connections behind.
var insecure = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true}

func (o *Options) httpClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: insecure}
}

// SendSQL posts one statement as `crate` (no auth) to the local node.
func (o *Options) SendSQL(stmt string) error {
	if o.DryRun {
		log.Printf("[DRY-RUN] Would send SQL statement: %s", stmt)
		log.Printf("[DRY-RUN] Would send to URL: %s/_sql", o.baseURL())
		return nil
	}
	payload, _ := json.Marshal(map[string]string{"stmt": stmt})
	log.Printf("Payload: %s", payload)
	resp, err := o.httpClient(0).Post(o.baseURL()+"/_sql", "application/json", bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("failed to make HTTP POST request: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("HTTP request failed with status: %s", resp.Status)
	}
	log.Printf("Response from server: %s", strings.TrimSpace(string(body)))
	return nil
}

func (o *Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// PreStop decommissions the local node and waits until it is gone.
func PreStop(o *Options) error {
	if o.Hostname == "" {
		return errors.New("hostname is required")
	}
	if o.Kube == nil {
		log.Println("Using in-cluster configuration")
		k, err := InClusterClient()
		if err != nil {
			return fmt.Errorf("failed to create in-cluster config: %w", err)
		}
		o.Kube = k
	}
	stsName, err := StatefulSetName(o.Hostname)
	if err != nil {
		return err
	}
	log.Printf("Parsing hostname: %s", o.Hostname)
	nodeName, err := NodeName(o.Hostname, o.CrateNodePrefix)
	if err != nil {
		return fmt.Errorf("failed to extract node name from hostname %s: %w", o.Hostname, err)
	}
	log.Printf("Extracted CrateDB node name: %s", nodeName)
	sts, err := o.Kube.GetStatefulSet(stsName)
	if err != nil {
		return fmt.Errorf("failed to get StatefulSet: %w", err)
	}
	replicas := 1
	if sts.Spec.Replicas != nil {
		replicas = int(*sts.Spec.Replicas)
	}
	log.Printf("StatefulSet has %d replicas configured", replicas)
	if replicas == 0 {
		log.Printf("No replicas are configured -- Skipping decommission")
		return nil
	}
	if replicas == 1 {
		log.Printf("Single node cluster detected (replicas=1) -- Skipping decommission")
		return nil
	}
	labels := sts.Metadata.Labels
	minAvail := MinAvailabilityFromLabels(labels, o.MinAvailability)
	force := labelBool(labels, LabelGracefulStop, true)
	if labelBool(labels, LabelDisabled, false) {
		log.Println("dc_util is disabled via StatefulSet label, exiting without performing decommission")
		return nil
	}
	if o.DryRun {
		log.Println("[DRY-RUN] Running in dry-run mode - no SQL commands will be sent")
	}
	routingSet := false
	if OperatorOwnsRouting(labels, o.now()) {
		log.Println("Operator-driven restart, leaving the routing allocation setting to the operator")
	} else if !HasResetRoutingPostStart(sts) {
		log.Println("No postStart hook with dc_util --reset-routing or -reset-routing found, skipping pre-stop routing allocation change")
	} else {
		value := "primaries"
		if v, ok := labels[LabelPreStopRouting]; ok {
			switch v {
			case "primaries", "new_primaries", "all":
				value = v
				log.Printf("Using pre-stop routing allocation from StatefulSet label: %s", v)
			default:
				log.Printf("Invalid pre-stop routing allocation value in StatefulSet label '%s': %s, using default: primaries", LabelPreStopRouting, v)
			}
		}
		routingSet = true
		log.Printf("Setting pre-stop routing allocation to: %s", value)
		if err := o.SendSQL(fmt.Sprintf(`SET GLOBAL TRANSIENT "cluster.routing.allocation.enable" = '%s';`, value)); err != nil {
			log.Printf("Warning: Failed to set pre-stop routing allocation: %v", err)
		}
	}
	if routingSet {
		if err := o.createLock(); err != nil {
			log.Printf("Warning: Failed to create lock file: %v", err)
		}
	} else {
		log.Printf("Routing allocation not changed by dc_util, skipping lock file: %s", o.LockFile)
	}
	grace := sts.Spec.Template.Spec.TerminationGracePeriodSeconds
	timeout, err := EffectiveTimeout(o.Timeout, grace)
	if err != nil {
		return fmt.Errorf("failed to calculate effective timeout: %w", err)
	}
	if grace != nil {
		log.Printf("StatefulSet terminationGracePeriodSeconds: %ds", *grace)
	} else {
		log.Printf("StatefulSet terminationGracePeriodSeconds: not set (using Kubernetes default)")
	}
	time.Sleep(o.Settle)
	log.Printf("Decommissioning node %s with graceful_stop.timeout of %s, min_availability=%s, force=%t", nodeName, timeout, minAvail, force)
	for _, stmt := range []string{
		fmt.Sprintf(`set global transient "cluster.graceful_stop.timeout" = '%s';`, timeout),
		fmt.Sprintf(`set global transient "cluster.graceful_stop.force" = %t;`, force),
		fmt.Sprintf(`set global transient "cluster.graceful_stop.min_availability"='%s';`, minAvail),
		fmt.Sprintf(`alter cluster decommission '%s'`, nodeName),
	} {
		if err := o.SendSQL(stmt); err != nil {
			return err
		}
	}
	if o.DryRun {
		log.Println("[DRY-RUN] Would have sent decommission commands successfully")
		log.Println("[DRY-RUN] Dry-run completed successfully")
		return nil
	}
	log.Println("Decommission command sent successfully")
	o.waitGone()
	return nil
}

// waitGone waits, like the real dc_util, until the process -pid (default 1:
// the container's main process, CrateDB, in the container's own PID
// namespace, which the process kubelet gives each container) is gone,
// checking every 2 s and without limit: the kubelet's grace period ends it
// (observed on CrateDB 6.4.3). When CrateDB exits, its namespace ends and
// the kernel kills this hook with it, as in Kubernetes.
func (o *Options) waitGone() {
	n := 0
	for syscall.Kill(o.PID, 0) == nil {
		if n%10 == 0 {
			log.Printf("Process %d is still running (check count: %d)", o.PID, n)
		}
		n++
		time.Sleep(o.PollInterval)
	}
	log.Printf("Process %d has stopped", o.PID)
}

func (o *Options) createLock() error {
	if o.DryRun {
		log.Printf("[DRY-RUN] Would create lock file: %s", o.LockFile)
		return nil
	}
	log.Printf("Creating lock file: %s", o.LockFile)
	if err := os.MkdirAll(filepath.Dir(o.LockFile), 0o755); err != nil {
		return err
	}
	return os.WriteFile(o.LockFile, []byte(fmt.Sprintf("dc_util lock created at: %s\n", time.Now().Format(time.RFC3339))), 0o644)
}

func (o *Options) removeLock() {
	if o.DryRun {
		log.Printf("[DRY-RUN] Would remove lock file: %s", o.LockFile)
		return
	}
	if err := os.Remove(o.LockFile); err != nil {
		if os.IsNotExist(err) {
			log.Printf("Lock file %s does not exist (already removed)", o.LockFile)
			return
		}
		log.Printf("Warning: Failed to remove lock file: %v", err)
		return
	}
	log.Printf("Removed lock file: %s", o.LockFile)
}

// PostStartResetRouting resets cluster.routing.allocation.enable when this
// pod's preStop changed it (lock file) and the operator does not own it.
// Every failure is logged and the pod start allowed (nil).
func PostStartResetRouting(o *Options) error {
	log.Printf("Starting reset-routing mode for hostname: %s", o.Hostname)
	if o.Kube == nil {
		log.Println("Using in-cluster configuration")
		k, err := InClusterClient()
		if err != nil {
			log.Printf("Failed to create in-cluster config: %v - allowing pod startup", err)
			return nil
		}
		o.Kube = k
	}
	stsName, err := StatefulSetName(o.Hostname)
	if err != nil {
		log.Printf("%v - allowing pod startup", err)
		return nil
	}
	sts, err := o.Kube.GetStatefulSet(stsName)
	if err != nil {
		log.Printf("Failed to get StatefulSet: %v - allowing pod startup", err)
		return nil
	}
	if _, err := os.Stat(o.LockFile); err != nil {
		log.Println("No lock file found, normal startup, exiting")
		return nil
	}
	if OperatorOwnsRouting(sts.Metadata.Labels, o.now()) {
		log.Println("Operator owns the routing allocation setting, skipping reset and keeping the lock file")
		return nil
	}
	if sts.Spec.Replicas == nil || *sts.Spec.Replicas <= 1 {
		log.Printf("StatefulSet has at most 1 replica, removing lock file and exiting")
		o.removeLock()
		return nil
	}
	if labelBool(sts.Metadata.Labels, LabelNoPostStart, false) {
		log.Println("PostStart is disabled via StatefulSet label, exiting")
		return nil
	}
	log.Printf("Lock file found at %s, proceeding with routing allocation reset", o.LockFile)
	// dc_util's postStart ignores -proto and always uses https
	if o.CrateURL == "" && o.Proto != "https" {
		log.Printf("Note: -proto %s is ignored in reset-routing mode (dc_util always uses https here)", o.Proto)
		o.Proto = "https"
	}
	if err := o.waitReady(); err != nil {
		log.Printf("Cluster readiness check failed: %v - allowing pod startup", err)
		o.removeLock()
		return nil
	}
	log.Printf("Executing routing allocation reset (single attempt)")
	if err := o.SendSQL(`RESET GLOBAL cluster.routing.allocation.enable;`); err != nil {
		log.Printf("Failed to reset routing allocation: %v", err)
		o.removeLock()
		return nil
	}
	log.Println("Routing allocation reset completed successfully")
	o.removeLock()
	log.Println("Reset-routing completed")
	return nil
}

func (o *Options) waitReady() error {
	if o.DryRun {
		log.Printf("[DRY-RUN] Would wait for cluster readiness (timeout: %v)", o.ReadyTimeout)
		return nil
	}
	log.Printf("Waiting for cluster readiness (timeout: %v)...", o.ReadyTimeout)
	deadline := time.Now().Add(o.ReadyTimeout)
	for attempt := 1; time.Now().Before(deadline); attempt++ {
		resp, err := o.httpClient(10*time.Second).Post(o.baseURL()+"/_sql", "application/json", strings.NewReader(`{"stmt": "SELECT 1"}`))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				log.Printf("Cluster is ready after %d attempts", attempt)
				return nil
			}
		}
		time.Sleep(o.PollInterval)
	}
	return fmt.Errorf("timeout waiting for cluster readiness after %v", o.ReadyTimeout)
}
