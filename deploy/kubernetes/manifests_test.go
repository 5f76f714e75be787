// Package kubernetes_test checks the manifests of deploy/kubernetes: each
// decodes strictly into the Kubernetes API's Go types, the KEDA
// ScaledObject validates against KEDA's published CRD schema, and every flag
// they give mapper run exists.
package kubernetes_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"github.com/mapperhq/mapper/internal/testneeds"
)

// kedaModule is the KEDA release whose CRD the ScaledObject is checked against.
const kedaModule = "github.com/kedacore/keda/v2@v2.21.1"

// docs splits a manifest file into its YAML documents.
func docs(t *testing.T, file string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		if strings.TrimSpace(regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(d, "")) != "" {
			out = append(out, []byte(d))
		}
	}
	return out
}

// decodeK8s decodes doc strictly (unknown or duplicate fields fail) into the
// Go type of its kind.
func decodeK8s(doc []byte) (any, error) {
	var head struct{ Kind string }
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return nil, err
	}
	var obj any
	switch head.Kind {
	case "Deployment":
		obj = &appsv1.Deployment{}
	case "PodDisruptionBudget":
		obj = &policyv1.PodDisruptionBudget{}
	case "ConfigMap":
		obj = &corev1.ConfigMap{}
	default:
		return nil, &unknownKind{head.Kind}
	}
	return obj, yaml.UnmarshalStrict(doc, obj)
}

type unknownKind struct{ kind string }

func (e *unknownKind) Error() string { return "no Go type for kind " + e.kind }

func loadDeployment(t *testing.T) *appsv1.Deployment {
	t.Helper()
	obj, err := decodeK8s(docs(t, "deployment.yaml")[0])
	if err != nil {
		t.Fatalf("deployment.yaml: %v", err)
	}
	return obj.(*appsv1.Deployment)
}

func TestManifestsDecodeStrictlyIntoKubernetesTypes(t *testing.T) {
	for _, f := range []string{"deployment.yaml", "poddisruptionbudget.yaml", "configmaps.yaml"} {
		for i, d := range docs(t, f) {
			if _, err := decodeK8s(d); err != nil {
				t.Errorf("%s document %d: %v", f, i+1, err)
			}
		}
	}
	mutated := map[string]string{
		"unknown field":    strings.Replace(string(docs(t, "deployment.yaml")[0]), "terminationGracePeriodSeconds:", "terminationGracePeriod:", 1),
		"wrong type":       strings.Replace(string(docs(t, "deployment.yaml")[0]), "replicas: 1", "replicas: one", 1),
		"misspelled probe": strings.Replace(string(docs(t, "deployment.yaml")[0]), "readinessProbe:", "readynessProbe:", 1),
		"pdb unknown":      strings.Replace(string(docs(t, "poddisruptionbudget.yaml")[0]), "maxUnavailable:", "maxUnavailble:", 1),
	}
	for name, d := range mutated {
		if _, err := decodeK8s([]byte(d)); err == nil {
			t.Errorf("mutated manifest (%s) decoded without error", name)
		}
	}
}

func TestDeploymentRunsMapperAsOperated(t *testing.T) {
	dep := loadDeployment(t)
	pod := dep.Spec.Template.Spec
	c := pod.Containers[0]
	args := map[string]string{}
	for _, a := range c.Args[1:] {
		k, v, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		args[k] = v
	}
	if c.Args[0] != "run" {
		t.Errorf("args start with %q, want run", c.Args[0])
	}
	for _, f := range []string{"watch-rules", "samples-topic", "session-timeout", "shutdown-timeout"} {
		if args[f] == "" {
			t.Errorf("no --%s", f)
		}
	}
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("probes: liveness %+v readiness %+v, want /healthz and /readyz", c.LivenessProbe, c.ReadinessProbe)
	}
	var shutdown int64
	if _, err := jsonDuration(args["shutdown-timeout"], &shutdown); err != nil {
		t.Fatal(err)
	}
	if g := pod.TerminationGracePeriodSeconds; g == nil || *g <= shutdown {
		t.Errorf("terminationGracePeriodSeconds %v, want more than --shutdown-timeout (%ds)", g, shutdown)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	if e := env["DD_AGENT_HOST"]; e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "status.hostIP" {
		t.Errorf("DD_AGENT_HOST %+v, want the node's IP (status.hostIP)", e)
	}
	if e := env["SENTRY_DSN"]; e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
		t.Errorf("SENTRY_DSN %+v, want a Secret reference", e)
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		for _, v := range pod.Volumes {
			mounted = mounted || (m.MountPath == "/etc/mapper/rules" && v.Name == m.Name && v.ConfigMap != nil)
		}
	}
	if !mounted {
		t.Error("rules are not a ConfigMap mounted at /etc/mapper/rules")
	}
}

