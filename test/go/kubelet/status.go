package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

func imageID(image string) string {
	sum := sha256.Sum256([]byte(image))
	return imageRepo(image) + "@sha256:" + hex.EncodeToString(sum[:])
}

func (w *podWorker) containerStatus(pod *corev1.Pod, c *ctrState) corev1.ContainerStatus {
	w.mu.Lock()
	ready, started := c.ready, c.started
	w.mu.Unlock()
	st := corev1.ContainerStatus{
		Name: c.spec.Name, Image: c.spec.Image, ImageID: c.imageID,
		RestartCount: c.restartCount,
	}
	if c.lastTerm != nil {
		st.LastTerminationState = corev1.ContainerState{Terminated: c.lastTerm}
	}
	switch {
	case c.cur == nil:
		w := c.waiting
		if w == nil {
			w = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
			if c.init {
				w.Reason = "PodInitializing"
			}
		}
		st.State = corev1.ContainerState{Waiting: w}
		st.Started = ptr.To(false)
	case c.waiting != nil && !c.running():
		st.State = corev1.ContainerState{Waiting: c.waiting}
		st.ContainerID = "cdk://" + c.cur.id
		st.Started = ptr.To(false)
	case c.running():
		st.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(c.cur.startedAt)}}
		st.ContainerID = "cdk://" + c.cur.id
		st.Ready = ready
		st.Started = ptr.To(started)
	default:
		st.State = corev1.ContainerState{Terminated: w.terminatedState(c.cur)}
		st.ContainerID = "cdk://" + c.cur.id
		st.Started = ptr.To(false)
	}
	if c.init && st.State.Terminated != nil && st.State.Terminated.ExitCode == 0 {
		st.Ready = true
	}
	if c.init && c.running() && c.spec.RestartPolicy != nil && *c.spec.RestartPolicy == corev1.ContainerRestartPolicyAlways {
		st.Ready = ready
	}
	return st
}

func setCondition(conds []corev1.PodCondition, old []corev1.PodCondition, gen int64, t corev1.PodConditionType, ok bool, reason string) []corev1.PodCondition {
	status := corev1.ConditionFalse
	if ok {
		status = corev1.ConditionTrue
		reason = ""
	}
	c := corev1.PodCondition{Type: t, Status: status, Reason: reason, LastTransitionTime: metav1.Now(), ObservedGeneration: gen}
	for _, o := range old {
		if o.Type == t && o.Status == status {
			c.LastTransitionTime = o.LastTransitionTime
			c.LastProbeTime = o.LastProbeTime
		}
	}
	for i := range conds {
		if conds[i].Type == t {
			conds[i] = c
			return conds
		}
	}
	return append(conds, c)
}

func (w *podWorker) buildStatus(pod *corev1.Pod) corev1.PodStatus {
	old := pod.Status
	st := corev1.PodStatus{
		Phase:                      w.computePhase(pod),
		HostIP:                     w.k.cfg.nodeIP,
		HostIPs:                    []corev1.HostIP{{IP: w.k.cfg.nodeIP}},
		StartTime:                  w.startTime,
		QOSClass:                   old.QOSClass,
		NominatedNodeName:          old.NominatedNodeName,
		ObservedGeneration:         pod.Generation,
		Resize:                     old.Resize,
		ResourceClaimStatuses:      old.ResourceClaimStatuses,
		EphemeralContainerStatuses: old.EphemeralContainerStatuses,
	}
	if st.StartTime == nil {
		st.StartTime = old.StartTime
	}
	if w.ip.IsValid() {
		st.PodIP = w.ip.String()
		st.PodIPs = []corev1.PodIP{{IP: st.PodIP}}
	}
	if w.sandboxErr != "" {
		st.Message = w.sandboxErr
		st.Reason = "SandboxError"
	}
	initDone, allReady := true, true
	for _, c := range w.ctrs {
		cs := w.containerStatus(pod, c)
		if c.init {
			st.InitContainerStatuses = append(st.InitContainerStatuses, cs)
			sidecar := c.spec.RestartPolicy != nil && *c.spec.RestartPolicy == corev1.ContainerRestartPolicyAlways
			if sidecar {
				if !c.running() {
					initDone = false
				}
			} else if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 0 {
				initDone = false
			}
		} else {
			st.ContainerStatuses = append(st.ContainerStatuses, cs)
			if !cs.Ready {
				allReady = false
			}
		}
	}
	terminal := st.Phase == corev1.PodSucceeded || st.Phase == corev1.PodFailed
	// keep conditions others own (PodScheduled, DisruptionTarget, ...)
	for _, c := range old.Conditions {
		switch c.Type {
		case corev1.PodReady, corev1.ContainersReady, corev1.PodInitialized, corev1.PodReadyToStartContainers:
		default:
			st.Conditions = append(st.Conditions, c)
		}
	}
	st.Conditions = setCondition(st.Conditions, old.Conditions, pod.Generation, corev1.PodScheduled, true, "")
	st.Conditions = setCondition(st.Conditions, old.Conditions, pod.Generation, corev1.PodReadyToStartContainers, w.sandboxOK && !w.netDown, "")
	initReason := "ContainersNotInitialized"
	if terminal && initDone {
		initReason = ""
	}
	st.Conditions = setCondition(st.Conditions, old.Conditions, pod.Generation, corev1.PodInitialized, initDone, initReason)
	ready := allReady && initDone && !terminal && w.sandboxOK
	notReadyReason := "ContainersNotReady"
	if terminal {
		notReadyReason = "PodCompleted"
	}
	st.Conditions = setCondition(st.Conditions, old.Conditions, pod.Generation, corev1.ContainersReady, ready, notReadyReason)
	st.Conditions = setCondition(st.Conditions, old.Conditions, pod.Generation, corev1.PodReady, ready, notReadyReason)
	if !ready && !terminal {
		var names []string
		for _, c := range w.ctrs {
			if !c.init {
				if cs := w.containerStatus(pod, c); !cs.Ready {
					names = append(names, c.spec.Name)
				}
			}
		}
		for i := range st.Conditions {
			if (st.Conditions[i].Type == corev1.PodReady || st.Conditions[i].Type == corev1.ContainersReady) && len(names) > 0 {
				st.Conditions[i].Message = fmt.Sprintf("containers with unready status: %v", names)
			}
		}
	}
	return st
}

