/*
Copyright The sp-velero Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package controller

import (
	"encoding/json"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestReleaseOptions: the typed options reach the HelmRelease, and a
// release installed after another names it in dependsOn, in its namespace.
func TestReleaseOptions(t *testing.T) {
	opts := DefaultReleaseOptions()
	opts.UpgradeCRDs = helmv2.Skip
	opts.UpgradeRemediation = helmv2.UninstallRemediationStrategy
	opts.UninstallTimeout = 10 * time.Minute
	opts.DriftDetection = helmv2.DriftDetectionWarn
	rel := Release{
		Access:    client.ObjectKey{Namespace: "tenant", Name: "access"},
		Namespace: "service", Name: "service", Options: opts, DependsOn: []string{"service-crds"},
		Values: map[string]any{"replicas": 2},
	}
	hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant", Name: "service"}}
	if err := mutateRelease(hr, "service", rel); err != nil {
		t.Fatal(err)
	}
	want := helmv2.HelmReleaseSpec{
		Timeout:        &metav1.Duration{Duration: 5 * time.Minute},
		Install:        &helmv2.Install{CRDs: helmv2.CreateReplace, Remediation: &helmv2.InstallRemediation{Retries: 3}},
		Upgrade:        &helmv2.Upgrade{CRDs: helmv2.Skip, Remediation: hr.Spec.Upgrade.Remediation},
		Uninstall:      &helmv2.Uninstall{Timeout: &metav1.Duration{Duration: 10 * time.Minute}},
		DriftDetection: &helmv2.DriftDetection{Mode: helmv2.DriftDetectionWarn},
		DependsOn:      []helmv2.DependencyReference{{Name: "service-crds", Namespace: "tenant"}},
	}
	got := helmv2.HelmReleaseSpec{
		Timeout: hr.Spec.Timeout, Install: hr.Spec.Install, Upgrade: hr.Spec.Upgrade, Uninstall: hr.Spec.Uninstall,
		DriftDetection: hr.Spec.DriftDetection, DependsOn: hr.Spec.DependsOn,
	}
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("release settings\n%+v\nwant\n%+v", got, want)
	}
	if r := hr.Spec.Upgrade.Remediation; r.Retries != 3 || r.GetStrategy() != helmv2.UninstallRemediationStrategy || !r.MustRemediateLastFailure() {
		t.Errorf("upgrade remediation %+v, want 3 retries, then uninstall", r)
	}
	if hr.Spec.TargetNamespace != "service" || hr.Spec.Values == nil || string(hr.Spec.Values.Raw) != `{"replicas":2}` {
		t.Errorf("target namespace %q, values %v", hr.Spec.TargetNamespace, hr.Spec.Values)
	}
}

// TestChartValuesKeepOperators: what the provider mounts is added after the
// volumes and annotations the ProviderConfig's values already have, which
// stay as they are.
func TestChartValuesKeepOperators(t *testing.T) {
	values, err := chartValues(&apiextensionsv1.JSON{Raw: []byte(`{"volumes":[{"name":"own","emptyDir":{}}],"podAnnotations":{"team":"a"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := trustCABundleValues(values, []byte("bundle")); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Volumes        []corev1.Volume      `json:"volumes"`
		VolumeMounts   []corev1.VolumeMount `json:"volumeMounts"`
		PodAnnotations map[string]string    `json:"podAnnotations"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Volumes) != 2 || got.Volumes[0].Name != "own" || got.Volumes[1].ConfigMap == nil || got.Volumes[1].ConfigMap.Name != CABundleConfigMap {
		t.Errorf("volumes %+v, want the operator's, then the CA bundle", got.Volumes)
	}
	if len(got.VolumeMounts) != 1 || got.VolumeMounts[0].MountPath != CABundleMountPath {
		t.Errorf("volume mounts %+v, want the CA bundle at %s", got.VolumeMounts, CABundleMountPath)
	}
	if got.PodAnnotations["team"] != "a" || got.PodAnnotations[CABundleHashAnnotation] == "" {
		t.Errorf("pod annotations %v, want the operator's and the bundle's hash", got.PodAnnotations)
	}
	if _, err := chartValues(&apiextensionsv1.JSON{Raw: []byte(`"text"`)}); err == nil {
		t.Errorf("values that are no object were accepted")
	}
}
