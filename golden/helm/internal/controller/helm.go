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
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	fluxmeta "github.com/fluxcd/pkg/apis/meta"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	clustersv1alpha1 "github.com/openmcp-project/openmcp-operator/api/clusters/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"example.com/acme/sp-velero/internal/managed"
)

// Flux on the platform cluster installs the domain service: an
// OCIRepository fetches the chart, a HelmRelease installs it into the
// target cluster with the kubeconfig of the access secret openMCP keeps for
// the provider. Both live next to that secret, as Flux requires.

// helmChartLayer selects the chart in an OCI artifact.
const helmChartLayer = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"

// Chart is one version of a Helm chart and how to fetch it.
type Chart struct {
	// Repository is the OCI repository of the chart, without a tag.
	Repository string
	Version    string
	// PullSecret holds the registry's credentials; nil for a public one.
	PullSecret *corev1.Secret
	// Interval is how often Flux checks the chart and the release for drift.
	Interval time.Duration
}

// Release is a Helm release of a chart in a target cluster.
type Release struct {
	Chart Chart
	// Access is openMCP's access secret for the target cluster, on the
	// platform cluster.
	Access client.ObjectKey
	// Namespace in the target cluster the chart is installed into; Helm
	// keeps the release's state there too.
	Namespace string
	Name      string
	Values    map[string]any
}

// addRelease declares what Flux needs to install rel, on the platform
// cluster next to rel.Access and named name: a copy of the chart pull
// secret, the OCIRepository and the HelmRelease. Each is ready when Flux
// reports it ready for its current spec; deleting the HelmRelease waits
// until Flux has uninstalled the release.
func addRelease(set *managed.Set, name string, rel Release) {
	namespace := rel.Access.Namespace
	var pullSecret string
	if src := rel.Chart.PullSecret; src != nil {
		copied := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name + "-chart", Namespace: namespace}}
		set.Add(managed.Platform, copied, func() error {
			copied.Type = src.Type
			copied.Data = src.Data
			return nil
		})
		pullSecret = copied.Name
	}
	set.Prune(managed.Platform, corev1.SchemeGroupVersion.WithKind("Secret"))

	repo := &sourcev1.OCIRepository{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
	set.Add(managed.Platform, repo, func() error {
		mutateChartSource(repo, rel.Chart, pullSecret)
		return nil
	}).ReadyWhen(func() (bool, string) { return fluxReady(repo, sourcev1.OCIRepositoryKind) })

	release := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
	set.Add(managed.Platform, release, func() error {
		return mutateRelease(release, repo.Name, rel)
	}).ReadyWhen(func() (bool, string) { return fluxReady(release, helmv2.HelmReleaseKind) })
}

func mutateChartSource(repo *sourcev1.OCIRepository, chart Chart, pullSecret string) {
	repo.Spec.URL = chart.Repository
	repo.Spec.Reference = &sourcev1.OCIRepositoryRef{Tag: chart.Version}
	repo.Spec.LayerSelector = &sourcev1.OCILayerSelector{MediaType: helmChartLayer, Operation: sourcev1.OCILayerCopy}
	repo.Spec.Interval = metav1.Duration{Duration: chart.Interval}
	repo.Spec.SecretRef = nil
	if pullSecret != "" {
		repo.Spec.SecretRef = &fluxmeta.LocalObjectReference{Name: pullSecret}
	}
}

func mutateRelease(release *helmv2.HelmRelease, source string, rel Release) error {
	if rel.Access.Name == "" {
		return fmt.Errorf("openMCP has not handed out the access secret of the target cluster yet")
	}
	values, err := json.Marshal(rel.Values)
	if err != nil {
		return fmt.Errorf("encoding the values of release %s: %w", rel.Name, err)
	}
	release.Spec.ChartRef = &helmv2.CrossNamespaceSourceReference{Kind: sourcev1.OCIRepositoryKind, Name: source, Namespace: release.Namespace}
	release.Spec.Interval = metav1.Duration{Duration: rel.Chart.Interval}
	release.Spec.KubeConfig = &fluxmeta.KubeConfigReference{
		SecretRef: &fluxmeta.SecretKeyReference{Name: rel.Access.Name, Key: clustersv1alpha1.SecretKeyKubeconfig},
	}
	release.Spec.ReleaseName = rel.Name
	release.Spec.TargetNamespace = rel.Namespace
	release.Spec.StorageNamespace = rel.Namespace
	release.Spec.Install = &helmv2.Install{Remediation: &helmv2.InstallRemediation{Retries: 3}}
	release.Spec.Upgrade = &helmv2.Upgrade{Remediation: &helmv2.UpgradeRemediation{Retries: 3}}
	release.Spec.Values = &apiextensionsv1.JSON{Raw: values}
	return nil
}

// fluxObject is what Flux's kinds have in common.
type fluxObject interface {
	client.Object
	GetConditions() []metav1.Condition
}

// fluxReady reads Flux's Ready condition of obj. It counts only when it is
// about obj's current generation: before, Flux has not seen the change.
// Flux's message is passed on; it names the chart, the release and what
// failed, never values or credentials.
func fluxReady(obj fluxObject, kind string) (bool, string) {
	c := meta.FindStatusCondition(obj.GetConditions(), fluxmeta.ReadyCondition)
	name := obj.GetNamespace() + "/" + obj.GetName()
	switch {
	case c == nil || c.ObservedGeneration != obj.GetGeneration():
		return false, fmt.Sprintf("waiting for Flux to reconcile %s %s", kind, name)
	case c.Status != metav1.ConditionTrue:
		return false, fmt.Sprintf("%s %s is not ready (%s): %s", kind, name, c.Reason, c.Message)
	}
	return true, ""
}

// readChartPullSecret reads the chart pull secret the ProviderConfig pcName
// refers to from namespace on the platform cluster; nil when it names none.
func readChartPullSecret(ctx context.Context, platform client.Client, namespace, pcName string, ref *corev1.LocalObjectReference) (*corev1.Secret, error) {
	if ref == nil {
		return nil, nil
	}
	var s corev1.Secret
	if err := platform.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ref.Name}, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &ConfigError{Reason: ReasonPullSecretMissing, Action: "CopyPullSecret", Message: fmt.Sprintf(
				"chart pull secret %q not found in namespace %q on the platform cluster; create it there or remove spec.chartPullSecret from ProviderConfig %s",
				ref.Name, namespace, pcName)}
		}
		return nil, fmt.Errorf("reading chart pull secret %q: %w", ref.Name, err)
	}
	return &s, nil
}

// caBundleValues tell the chart where the CA bundle is: the ConfigMap and
// key next to the workload and where to mount it. The hash changes with the
// bundle, so a new bundle upgrades the release.
func caBundleValues(bundle []byte) map[string]any {
	sum := sha256.Sum256(bundle)
	return map[string]any{
		"configMap": CABundleConfigMap,
		"key":       CABundleKey,
		"mountPath": CABundleDir,
		"hash":      hex.EncodeToString(sum[:8]),
	}
}
