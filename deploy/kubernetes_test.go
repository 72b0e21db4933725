package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// k8sObject is the part of a Kubernetes object the tests read.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Resources  []string          `yaml:"resources"`
	Patches    []struct {
		Patch string `yaml:"patch"`
	} `yaml:"patches"`
	Spec yaml.Node `yaml:"spec"`
	file string
}

type podSpec struct {
	TerminationGracePeriodSeconds int         `yaml:"terminationGracePeriodSeconds"`
	Containers                    []container `yaml:"containers"`
	Volumes                       []struct {
		Name   string `yaml:"name"`
		Secret *struct {
			SecretName string `yaml:"secretName"`
		} `yaml:"secret"`
	} `yaml:"volumes"`
}

type container struct {
	Name  string   `yaml:"name"`
	Args  []string `yaml:"args"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom any    `yaml:"valueFrom"`
	} `yaml:"env"`
	EnvFrom []struct {
		ConfigMapRef *struct {
			Name string `yaml:"name"`
		} `yaml:"configMapRef"`
		SecretRef any `yaml:"secretRef"`
	} `yaml:"envFrom"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	Lifecycle      struct {
		PreStop struct {
			Sleep struct {
				Seconds int `yaml:"seconds"`
			} `yaml:"sleep"`
		} `yaml:"preStop"`
	} `yaml:"lifecycle"`
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

type workload struct {
	Replicas int `yaml:"replicas"`
	Selector struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	} `yaml:"selector"`
	MinAvailable int `yaml:"minAvailable"`
	Template     struct {
		Metadata struct {
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"metadata"`
		Spec podSpec `yaml:"spec"`
	} `yaml:"template"`
	Ports []struct {
		Name       string `yaml:"name"`
		TargetPort string `yaml:"targetPort"`
	} `yaml:"ports"`
}

// manifests reads every object under deploy/kubernetes, by kind and name.
func manifests(t *testing.T) map[string]k8sObject {
	t.Helper()
	out := map[string]k8sObject{}
	require.NoError(t, filepath.WalkDir("kubernetes", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		for {
			var o k8sObject
			if err := dec.Decode(&o); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return err
			}
			o.file = filepath.ToSlash(p)
			key := o.Kind + "/" + o.Metadata.Name
			if o.Kind == "Kustomization" {
				key = o.Kind + "/" + path.Dir(o.file)
			}
			require.NotContains(t, out, key, "%s is defined twice", key)
			out[key] = o
		}
	}))
	return out
}

func spec[T any](t *testing.T, o k8sObject) T {
	t.Helper()
	var v T
	require.NoError(t, o.Spec.Decode(&v), o.file)
	return v
}

// TestKubernetesManifests: two replicas configured only with variables
// refhub reads, secrets mounted as files, probes on the routes refhub
// serves for them, metrics on their own port, a grace period long enough to
// finish a delivery round, and a disruption budget that keeps one replica.
func TestKubernetesManifests(t *testing.T) {
	objs := manifests(t)
	for key, o := range objs {
		if o.Kind != "Kustomization" {
			continue
		}
		for _, r := range o.Resources {
			_, err := os.Stat(filepath.Join(path.Dir(o.file), r))
			assert.NoError(t, err, "%s lists %s", key, r)
		}
	}
	cfg := objs["ConfigMap/refhub-config"]
	checkVariables(t, cfg.file, cfg.Data)
	d := spec[workload](t, objs["Deployment/refhub"])
	assert.Equal(t, 2, d.Replicas)
	pod := d.Template.Spec
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]

	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
		assert.Nil(t, e.ValueFrom, "%s: secrets are mounted as files", e.Name)
	}
	checkVariables(t, "the Deployment", env)
	require.Len(t, c.EnvFrom, 1)
	require.NotNil(t, c.EnvFrom[0].ConfigMapRef)
	assert.Equal(t, "refhub-config", c.EnvFrom[0].ConfigMapRef.Name)
	checkSecretFiles(t, objs, pod, c, env)

	ports := map[string]int{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	assert.Equal(t, port(t, cfg.Data["REFHUB_ADDR"]), strconv.Itoa(ports["http"]), "port http is REFHUB_ADDR's")
	assert.Equal(t, port(t, cfg.Data["REFHUB_METRICS_ADDR"]), strconv.Itoa(ports["metrics"]), "port metrics is REFHUB_METRICS_ADDR's")
	assert.Equal(t, strconv.Itoa(ports["metrics"]), d.Template.Metadata.Annotations["prometheus.io/port"])

	require.NotNil(t, c.ReadinessProbe)
	require.NotNil(t, c.LivenessProbe)
	for name, p := range map[string]*probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		require.NotNil(t, p.HTTPGet, name)
		assert.Equal(t, "http", p.HTTPGet.Port, "%s probes refhub's HTTP port", name)
	}
	assert.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path, "ready means Redis answers")
	assert.Equal(t, "/healthz", c.LivenessProbe.HTTPGet.Path, "alive does not depend on Redis")
	assertRoutesServe(t, c.ReadinessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path)
	assert.GreaterOrEqual(t, pod.TerminationGracePeriodSeconds, c.Lifecycle.PreStop.Sleep.Seconds+60,
		"preStop, then requests in flight (20 s) and a delivery round")
	assert.Positive(t, c.Lifecycle.PreStop.Sleep.Seconds, "endpoints forget the pod before it stops listening")

	labels := d.Template.Metadata.Labels
	pdb := spec[workload](t, objs["PodDisruptionBudget/refhub"])
	assert.Equal(t, 1, pdb.MinAvailable)
	assert.Equal(t, d.Selector.MatchLabels, pdb.Selector.MatchLabels)
	svc := spec[struct {
		Selector map[string]string `yaml:"selector"`
		Ports    []struct {
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
	}](t, objs["Service/refhub"])
	for k, v := range svc.Selector {
		assert.Equal(t, v, labels[k], "the Service selects the pods")
	}
	for _, p := range svc.Ports {
		assert.Contains(t, ports, p.TargetPort)
	}
}

// checkSecretFiles: each _FILE variable names a key of the secret volume,
// and secret.example.yaml shows every key.
func checkSecretFiles(t *testing.T, objs map[string]k8sObject, pod podSpec, c container, env map[string]string) {
	t.Helper()
	example := objs["Secret/refhub-secrets"]
	assert.Equal(t, "kubernetes/secret.example.yaml", example.file)
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	secretDir := ""
	for _, v := range pod.Volumes {
		if v.Secret != nil && v.Secret.SecretName == example.Metadata.Name {
			secretDir = mounts[v.Name]
		}
	}
	require.NotEmpty(t, secretDir, "the Secret is mounted")
	files := 0
	for name, value := range env {
		if !strings.HasSuffix(name, "_FILE") {
			continue
		}
		files++
		assert.Equal(t, secretDir, path.Dir(value), "%s is in the Secret's volume", name)
		assert.Contains(t, example.StringData, path.Base(value), "%s's key is in secret.example.yaml", name)
	}
	assert.Equal(t, len(example.StringData), files, "every key of the Secret is read")
}

// TestKubernetesRedisOptions: the in-cluster Redis keeps what it accepts
// (refhub's own check finds nothing on a redis-server run with its
// arguments), and the Redis Cluster overlay turns REFHUB_REDIS_CLUSTER on.
func TestKubernetesRedisOptions(t *testing.T) {
	objs := manifests(t)
	sts := spec[workload](t, objs["StatefulSet/refhub-redis"])
	require.Len(t, sts.Template.Spec.Containers, 1)
	args := sts.Template.Spec.Containers[0].Args
	assert.Subset(t, args, []string{"--appendonly", "yes", "--maxmemory-policy", "noeviction"})
	assertDurable(t, "with-redis/redis.yaml", args)
	assert.Contains(t, objs["Kustomization/kubernetes/with-redis"].Resources, "../base")

	cluster := objs["Kustomization/kubernetes/redis-cluster"]
	assert.Contains(t, cluster.Resources, "../base")
	require.Len(t, cluster.Patches, 1)
	var patch k8sObject
	require.NoError(t, yaml.Unmarshal([]byte(cluster.Patches[0].Patch), &patch))
	assert.Equal(t, "ConfigMap", patch.Kind)
	assert.Equal(t, "refhub-config", patch.Metadata.Name)
	assert.Equal(t, map[string]string{"REFHUB_REDIS_CLUSTER": "true"}, patch.Data)
	checkVariables(t, cluster.file, patch.Data)
}
