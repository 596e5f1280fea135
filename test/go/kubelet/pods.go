package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
)

func (k *kubelet) nodeSelector() string {
	return fields.OneTermEqualSelector("spec.nodeName", k.cfg.nodeName).String()
}

// failStalePods marks the non-terminal pods bound to this node that a
// previous kubelet run left behind as Failed (their processes are gone), and
// removes those already being deleted. Controllers recreate them.
func (k *kubelet) failStalePods(ctx context.Context) error {
	list, err := k.client.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: k.nodeSelector()})
	if err != nil {
		return err
	}
	now := metav1.Now()
	for i := range list.Items {
		p := &list.Items[i]
		teardownNetns(string(p.UID)) // its processes are gone or killed now
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			if p.DeletionTimestamp != nil {
				k.deletePodObject(ctx, p)
			}
			continue
		}
		if p.DeletionTimestamp != nil {
			k.deletePodObject(ctx, p)
			continue
		}
		if p.Status.PodIP == "" && !anyStarted(p.Status.ContainerStatuses) && !anyStarted(p.Status.InitContainerStatuses) {
			continue // never started: the informer starts it now
		}
		p.Status.Phase = corev1.PodFailed
		p.Status.Reason = "NodeRestart"
		p.Status.Message = "the cdk process kubelet restarted; the pod's processes are gone"
		markTerminated := func(ss []corev1.ContainerStatus) {
			for j := range ss {
				if ss[j].State.Terminated == nil {
					ss[j].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
						ExitCode: 137, Reason: "Error", Message: "kubelet restarted", FinishedAt: now,
					}}
				}
				ss[j].Ready = false
			}
		}
		markTerminated(p.Status.ContainerStatuses)
		markTerminated(p.Status.InitContainerStatuses)
		for j := range p.Status.Conditions {
			c := &p.Status.Conditions[j]
			if c.Type == corev1.PodReady || c.Type == corev1.ContainersReady {
				c.Status, c.Reason, c.LastTransitionTime = corev1.ConditionFalse, "PodFailed", now
			}
		}
		if _, err := k.client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
			klog.Warningf("mark stale pod %s/%s failed: %v", p.Namespace, p.Name, err)
		} else {
			klog.Infof("marked stale pod %s/%s Failed", p.Namespace, p.Name)
		}
	}
	return nil
}

func (k *kubelet) deletePodObject(ctx context.Context, p *corev1.Pod) {
	uid := p.UID
	err := k.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{
		GracePeriodSeconds: new(int64),
		Preconditions:      &metav1.Preconditions{UID: &uid},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		klog.Warningf("delete pod %s/%s: %v", p.Namespace, p.Name, err)
	}
}

func (k *kubelet) watchPods(ctx context.Context) {
	sel := k.nodeSelector()
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = sel
			return k.client.CoreV1().Pods("").List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = sel
			return k.client.CoreV1().Pods("").Watch(ctx, o)
		},
	}
	inf := cache.NewSharedIndexInformer(lw, &corev1.Pod{}, 0, cache.Indexers{})
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { k.dispatch(o.(*corev1.Pod)) },
		UpdateFunc: func(_, o any) { k.dispatch(o.(*corev1.Pod)) },
		DeleteFunc: func(o any) {
			if t, ok := o.(cache.DeletedFinalStateUnknown); ok {
				o = t.Obj
			}
			if p, ok := o.(*corev1.Pod); ok {
				k.podGone(p)
			}
		},
	})
	go inf.RunWithContext(ctx)
	cache.WaitForCacheSync(ctx.Done(), inf.HasSynced)
}

func (k *kubelet) dispatch(p *corev1.Pod) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.finished[p.UID] || k.ctx.Err() != nil {
		return
	}
	w := k.workers[p.UID]
	if w == nil {
		w = newPodWorker(k, p)
		k.workers[p.UID] = w
		k.wg.Add(1)
		go func() {
			defer k.wg.Done()
			w.loop()
		}()
		return
	}
	w.update(p)
}

func (k *kubelet) podGone(p *corev1.Pod) {
	k.mu.Lock()
	w := k.workers[p.UID]
	delete(k.finished, p.UID)
	k.mu.Unlock()
	if w != nil {
		w.markGone()
	}
}

// workerDone is called by a worker that has nothing left to do.
func (k *kubelet) workerDone(w *podWorker) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.workers, w.uid)
	if !w.isGone() {
		k.finished[w.uid] = true
	}
}

func (k *kubelet) findWorker(ns, name string) *podWorker {
	k.mu.Lock()
	defer k.mu.Unlock()
	var best *podWorker
	for _, w := range k.workers {
		p := w.getPod()
		if p.Namespace == ns && p.Name == name {
			if best == nil || p.CreationTimestamp.After(best.getPod().CreationTimestamp.Time) {
				best = w
			}
		}
	}
	return best
}

// shutdownPods stops every pod process (SIGTERM, 2 s, SIGKILL) and tears
// down the network namespaces; API objects are left alone (the next start
// marks them Failed).
func (k *kubelet) shutdownPods() {
	k.mu.Lock()
	ws := make([]*podWorker, 0, len(k.workers))
	for _, w := range k.workers {
		ws = append(ws, w)
	}
	k.mu.Unlock()
	done := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		for _, w := range ws {
			wg.Add(1)
			go func() { defer wg.Done(); w.shutdown() }()
		}
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(8 * time.Second):
		klog.Warningf("shutdown timed out")
	}
	for _, w := range ws {
		teardownNetns(string(w.uid))
	}
}

func podKey(p *corev1.Pod) string { return fmt.Sprintf("%s/%s", p.Namespace, p.Name) }

func anyStarted(ss []corev1.ContainerStatus) bool {
	for _, s := range ss {
		if s.State.Running != nil || s.State.Terminated != nil || s.RestartCount > 0 {
			return true
		}
	}
	return false
}
