package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Object is one rendered document decoded into its typed k8s.io/api value.
type Object struct {
	APIVersion, Kind, Name string
	// Value is a pointer to the typed object (*appsv1.Deployment, ...).
	Value any
}

// ID names the object as problems do: Kind/name.
func (o Object) ID() string { return o.Kind + "/" + o.Name }

// kinds are the apiVersion/kind pairs regen's overlays may contain, each with
// its typed target. Anything else (including deprecated apiVersions such as
// autoscaling/v2beta2 or policy/v1beta1) is rejected.
var kinds = map[string]func() any{
	"apps/v1/Deployment":                     func() any { return new(appsv1.Deployment) },
	"v1/Service":                             func() any { return new(corev1.Service) },
	"v1/ServiceAccount":                      func() any { return new(corev1.ServiceAccount) },
	"v1/ConfigMap":                           func() any { return new(corev1.ConfigMap) },
	"v1/Secret":                              func() any { return new(corev1.Secret) },
	"v1/PersistentVolumeClaim":               func() any { return new(corev1.PersistentVolumeClaim) },
	"policy/v1/PodDisruptionBudget":          func() any { return new(policyv1.PodDisruptionBudget) },
	"networking.k8s.io/v1/NetworkPolicy":     func() any { return new(networkingv1.NetworkPolicy) },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any { return new(autoscalingv2.HorizontalPodAutoscaler) },
	"batch/v1/CronJob":                       func() any { return new(batchv1.CronJob) },
	"batch/v1/Job":                           func() any { return new(batchv1.Job) },
}

// Decode splits a rendered YAML stream and decodes every document strictly:
// unknown fields, duplicate fields, case-mismatched field names and unknown
// kinds are errors naming the document.
func Decode(rendered []byte) ([]Object, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(rendered)))
	var objs []Object
	var errs []error
	for i := 0; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("split document %d: %w", i, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, err := decodeOne(doc)
		if err != nil {
			errs = append(errs, fmt.Errorf("document %d: %w", i, err))
			continue
		}
		objs = append(objs, obj)
	}
	return objs, errors.Join(errs...)
}

func decodeOne(doc []byte) (Object, error) {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return Object{}, fmt.Errorf("parse yaml: %w", err)
	}
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(j, &head); err != nil {
		return Object{}, fmt.Errorf("read apiVersion/kind: %w", err)
	}
	obj := Object{APIVersion: head.APIVersion, Kind: head.Kind, Name: head.Metadata.Name}
	mk, ok := kinds[head.APIVersion+"/"+head.Kind]
	if !ok {
		return obj, fmt.Errorf("%s (apiVersion %s): not a kind regen's overlays may use; use a current apiVersion or teach runner/deploy's decoder the kind", obj.ID(), head.APIVersion)
	}
	v := mk()
	strict, err := kjson.UnmarshalStrict(j, v, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return obj, fmt.Errorf("%s: decode: %w", obj.ID(), err)
	}
	if len(strict) > 0 {
		return obj, fmt.Errorf("%s: strict decoding (remove or fix the field): %w", obj.ID(), errors.Join(strict...))
	}
	obj.Value = v
	return obj, nil
}