// syncStatus writes the pod status through pods/status when it changed.
// It may run from the worker and, while the pod terminates, from the
// goroutines that stop its containers (statusMu orders them).
func (w *podWorker) syncStatus(ctx context.Context, pod *corev1.Pod) {
	w.statusMu.Lock()
	defer w.statusMu.Unlock()
	st := w.buildStatus(pod)
	if w.lastSent != nil && equality.Semantic.DeepEqual(&st, w.lastSent) {
		return
	}
	pods := w.k.client.CoreV1().Pods(pod.Namespace)
	cur := pod.DeepCopy()
	for attempt := 0; attempt < 6; attempt++ {
		cur.Status = st
		_, err := pods.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		if err == nil {
			w.logTransition(pod, w.lastSent, &st)
			w.lastSent = &st
			return
		}
		if apierrors.IsNotFound(err) {
			return
		}
		if !apierrors.IsConflict(err) {
			klog.Warningf("%s: status update: %v", podKey(pod), err)
			w.kickAfter(time.Second)
			return
		}
		fresh, err := pods.Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil || fresh.UID != pod.UID {
			return
		}
		cur = fresh
		st = w.buildStatus(fresh)
	}
	w.kickAfter(time.Second)
}

// event records a Kubernetes Event about a container of the pod.
func (k *kubelet) event(pod *corev1.Pod, container, typ, reason, msg string) {
	now := metav1.Now()
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: pod.Name + ".", Namespace: pod.Namespace},
		InvolvedObject: corev1.ObjectReference{
			Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID,
			FieldPath: fmt.Sprintf("spec.containers{%s}", container),
		},
		Reason: reason, Message: msg, Type: typ, Count: 1,
		FirstTimestamp: now, LastTimestamp: now,
		Source:              corev1.EventSource{Component: "kubelet", Host: k.cfg.nodeName},
		ReportingController: "kubelet", ReportingInstance: k.cfg.nodeName,
	}
	go func() {
		ctx, cancel := context.WithTimeout(k.ctx, 5*time.Second)
		defer cancel()
		_, _ = k.client.CoreV1().Events(pod.Namespace).Create(ctx, ev, metav1.CreateOptions{})
	}()
}

func podReady(st *corev1.PodStatus) bool {
	for _, c := range st.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// logTransition logs phase and readiness changes with the time since the
// kubelet first saw the pod.
func (w *podWorker) logTransition(pod *corev1.Pod, old, cur *corev1.PodStatus) {
	if old != nil && old.Phase == cur.Phase && podReady(old) == podReady(cur) {
		return
	}
	klog.Infof("%s: phase %s, ready %v (%s after the kubelet saw it)", podKey(pod), cur.Phase, podReady(cur),
		time.Since(w.seen).Round(time.Millisecond))
}