// jsonDuration reads a whole-second duration like "30s" into *secs.
func jsonDuration(s string, secs *int64) (bool, error) {
	if !strings.HasSuffix(s, "s") {
		return false, &unknownKind{"duration " + s}
	}
	return true, json.Unmarshal([]byte(strings.TrimSuffix(s, "s")), secs)
}

// TestDeploymentFlagsExistOnMapperRun asks `mapper run --help` for its flags.
func TestDeploymentFlagsExistOnMapperRun(t *testing.T) {
	out, _ := exec.Command("go", "run", "../../cmd/mapper", "run", "--help").CombinedOutput()
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+-{1,2}([a-z][a-z0-9-]*)`).FindAllStringSubmatch(string(out), -1) {
		flags[m[1]] = true
	}
	if !flags["brokers"] || !flags["session-timeout"] {
		t.Fatalf("could not read the flags of mapper run --help:\n%s", out)
	}
	for _, a := range loadDeployment(t).Spec.Template.Spec.Containers[0].Args[1:] {
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !flags[name] {
			t.Errorf("deployment.yaml gives --%s, which mapper run does not have", name)
		}
	}
}

// kedaSchema compiles the v1alpha1 ScaledObject schema of KEDA's CRD, from
// its published Go module, with unknown fields refused (as the API server
// does with strict field validation).
func kedaSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	// Outside this module: the download is KEDA's, not a dependency.
	cmd := exec.Command("go", "mod", "download", "-json", kedaModule)
	cmd.Dir = t.TempDir()
	out, _ := cmd.Output()
	var mod struct{ Zip, Error string }
	err := json.Unmarshal(out, &mod)
	if err != nil || mod.Zip == "" {
		testneeds.Missing(t, nil, "cannot fetch %s from the Go module proxy (%v %s): the ScaledObject is not checked", kedaModule, err, mod.Error)
	}
	// The module zip as published (KEDA's go line may be newer than ours).
	zr, err := zip.OpenReader(mod.Zip)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := zr.Open(kedaModule + "/config/crd/bases/keda.sh_scaledobjects.yaml")
	if err != nil {
		t.Fatalf("KEDA's module zip: %v", err)
	}
	crdYAML, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var crd struct {
		Spec struct {
			Versions []struct {
				Name   string
				Schema struct {
					OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
				}
			}
		}
	}
	if err := yaml.Unmarshal(crdYAML, &crd); err != nil {
		t.Fatal(err)
	}
	for _, v := range crd.Spec.Versions {
		if v.Name != "v1alpha1" {
			continue
		}
		s := v.Schema.OpenAPIV3Schema
		closeObjects(s)
		b, _ := json.Marshal(s)
		c := jsonschema.NewCompiler()
		if err := c.AddResource("scaledobject.json", bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		return c.MustCompile("scaledobject.json")
	}
	t.Fatal("no v1alpha1 in KEDA's ScaledObject CRD")
	return nil
}

// closeObjects refuses unknown fields in every object schema that lists
// its properties and does not preserve unknown fields.
func closeObjects(s map[string]any) {
	if props, ok := s["properties"].(map[string]any); ok {
		if _, has := s["additionalProperties"]; !has && s["x-kubernetes-preserve-unknown-fields"] != true {
			s["additionalProperties"] = false
		}
		for _, p := range props {
			if m, ok := p.(map[string]any); ok {
				closeObjects(m)
			}
		}
	}
	for _, k := range []string{"items", "additionalProperties"} {
		if m, ok := s[k].(map[string]any); ok {
			closeObjects(m)
		}
	}
}

func TestScaledObjectValidatesAgainstKEDACRD(t *testing.T) {
	schema := kedaSchema(t)
	validate := func(doc string) error {
		var v any
		if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
			return err
		}
		return schema.Validate(v)
	}
	doc := string(docs(t, "scaledobject.yaml")[0])
	if err := validate(doc); err != nil {
		t.Fatalf("scaledobject.yaml: %v", err)
	}
	if !strings.Contains(doc, "consumerGroup: mapper") || !strings.Contains(doc, "maxReplicaCount: 6") {
		t.Error("the ScaledObject does not scale on group mapper up to the partition count")
	}
	for name, d := range map[string]string{
		"unknown field":        strings.Replace(doc, "cooldownPeriod:", "cooldownPeriods:", 1),
		"wrong type":           strings.Replace(doc, "minReplicaCount: 1", "minReplicaCount: one", 1),
		"no scale target name": strings.Replace(doc, "    name: mapper\n", "", 1),
	} {
		if d == doc {
			t.Fatalf("mutation %q changed nothing", name)
		}
		if err := validate(d); err == nil {
			t.Errorf("mutated ScaledObject (%s) validated", name)
		}
	}
}

// TestScaledObjectWatchesTheDeploymentsGroup checks that KEDA measures the
// lag of what the Deployment consumes: the group and brokers of its
// arguments, and either every topic of the group or one the rules claim.
func TestScaledObjectWatchesTheDeploymentsGroup(t *testing.T) {
	args := map[string]string{}
	for _, a := range loadDeployment(t).Spec.Template.Spec.Containers[0].Args[1:] {
		k, v, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		args[k] = v
	}
	var so struct {
		Spec struct {
			ScaleTargetRef struct{ Name string } `json:"scaleTargetRef"`
			Triggers       []struct {
				Type     string
				Metadata map[string]string
			}
		}
	}
	if err := yaml.Unmarshal(docs(t, "scaledobject.yaml")[0], &so); err != nil {
		t.Fatal(err)
	}
	if so.Spec.ScaleTargetRef.Name != loadDeployment(t).Name {
		t.Errorf("the ScaledObject scales %q, not the Deployment %q", so.Spec.ScaleTargetRef.Name, loadDeployment(t).Name)
	}
	claimed := map[string]bool{}
	rules, err := filepath.Glob("../../rules/*.yaml")
	if err != nil || len(rules) == 0 {
		t.Fatalf("no rules in ../../rules (%v)", err)
	}
	for _, f := range rules {
		if strings.HasSuffix(f, ".test.yaml") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var r struct{ Topics []string }
		if err := yaml.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, topic := range r.Topics {
			claimed[topic] = true
		}
	}
	if len(so.Spec.Triggers) != 1 || so.Spec.Triggers[0].Type != "kafka" {
		t.Fatalf("triggers %+v, want one kafka trigger", so.Spec.Triggers)
	}
	m := so.Spec.Triggers[0].Metadata
	if m["consumerGroup"] != args["group"] || m["bootstrapServers"] != args["brokers"] {
		t.Errorf("KEDA watches group %q on %q; the Deployment runs group %q on %q",
			m["consumerGroup"], m["bootstrapServers"], args["group"], args["brokers"])
	}
	if topic, ok := m["topic"]; ok && !claimed[topic] {
		t.Errorf("KEDA watches topic %q, which no rule claims (claimed: %v)", topic, claimed)
	}
}
