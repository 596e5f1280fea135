// Command kubelet is the test cluster's process kubelet: it registers one
// Node and runs the pods bound to it as local processes in per-pod network
// namespaces (see docs/test-cluster.md, "Process kubelet").
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
)

type config struct {
	kubeconfig   string
	nodeName     string
	nodeIP       string
	port         int
	bridge       string
	bridgeCIDR   string
	prefixLen    int
	firstIP      string
	lastIP       string
	state        string
	cache        string
	repo         string
	imagesPath   string
	cpu          string
	memory       string
	maxPods      string
	heartbeat    time.Duration
	backoff      time.Duration
	cleanupNetns bool
	taints       string
}

type kubelet struct {
	cfg     config
	client  kubernetes.Interface
	ipam    *ipam
	images  *imageMap
	caData  []byte
	bootID  string
	started time.Time
	ctx     context.Context

	mu       sync.Mutex
	workers  map[types.UID]*podWorker
	finished map[types.UID]bool
	hosts    map[types.UID]*hostsEntry
	hostsMu  sync.Mutex
	wg       sync.WaitGroup
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == nsexecArg {
		nsexecMain()
		return
	}
	klog.InitFlags(nil)
	var cfg config
	state := envOr("CDK_STATE", "/var/lib/cdk")
	home, _ := os.UserHomeDir()
	flag.StringVar(&cfg.state, "state-dir", state, "cluster state folder ($CDK_STATE)")
	flag.StringVar(&cfg.cache, "cache-dir", envOr("CDK_CACHE", filepath.Join(home, ".cache/crate-decommission")), "build cache ($CDK_CACHE)")
	flag.StringVar(&cfg.repo, "repo", os.Getenv("REPO"), "repository root ($REPO in images.json)")
	flag.StringVar(&cfg.kubeconfig, "kubeconfig", "", "kubeconfig (default $CDK_STATE/kubeconfig)")
	flag.StringVar(&cfg.imagesPath, "images", "", "image map (default $REPO/test/cluster/images.json)")
	flag.StringVar(&cfg.nodeName, "node-name", "cdk-node-1", "Node name")
	flag.StringVar(&cfg.nodeIP, "node-ip", "10.88.0.1", "InternalIP and the HTTPS bind address")
	flag.IntVar(&cfg.port, "port", 10250, "HTTPS port")
	flag.StringVar(&cfg.bridge, "bridge", "cdk0", "bridge for the pod veths")
	flag.StringVar(&cfg.bridgeCIDR, "bridge-cidr", "10.88.0.1/16", "bridge address, created when the bridge is missing")
	flag.IntVar(&cfg.prefixLen, "pod-prefix-len", 16, "prefix length of pod addresses")
	flag.StringVar(&cfg.firstIP, "first-pod-ip", "10.88.1.10", "first pod IP")
	flag.StringVar(&cfg.lastIP, "last-pod-ip", "10.88.255.254", "last pod IP")
	flag.StringVar(&cfg.cpu, "cpu", "64", "cpu capacity")
	flag.StringVar(&cfg.memory, "memory", "256Gi", "memory capacity")
	flag.StringVar(&cfg.maxPods, "max-pods", "250", "pods capacity")
	flag.DurationVar(&cfg.heartbeat, "heartbeat", 10*time.Second, "Lease and Ready condition renewal period")
	flag.DurationVar(&cfg.backoff, "restart-backoff", time.Second, "flat delay before a container restart")
	flag.BoolVar(&cfg.cleanupNetns, "cleanup-netns", true, "on start, kill the processes of every cdk-* netns and remove it (false for a second kubelet on the same host)")
	flag.StringVar(&cfg.taints, "register-with-taints", "", "taints for a new Node, key=value:Effect[,...]")
	flag.Parse()
	if cfg.kubeconfig == "" {
		cfg.kubeconfig = filepath.Join(cfg.state, "kubeconfig")
	}
	if cfg.repo == "" {
		exe, _ := os.Executable()
		_ = exe
		if wd, err := os.Getwd(); err == nil {
			cfg.repo = wd
		}
	}
	if cfg.imagesPath == "" {
		cfg.imagesPath = filepath.Join(cfg.repo, "test/cluster/images.json")
	}
	if err := run(cfg); err != nil {
		klog.Errorf("%v", err)
		klog.Flush()
		os.Exit(1)
	}
	klog.Flush()
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(cfg config) error {
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()

	restCfg, err := clientcmd.BuildConfigFromFlags("", cfg.kubeconfig)
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	restCfg.QPS, restCfg.Burst = 100, 200
	restCfg.UserAgent = "cdk-kubelet/" + cfg.nodeName
	client, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return err
	}
	caData := restCfg.CAData
	if len(caData) == 0 && restCfg.CAFile != "" {
		if caData, err = os.ReadFile(restCfg.CAFile); err != nil {
			return err
		}
	}
	images, err := loadImages(cfg.imagesPath, map[string]string{"REPO": cfg.repo, "CDK_CACHE": cfg.cache, "CDK_STATE": cfg.state})
	if err != nil {
		return fmt.Errorf("images: %w", err)
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	k := &kubelet{
		cfg: cfg, client: client, images: images, caData: caData,
		ipam:     newIPAM(cfg.firstIP, cfg.lastIP),
		bootID:   hex.EncodeToString(b),
		started:  time.Now(),
		ctx:      ctx,
		workers:  map[types.UID]*podWorker{},
		finished: map[types.UID]bool{},
	}
	for _, d := range []string{"pods", "volumes", "bin"} {
		if err := os.MkdirAll(filepath.Join(cfg.state, d), 0o755); err != nil {
			return err
		}
	}
	k.ipam.persist(filepath.Join(cfg.state, "kubelet-ipam-next"))
	if err := ensureBridge(cfg.bridge, cfg.bridgeCIDR); err != nil {
		return err
	}
	// Bind first: a second kubelet for the same node fails here, before it
	// could kill the running one's pods.
	srv, err := k.serveHTTPS()
	if err != nil {
		return err
	}
	if n := killStateProcs(cfg.state); n > 0 {
		klog.Infof("killed %d pod processes left by an earlier kubelet", n)
	}
	if cfg.cleanupNetns {
		cleanupStaleNetns()
	}
	// Register (retrying while the apiserver comes up), then clean up.
	for {
		if err = k.registerNode(ctx); err == nil {
			break
		}
		klog.Warningf("register node: %v (retrying)", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
	if err := k.failStalePods(ctx); err != nil {
		klog.Warningf("stale pods: %v", err)
	}
	go k.heartbeat(ctx)
	k.watchPods(ctx)
	klog.Infof("node %s running; kubelet API on https://%s:%d", cfg.nodeName, cfg.nodeIP, cfg.port)

	<-ctx.Done()
	klog.Infof("shutting down: stopping all pod processes")
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	_ = srv.Shutdown(sctx)
	k.shutdownPods()
	return nil
}
