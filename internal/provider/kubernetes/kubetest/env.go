package kubetest

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// configWait is how long a pod whose environment names a Secret or
// ConfigMap that is not there yet waits for it before it fails (the
// kubelet would wait for ever).
const configWait = 10 * time.Second

// containerEnv returns the environment of container c of pod as
// "NAME=value" lines, in the order the kubelet builds it (see [Node]).
func (n *Node) containerEnv(pod *corev1.Pod, c *corev1.Container) ([]string, error) {
	env := []string{"HOSTNAME=" + pod.Name}
	if host, port, err := net.SplitHostPort(n.host); err == nil {
		env = append(env, "KUBERNETES_SERVICE_HOST="+host, "KUBERNETES_SERVICE_PORT="+port)
	}
	env = append(env, n.opts.Env...)
	vars := envMap(env)
	for _, from := range c.EnvFrom {
		data, err := n.envSource(pod.Namespace, from)
		if err != nil {
			return nil, err
		}
		for k, v := range data {
			env = append(env, from.Prefix+k+"="+v)
			vars[from.Prefix+k] = v
		}
	}
	for _, e := range c.Env {
		v := expand(e.Value, vars)
		if e.ValueFrom != nil {
			var ok bool
			var err error
			v, ok, err = n.envValue(pod, e.ValueFrom)
			if err != nil {
				return nil, fmt.Errorf("%w: env %s: %v", errStart, e.Name, err)
			}
			if !ok {
				continue // optional and absent
			}
		}
		env = append(env, e.Name+"="+v)
		vars[e.Name] = v
	}
	return env, nil
}

// envSource reads the Secret or ConfigMap an envFrom names; an optional
// one that is absent gives nothing.
func (n *Node) envSource(namespace string, from corev1.EnvFromSource) (map[string]string, error) {
	switch {
	case from.SecretRef != nil:
		s, err := n.secret(namespace, from.SecretRef.Name, from.SecretRef.Optional)
		if s == nil || err != nil {
			return nil, err
		}
		data := make(map[string]string, len(s.Data))
		for k, v := range s.Data {
			data[k] = string(v)
		}
		return data, nil
	case from.ConfigMapRef != nil:
		cm, err := n.configMap(namespace, from.ConfigMapRef.Name, from.ConfigMapRef.Optional)
		if cm == nil || err != nil {
			return nil, err
		}
		return cm.Data, nil
	}
	return nil, fmt.Errorf("%w: envFrom names neither a Secret nor a ConfigMap", errStart)
}

// envValue resolves a valueFrom; ok is false for an optional key that is
// absent.
func (n *Node) envValue(pod *corev1.Pod, from *corev1.EnvVarSource) (v string, ok bool, err error) {
	switch {
	case from.FieldRef != nil:
		v, err := fieldValue(pod, from.FieldRef.FieldPath)
		return v, err == nil, err
	case from.SecretKeyRef != nil:
		ref := from.SecretKeyRef
		s, err := n.secret(pod.Namespace, ref.Name, ref.Optional)
		if s == nil || err != nil {
			return "", false, err
		}
		data, found := s.Data[ref.Key]
		if !found && !isTrue(ref.Optional) {
			return "", false, fmt.Errorf("secret %s has no key %s", ref.Name, ref.Key)
		}
		return string(data), found, nil
	case from.ConfigMapKeyRef != nil:
		ref := from.ConfigMapKeyRef
		cm, err := n.configMap(pod.Namespace, ref.Name, ref.Optional)
		if cm == nil || err != nil {
			return "", false, err
		}
		data, found := cm.Data[ref.Key]
		if !found && !isTrue(ref.Optional) {
			return "", false, fmt.Errorf("configmap %s has no key %s", ref.Name, ref.Key)
		}
		return data, found, nil
	}
	return "", false, fmt.Errorf("only fieldRef, secretKeyRef and configMapKeyRef are supported here")
}

// fieldValue is the downward API value of path for pod, as the Node
// reports it (both IPs are 127.0.0.1).
func fieldValue(pod *corev1.Pod, path string) (string, error) {
	if key, ok := strings.CutPrefix(path, "metadata.labels['"); ok {
		return pod.Labels[strings.TrimSuffix(key, "']")], nil
	}
	if key, ok := strings.CutPrefix(path, "metadata.annotations['"); ok {
		return pod.Annotations[strings.TrimSuffix(key, "']")], nil
	}
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP", "status.hostIP", "status.podIPs", "status.hostIPs":
		return "127.0.0.1", nil
	}
	return "", fmt.Errorf("fieldRef %s is not supported here", path)
}

// secret gets a Secret, waiting up to configWait for it to appear; an
// optional one that stays absent is nil without an error.
func (n *Node) secret(namespace, name string, optional *bool) (*corev1.Secret, error) {
	var s *corev1.Secret
	err := n.waitFor(optional, func() (err error) {
		s, err = n.cs.CoreV1().Secrets(namespace).Get(n.ctx, name, metav1.GetOptions{})
		return err
	})
	if errors.Is(err, errOptionalAbsent) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: secret %s: %v", errStart, name, err)
	}
	return s, nil
}

// configMap is [Node.secret] for a ConfigMap.
func (n *Node) configMap(namespace, name string, optional *bool) (*corev1.ConfigMap, error) {
	var cm *corev1.ConfigMap
	err := n.waitFor(optional, func() (err error) {
		cm, err = n.cs.CoreV1().ConfigMaps(namespace).Get(n.ctx, name, metav1.GetOptions{})
		return err
	})
	if errors.Is(err, errOptionalAbsent) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: configmap %s: %v", errStart, name, err)
	}
	return cm, nil
}

// waitFor calls get until it finds its object. Not found ends it at once
// when optional, after configWait otherwise (nil error for optional).
func (n *Node) waitFor(optional *bool, get func() error) error {
	deadline := time.Now().Add(configWait)
	for {
		err := get()
		switch {
		case err == nil:
			return nil
		case !apierrors.IsNotFound(err):
			return err
		case isTrue(optional):
			return errOptionalAbsent
		case time.Now().After(deadline) || n.ctx.Err() != nil:
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// errOptionalAbsent is waitFor's answer for an optional object that is
// not there.
var errOptionalAbsent = errors.New("optional and absent")

func isTrue(b *bool) bool { return b != nil && *b }

// envMap indexes "NAME=value" lines by name; the last line wins.
func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// expand replaces $(NAME) with the value of NAME in vars and $$ with $,
// and leaves references to unknown names as they are, as the kubelet
// expands command, args and env values.
func expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteByte('$')
				continue
			}
			name := s[i+2 : i+2+end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}
