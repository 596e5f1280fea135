package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
)

// setupVolumes gives each pod volume a host folder, bind-mounted at the
// container's mountPath by the nsexec helper:
//   - emptyDir (and any unsupported type): $CDK_STATE/pods/<uid>/volumes/<name>
//   - persistentVolumeClaim: $CDK_STATE/volumes/<ns>/<claim> (outlives the pod)
//   - hostPath: the path itself
//   - configMap, secret, downwardAPI, projected: files written once at start
//     (no updates); the kube-api-access-* projected volume is the sa/ folder.
func (w *podWorker) setupVolumes(ctx context.Context, pod *corev1.Pod) error {
	w.volumes = map[string]string{}
	for _, v := range pod.Spec.Volumes {
		dir := filepath.Join(w.dir, "volumes", v.Name)
		switch {
		case v.HostPath != nil:
			w.volumes[v.Name] = v.HostPath.Path
			continue
		case v.PersistentVolumeClaim != nil:
			dir = filepath.Join(w.k.cfg.state, "volumes", pod.Namespace, v.PersistentVolumeClaim.ClaimName)
		case v.Projected != nil && strings.HasPrefix(v.Name, "kube-api-access-") && w.saDir != "":
			w.volumes[v.Name] = w.saDir
			continue
		}
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return err
		}
		w.volumes[v.Name] = dir
		var err error
		switch {
		case v.ConfigMap != nil:
			err = w.writeConfigMap(ctx, pod, dir, v.ConfigMap.Name, v.ConfigMap.Items, v.ConfigMap.Optional)
		case v.Secret != nil:
			err = w.writeSecret(ctx, pod, dir, v.Secret.SecretName, v.Secret.Items, v.Secret.Optional)
		case v.DownwardAPI != nil:
			err = w.writeDownward(pod, dir, v.DownwardAPI.Items)
		case v.Projected != nil:
			for _, src := range v.Projected.Sources {
				switch {
				case src.ConfigMap != nil:
					err = w.writeConfigMap(ctx, pod, dir, src.ConfigMap.Name, src.ConfigMap.Items, src.ConfigMap.Optional)
				case src.Secret != nil:
					err = w.writeSecret(ctx, pod, dir, src.Secret.Name, src.Secret.Items, src.Secret.Optional)
				case src.DownwardAPI != nil:
					err = w.writeDownward(pod, dir, src.DownwardAPI.Items)
				case src.ServiceAccountToken != nil:
					err = w.writeProjectedToken(ctx, pod, dir, src.ServiceAccountToken)
				}
				if err != nil {
					break
				}
			}
		}
		if err != nil {
			return fmt.Errorf("volume %s: %w", v.Name, err)
		}
	}
	return nil
}

func writeItems(dir string, data map[string][]byte, items []corev1.KeyToPath) error {
	if len(items) == 0 {
		for k, v := range data {
			if err := writeAtomic(filepath.Join(dir, k), v, 0o644); err != nil {
				return err
			}
		}
		return nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			return fmt.Errorf("key %s not found", it.Key)
		}
		p := filepath.Join(dir, it.Path)
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if err := writeAtomic(p, v, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (w *podWorker) writeConfigMap(ctx context.Context, pod *corev1.Pod, dir, name string, items []corev1.KeyToPath, optional *bool) error {
	data, err := w.configMapData(ctx, pod.Namespace, name)
	if err != nil {
		if isOptional(optional) {
			return nil
		}
		return err
	}
	b := map[string][]byte{}
	for k, v := range data {
		b[k] = []byte(v)
	}
	return writeItems(dir, b, items)
}

func (w *podWorker) writeSecret(ctx context.Context, pod *corev1.Pod, dir, name string, items []corev1.KeyToPath, optional *bool) error {
	data, err := w.secretData(ctx, pod.Namespace, name)
	if err != nil {
		if isOptional(optional) {
			return nil
		}
		return err
	}
	return writeItems(dir, data, items)
}

func (w *podWorker) writeDownward(pod *corev1.Pod, dir string, items []corev1.DownwardAPIVolumeFile) error {
	for _, it := range items {
		if it.FieldRef == nil {
			continue
		}
		v, err := podField(pod, it.FieldRef.FieldPath, w.ip.String(), w.k.cfg.nodeIP)
		if err != nil {
			return err
		}
		p := filepath.Join(dir, it.Path)
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if err := writeAtomic(p, []byte(v), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (w *podWorker) writeProjectedToken(ctx context.Context, pod *corev1.Pod, dir string, src *corev1.ServiceAccountTokenProjection) error {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	spec := authv1.TokenRequestSpec{
		ExpirationSeconds: src.ExpirationSeconds,
		BoundObjectRef:    &authv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}
	if src.Audience != "" {
		spec.Audiences = []string{src.Audience}
	}
	tr, err := w.k.client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, &authv1.TokenRequest{Spec: spec}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	klog.V(2).Infof("%s: projected token %s", podKey(pod), src.Path)
	return writeAtomic(filepath.Join(dir, src.Path), []byte(tr.Status.Token), 0o644)
}
