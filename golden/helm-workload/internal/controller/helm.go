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
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
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
	// CertSecret holds the CA certificates of a registry with its own CA
	// (ca.crt) and a client certificate if it wants one; nil otherwise.
	CertSecret *corev1.Secret
	// Interval is how often Flux checks the chart and the release for drift.
	Interval time.Duration
}

// Release is a Helm release of a chart in a target cluster.
type Release struct {
	Chart Chart
	// Access is openMCP's access secret for the target cluster, on the
	// platform cluster.
	Access client.ObjectKey
	// Namespace in the target cluster the chart is installed into (the
	// HelmRelease's targetNamespace); Helm keeps the release's state there
	// too.
	Namespace string
	Name      string
	Values    map[string]any
	Options   ReleaseOptions
	// DependsOn names releases added to the same set before this one (by
	// the name AddRelease got) that Flux installs, and finds ready, first.
	DependsOn []string
}

// ReleaseOptions are how Flux installs, upgrades and removes a release.
type ReleaseOptions struct {
	// InstallCRDs and UpgradeCRDs say what Helm does with the chart's
	// CRDs: Skip, Create, or CreateReplace (create and update).
	InstallCRDs, UpgradeCRDs helmv2.CRDsPolicy
	// Retries is how often a failed install or upgrade is retried; a failed
	// upgrade is first remediated by UpgradeRemediation (rollback or
	// uninstall).
	Retries            int
	UpgradeRemediation helmv2.RemediationStrategy
	// Timeout bounds each Helm action, waiting for the chart's resources
	// included; UninstallTimeout the uninstall, which deleting the object
	// waits for.
	Timeout, UninstallTimeout time.Duration
	// DriftDetection says what Flux does when the release's objects in
	// the target cluster were changed: enabled corrects them, warn reports
	// them, disabled ignores them.
	DriftDetection helmv2.DriftDetectionMode
}

// DefaultReleaseOptions are what the public openMCP Helm providers use:
// CRDs created and kept current, three retries, a failed upgrade rolled
// back, five-minute timeouts and drift corrected.
func DefaultReleaseOptions() ReleaseOptions {
	return ReleaseOptions{
		InstallCRDs:        helmv2.CreateReplace,
		UpgradeCRDs:        helmv2.CreateReplace,
		Retries:            3,
		UpgradeRemediation: helmv2.RollbackRemediationStrategy,
		Timeout:            5 * time.Minute,
		UninstallTimeout:   5 * time.Minute,
		DriftDetection:     helmv2.DriftDetectionEnabled,
	}
}

// AddRelease declares what Flux needs to install rel, on the platform
// cluster next to rel.Access: copies of the chart's pull and certificate
// secrets, the OCIRepository and the HelmRelease, named name. Each is ready
// when Flux reports it ready for its current spec; deleting the HelmRelease
// waits until Flux has uninstalled the release.
func AddRelease(set *managed.Set, name string, rel Release) {
	namespace := rel.Access.Namespace
	pullSecret := addChartSecret(set, namespace, name+"-chart", rel.Chart.PullSecret)
	certSecret := addChartSecret(set, namespace, name+"-chart-ca", rel.Chart.CertSecret)
	set.Prune(managed.Platform, corev1.SchemeGroupVersion.WithKind("Secret"))

	repo := &sourcev1.OCIRepository{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
	set.Add(managed.Platform, repo, func() error {
		mutateChartSource(repo, rel.Chart, pullSecret, certSecret)
		return nil
	}).ReadyWhen(func() (bool, string) { return fluxReady(repo, sourcev1.OCIRepositoryKind) })

	release := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
	set.Add(managed.Platform, release, func() error {
		return mutateRelease(release, repo.Name, rel)
	}).ReadyWhen(func() (bool, string) { return fluxReady(release, helmv2.HelmReleaseKind) })
}

// addChartSecret copies src next to the chart's OCIRepository as name and
// returns name; "" when there is nothing to copy.
func addChartSecret(set *managed.Set, namespace, name string, src *corev1.Secret) string {
	if src == nil {
		return ""
	}
	copied := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
	set.Add(managed.Platform, copied, func() error {
		copied.Type = src.Type
		copied.Data = src.Data
		return nil
	})
	return name
}

func mutateChartSource(repo *sourcev1.OCIRepository, chart Chart, pullSecret, certSecret string) {
	repo.Spec.URL = chart.Repository
	repo.Spec.Reference = &sourcev1.OCIRepositoryRef{Tag: chart.Version}
	repo.Spec.LayerSelector = &sourcev1.OCILayerSelector{MediaType: helmChartLayer, Operation: sourcev1.OCILayerCopy}
	repo.Spec.Interval = metav1.Duration{Duration: chart.Interval}
	repo.Spec.SecretRef = localReference(pullSecret)
	repo.Spec.CertSecretRef = localReference(certSecret)
}

func localReference(name string) *fluxmeta.LocalObjectReference {
	if name == "" {
		return nil
	}
	return &fluxmeta.LocalObjectReference{Name: name}
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
	release.Spec.DependsOn = nil
	for _, name := range rel.DependsOn {
		release.Spec.DependsOn = append(release.Spec.DependsOn, helmv2.DependencyReference{Name: name, Namespace: release.Namespace})
	}
	applyReleaseOptions(&release.Spec, rel.Options)
	release.Spec.Values = &apiextensionsv1.JSON{Raw: values}
	return nil
}

func applyReleaseOptions(spec *helmv2.HelmReleaseSpec, o ReleaseOptions) {
	spec.Timeout = &metav1.Duration{Duration: o.Timeout}
	spec.Install = &helmv2.Install{CRDs: o.InstallCRDs, Remediation: &helmv2.InstallRemediation{Retries: o.Retries}}
	spec.Upgrade = &helmv2.Upgrade{CRDs: o.UpgradeCRDs, Remediation: &helmv2.UpgradeRemediation{
		Retries: o.Retries, Strategy: &o.UpgradeRemediation, RemediateLastFailure: ptr.To(true),
	}}
	spec.Uninstall = &helmv2.Uninstall{Timeout: &metav1.Duration{Duration: o.UninstallTimeout}}
	spec.DriftDetection = &helmv2.DriftDetection{Mode: o.DriftDetection}
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

// readChart reads the chart pull secret and the secret with the registry's
// certificates a version of ProviderConfig pcName names, from the
// provider's namespace on the platform cluster, into chart.
func (l *Lifecycle) readChart(ctx context.Context, pcName string, chart *Chart, pullSecret, certSecret string) error {
	platform := l.PlatformCluster.Client()
	var err error
	if chart.PullSecret, err = readChartSecret(ctx, platform, l.ProviderNamespace, pcName, "chartPullSecret", pullSecret); err != nil {
		return err
	}
	chart.CertSecret, err = readChartSecret(ctx, platform, l.ProviderNamespace, pcName, "chartCertSecret", certSecret)
	return err
}

func readChartSecret(ctx context.Context, platform client.Client, namespace, pcName, field, name string) (*corev1.Secret, error) {
	if name == "" {
		return nil, nil
	}
	var s corev1.Secret
	if err := platform.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &ConfigError{Reason: ReasonPullSecretMissing, Action: "CopyPullSecret", Message: fmt.Sprintf(
				"secret %q of %s not found in namespace %q on the platform cluster; create it there or remove it from ProviderConfig %s",
				name, field, namespace, pcName)}
		}
		return nil, fmt.Errorf("reading secret %q of %s: %w", name, field, err)
	}
	return &s, nil
}

