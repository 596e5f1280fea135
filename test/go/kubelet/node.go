package main

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

const kubeletVersion = "v1.37.2"

func (k *kubelet) nodeResources() corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse(k.cfg.cpu),
		corev1.ResourceMemory:           resource.MustParse(k.cfg.memory),
		corev1.ResourcePods:             resource.MustParse(k.cfg.maxPods),
		corev1.ResourceEphemeralStorage: resource.MustParse("1Ti"),
	}
}

func (k *kubelet) nodeConditions(now metav1.Time, old []corev1.NodeCondition) []corev1.NodeCondition {
	want := []corev1.NodeCondition{
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available"},
		{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", Message: "kubelet has no disk pressure"},
		{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", Message: "kubelet has sufficient PID available"},
		{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "cdk process kubelet is posting ready status"},
	}
	for i := range want {
		want[i].LastHeartbeatTime = now
		want[i].LastTransitionTime = now
		for _, o := range old {
			if o.Type == want[i].Type && o.Status == want[i].Status {
				want[i].LastTransitionTime = o.LastTransitionTime
			}
		}
	}
	return want
}

func (k *kubelet) fillNodeStatus(n *corev1.Node) {
	now := metav1.Now()
	n.Status.Capacity = k.nodeResources()
	n.Status.Allocatable = k.nodeResources()
	n.Status.Conditions = k.nodeConditions(now, n.Status.Conditions)
	n.Status.Addresses = []corev1.NodeAddress{
		{Type: corev1.NodeInternalIP, Address: k.cfg.nodeIP},
		{Type: corev1.NodeHostName, Address: k.cfg.nodeName},
	}
	n.Status.DaemonEndpoints.KubeletEndpoint.Port = int32(k.cfg.port)
	n.Status.NodeInfo = corev1.NodeSystemInfo{
		MachineID:               "cdk",
		SystemUUID:              "cdk-" + k.cfg.nodeName,
		BootID:                  k.bootID,
		KernelVersion:           "cdk",
		OSImage:                 "cdk process kubelet",
		ContainerRuntimeVersion: "cdk://0.1.0",
		KubeletVersion:          kubeletVersion,
		OperatingSystem:         "linux",
		Architecture:            runtime.GOARCH,
	}
}

// registerNode creates or refreshes the Node object.
func (k *kubelet) registerNode(ctx context.Context) error {
	nodes := k.client.CoreV1().Nodes()
	n, err := nodes.Get(ctx, k.cfg.nodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		n = &corev1.Node{ObjectMeta: metav1.ObjectMeta{
			Name: k.cfg.nodeName,
			Labels: map[string]string{
				"kubernetes.io/hostname": k.cfg.nodeName,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     runtime.GOARCH,
				"beta.kubernetes.io/os":  "linux",
				"type":                   "cdk-process-kubelet",
			},
			Annotations: map[string]string{"node.alpha.kubernetes.io/ttl": "0"},
		}}
		for _, t := range strings.Split(k.cfg.taints, ",") {
			if t == "" {
				continue
			}
			kv, effect, _ := strings.Cut(t, ":")
			key, value, _ := strings.Cut(kv, "=")
			n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Value: value, Effect: corev1.TaintEffect(effect)})
		}
		k.fillNodeStatus(n)
		n, err = nodes.Create(ctx, n, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("create node: %w", err)
		}
		klog.Infof("registered node %s", k.cfg.nodeName)
	} else if err != nil {
		return err
	}
	return k.updateNodeStatus(ctx)
}

func (k *kubelet) updateNodeStatus(ctx context.Context) error {
	nodes := k.client.CoreV1().Nodes()
	for attempt := 0; attempt < 5; attempt++ {
		n, err := nodes.Get(ctx, k.cfg.nodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		k.fillNodeStatus(n)
		if _, err = nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{}); err == nil {
			return k.removeStartupTaints(ctx)
		} else if !apierrors.IsConflict(err) {
			return err
		}
	}
	return fmt.Errorf("node status: too many conflicts")
}

// removeStartupTaints drops the not-ready/unreachable taints that admission
// puts on new nodes, in case the node-lifecycle controller is slow or not
// running; the node really is ready.
func (k *kubelet) removeStartupTaints(ctx context.Context) error {
	nodes := k.client.CoreV1().Nodes()
	n, err := nodes.Get(ctx, k.cfg.nodeName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if time.Since(k.started) < 5*time.Second {
		return nil // give node-lifecycle a chance first
	}
	var keep []corev1.Taint
	for _, t := range n.Spec.Taints {
		if t.Key == "node.kubernetes.io/not-ready" || t.Key == "node.kubernetes.io/unreachable" {
			continue
		}
		keep = append(keep, t)
	}
	if len(keep) == len(n.Spec.Taints) {
		return nil
	}
	n.Spec.Taints = keep
	_, err = nodes.Update(ctx, n, metav1.UpdateOptions{})
	if err == nil {
		klog.Infof("removed startup taints from node %s", k.cfg.nodeName)
	}
	return err
}

func (k *kubelet) renewLease(ctx context.Context) error {
	leases := k.client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(time.Now())
	l, err := leases.Get(ctx, k.cfg.nodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		owner := []metav1.OwnerReference{}
		if n, err := k.client.CoreV1().Nodes().Get(ctx, k.cfg.nodeName, metav1.GetOptions{}); err == nil {
			owner = append(owner, metav1.OwnerReference{APIVersion: "v1", Kind: "Node", Name: n.Name, UID: n.UID})
		}
		l = &coordv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: k.cfg.nodeName, Namespace: corev1.NamespaceNodeLease, OwnerReferences: owner},
			Spec: coordv1.LeaseSpec{
				HolderIdentity:       ptr.To(k.cfg.nodeName),
				LeaseDurationSeconds: ptr.To(int32(40)),
				RenewTime:            &now,
			},
		}
		_, err = leases.Create(ctx, l, metav1.CreateOptions{})
		return err
	} else if err != nil {
		return err
	}
	l.Spec.HolderIdentity = ptr.To(k.cfg.nodeName)
	l.Spec.LeaseDurationSeconds = ptr.To(int32(40))
	l.Spec.RenewTime = &now
	_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	return err
}

// heartbeat keeps the Ready condition and the Lease fresh.
func (k *kubelet) heartbeat(ctx context.Context) {
	t := time.NewTicker(k.cfg.heartbeat)
	defer t.Stop()
	for {
		if err := k.renewLease(ctx); err != nil && ctx.Err() == nil {
			klog.Warningf("lease: %v", err)
		}
		if err := k.updateNodeStatus(ctx); err != nil && ctx.Err() == nil {
			klog.Warningf("node status: %v", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