// The values the provider adds for what it puts next to the workload
// follow the layout of the chart `helm create` writes, which most charts
// keep: volumes and volumeMounts are lists of Kubernetes volumes and mounts
// for the main container, podAnnotations a map of the pods' annotations.

// valuesInvalid reports values of version of ProviderConfig pcName that
// cannot be mapped to the chart's.
func valuesInvalid(pcName, version string, err error) error {
	return &ConfigError{Reason: ReasonValuesInvalid, Action: "MapValues", Message: fmt.Sprintf(
		"version %q of ProviderConfig %s: %v", version, pcName, err)}
}

// chartValues decodes the values a version of the ProviderConfig sets,
// to add to.
func chartValues(raw *apiextensionsv1.JSON) (map[string]any, error) {
	values := map[string]any{}
	if raw == nil {
		return values, nil
	}
	if err := json.Unmarshal(raw.Raw, &values); err != nil {
		return nil, fmt.Errorf("the values are not an object: %w", err)
	}
	return values, nil
}

// trustCABundleValues mounts the CA bundle next to the workload into the
// system's certificate directory, where Go, OpenSSL's bundle readers and
// most runtimes find it besides the system's, and annotates the pods with
// its hash: a new bundle restarts them, as a mounted file does not change.
func trustCABundleValues(values map[string]any, bundle []byte) error {
	if bundle == nil {
		return nil
	}
	volume := corev1.Volume{Name: "ca-bundle", VolumeSource: corev1.VolumeSource{
		ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: CABundleConfigMap}},
	}}
	mount := corev1.VolumeMount{Name: "ca-bundle", MountPath: CABundleMountPath, SubPath: CABundleKey, ReadOnly: true}
	sum := sha256.Sum256(bundle)
	setValue(values, "podAnnotations", CABundleHashAnnotation, hex.EncodeToString(sum[:8]))
	return addVolumeValues(values, volume, mount)
}

// serviceKubeconfigValues mount the workload's kubeconfig for the managed
// control plane at ServiceKubeconfigDir; the kubeconfig reads its token
// from that directory. Point the domain service at
// ServiceKubeconfigDir/kubeconfig in the chart's own setting for it.
func serviceKubeconfigValues(values map[string]any) error {
	volume := corev1.Volume{Name: "mcp-kubeconfig", VolumeSource: corev1.VolumeSource{
		Secret: &corev1.SecretVolumeSource{SecretName: ServiceKubeconfigSecret},
	}}
	mount := corev1.VolumeMount{Name: "mcp-kubeconfig", MountPath: ServiceKubeconfigDir, ReadOnly: true}
	return addVolumeValues(values, volume, mount)
}

// addVolumeValues appends volume and mount to the values' volumes and
// volumeMounts, after those the values already list.
func addVolumeValues(values map[string]any, volume corev1.Volume, mount corev1.VolumeMount) error {
	for key, obj := range map[string]any{"volumes": &volume, "volumeMounts": &mount} {
		item, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return err
		}
		list, _ := values[key].([]any)
		values[key] = append(list, item)
	}
	return nil
}

// setValue sets key in the map the values hold under section, creating it.
func setValue(values map[string]any, section, key string, value any) {
	m, ok := values[section].(map[string]any)
	if !ok {
		m = map[string]any{}
		values[section] = m
	}
	m[key] = value
}
